"""`SquashedNormal`: elementwise Gaussians squashed by `tanh` onto a box."""

from typing import ClassVar, final

from jaxtyping import Array, Float

from ._squashed import AbstractSquashedGaussian, check_bounds
from ._utils import RealInput, as_float, broadcast_all, check_positive_scale


@final
class SquashedNormal(AbstractSquashedGaussian):
    """`low + (high - low) (tanh(x) + 1) / 2` with `x ~ N(loc, scale**2)`, elementwise.

    The event shape is `()`. Samples lie in `[low, high]`; see
    `AbstractSquashedGaussian` (in `lerax.distribution._squashed`) for how
    log-probabilities, the entropy and the mean are computed.

    Attributes:
        loc: Means of the base Gaussian.
        scale: Standard deviations of the base Gaussian, shaped like `loc`.
        low: Lower bounds, shaped like `loc`.
        high: Upper bounds, shaped like `loc`.
    """

    loc: Float[Array, "*batch"]
    scale: Float[Array, "*batch"]
    low: Float[Array, "*batch"]
    high: Float[Array, "*batch"]
    event_ndim: ClassVar[int] = 0

    def __init__(
        self,
        loc: RealInput,
        scale: RealInput,
        high: RealInput = 1.0,
        low: RealInput = -1.0,
    ):
        """Builds the distribution.

        Args:
            loc: Means of the base Gaussian, any shape.
            scale: Positive standard deviations, broadcasting with `loc`.
            high: Upper bounds, broadcasting to the parameters' shape.
            low: Lower bounds, broadcasting to the parameters' shape.

        Raises:
            ValueError: If the shapes do not broadcast, a concrete (Python or
                NumPy) `scale` is not positive, or concrete bounds are not
                finite with `low < high` in the parameters' dtype (traced
                bounds are checked with `eqx.error_if`; a JAX `scale` is not
                checked).
        """
        check_positive_scale(scale, "`SquashedNormal(scale=...)`")
        self.loc, self.scale = broadcast_all(
            as_float(loc, "`SquashedNormal(loc=...)`"),
            as_float(scale, "`SquashedNormal(scale=...)`"),
            what="`SquashedNormal(loc=..., scale=...)`",
        )
        self.low, self.high = check_bounds(low, high, self.loc, "SquashedNormal")

    def _scale(self) -> Float[Array, "*batch"]:
        return self.scale
