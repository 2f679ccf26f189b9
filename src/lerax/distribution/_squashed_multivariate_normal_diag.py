"""`SquashedMultivariateNormalDiag`: Gaussian vectors squashed onto a box."""

from typing import ClassVar, final

from jaxtyping import Array, Float

from ._squashed import AbstractSquashedGaussian, check_bounds
from ._utils import RealInput, as_float, broadcast_all, check_positive_scale


@final
class SquashedMultivariateNormalDiag(AbstractSquashedGaussian):
    """A diagonal Gaussian vector squashed by `tanh` onto `[low, high]`.

    The event is the last axis: `log_prob` and `entropy` sum over it. Each
    coordinate is `low + (high - low) (tanh(x) + 1) / 2` with
    `x ~ N(loc, diag(scale_diag**2))`; see `AbstractSquashedGaussian` (in
    `lerax.distribution._squashed`) for how log-probabilities, the entropy
    and the mean are computed.

    Attributes:
        loc: Means of the base Gaussian, shape `batch_shape + (d,)`.
        scale_diag: Standard deviations of the base Gaussian, shaped like `loc`.
        low: Lower bounds, shaped like `loc`.
        high: Upper bounds, shaped like `loc`.
    """

    loc: Float[Array, "*batch d"]
    scale_diag: Float[Array, "*batch d"]
    low: Float[Array, "*batch d"]
    high: Float[Array, "*batch d"]
    event_ndim: ClassVar[int] = 1

    def __init__(
        self,
        loc: RealInput,
        scale_diag: RealInput,
        high: RealInput = 1.0,
        low: RealInput = -1.0,
    ):
        """Builds the distribution.

        Args:
            loc: Means of the base Gaussian, shape `(..., d)`.
            scale_diag: Positive standard deviations, broadcasting with `loc`
                (a scalar is shared by every coordinate).
            high: Upper bounds, broadcasting to the parameters' shape (e.g. a
                `Box`'s `high` of shape `(d,)`).
            low: Lower bounds, broadcasting to the parameters' shape.

        Raises:
            ValueError: If the shapes do not broadcast, or broadcast to a
                scalar (no event axis), a concrete (Python or NumPy)
                `scale_diag` is not positive, or concrete bounds are not
                finite with `low < high` in the parameters' dtype (traced
                bounds are checked with `eqx.error_if`; a JAX `scale_diag` is
                not checked).
        """
        cls = "SquashedMultivariateNormalDiag"
        check_positive_scale(scale_diag, f"`{cls}(scale_diag=...)`")
        loc = as_float(loc, f"`{cls}(loc=...)`")
        scale_diag = as_float(scale_diag, f"`{cls}(scale_diag=...)`")
        self.loc, self.scale_diag = broadcast_all(
            loc, scale_diag, what=f"`{cls}(loc=..., scale_diag=...)`"
        )
        if self.loc.ndim == 0:
            raise ValueError(
                f"`{cls}(loc=..., scale_diag=...)` needs an event axis, shape "
                "(..., d), got scalars; use `SquashedNormal` for scalars."
            )
        self.low, self.high = check_bounds(low, high, self.loc, cls)

    def _scale(self) -> Float[Array, "*batch d"]:
        return self.scale_diag
