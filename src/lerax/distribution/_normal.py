"""`Normal`: elementwise univariate Gaussians."""

from typing import final

import jax.numpy as jnp
from jaxtyping import Array, Float, Key

from ..utils._fusion import normal
from . import _gaussian
from ._base import AbstractDistribution
from ._utils import RealInput, as_float, broadcast_all, check_positive_scale


@final
class Normal(AbstractDistribution[Float[Array, "*batch"]]):
    """Independent Gaussians `N(loc, scale**2)`, one per entry.

    The event shape is `()`: `log_prob` and `entropy` have the (broadcast)
    shape of `loc` and `scale`.

    Attributes:
        loc: Means.
        scale: Standard deviations (positive), broadcast to `loc`'s shape.
    """

    loc: Float[Array, "*batch"]
    scale: Float[Array, "*batch"]

    def __init__(self, loc: RealInput, scale: RealInput):
        """Builds the distribution.

        Args:
            loc: Means, any shape.
            scale: Positive standard deviations, broadcasting with `loc`.

        Raises:
            ValueError: If the shapes do not broadcast, or `scale` is a
                concrete (Python or NumPy) value that is not positive. JAX
                arrays are not checked (they may be traced).
        """
        check_positive_scale(scale, "`Normal(scale=...)`")
        self.loc, self.scale = broadcast_all(
            as_float(loc, "`Normal(loc=...)`"),
            as_float(scale, "`Normal(scale=...)`"),
            what="`Normal(loc=..., scale=...)`",
        )

    def log_prob(self, value: RealInput) -> Float[Array, "*batch"]:
        value, loc, scale = broadcast_all(
            jnp.asarray(value),
            self.loc,
            self.scale,
            what="`Normal.log_prob(value)` and the batch shape",
        )
        return _gaussian.log_density(value, loc, scale)

    def sample(self, key: Key[Array, ""]) -> Float[Array, "*batch"]:
        noise = normal(key, self.loc.shape, self.loc.dtype)
        return self.loc + self.scale * noise

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
        noise = normal(key, self.loc.shape, self.loc.dtype)
        value = self.loc + self.scale * noise
        return value, _gaussian.log_density_of_noise(noise, self.scale)

    def entropy(self) -> Float[Array, "*batch"]:
        return _gaussian.entropy(self.scale)

    def mean(self) -> Float[Array, "*batch"]:
        return self.loc

    def mode(self) -> Float[Array, "*batch"]:
        return self.loc
