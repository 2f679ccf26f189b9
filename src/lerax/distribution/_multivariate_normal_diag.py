"""`MultivariateNormalDiag`: Gaussian vectors with a diagonal covariance."""

from typing import final

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Key

from ..utils._fusion import normal
from . import _gaussian
from ._base import AbstractDistribution
from ._utils import (
    RealInput,
    as_float,
    broadcast_all,
    broadcast_batch,
    check_positive_scale,
)


@final
class MultivariateNormalDiag(AbstractDistribution[Float[Array, "*batch d"]]):
    """Gaussian vectors `N(loc, diag(scale_diag**2))`, batched over leading axes.

    The event is the last axis (length `d`): `log_prob` and `entropy` sum
    over it and return the batch shape.

    Attributes:
        loc: Means, shape `batch_shape + (d,)`.
        scale_diag: Standard deviations (positive), same shape as `loc`.
    """

    loc: Float[Array, "*batch d"]
    scale_diag: Float[Array, "*batch d"]

    def __init__(
        self,
        loc: RealInput | None = None,
        scale_diag: RealInput | None = None,
    ):
        """Builds the distribution.

        Args:
            loc: Means, shape `(..., d)`; zeros of `scale_diag`'s shape if None.
            scale_diag: Positive standard deviations, shape `(..., d)`; ones
                of `loc`'s shape if None.

        Raises:
            ValueError: If both are None, their shapes do not broadcast or
                broadcast to a scalar (no event axis), or `scale_diag` is a
                concrete (Python or NumPy) value that is not positive. JAX
                arrays are not checked (they may be traced).
        """
        if loc is None and scale_diag is None:
            raise ValueError(
                "`MultivariateNormalDiag(loc=..., scale_diag=...)` needs at least "
                "one of `loc` and `scale_diag`."
            )
        if loc is not None:
            loc = as_float(loc, "`MultivariateNormalDiag(loc=...)`")
        if scale_diag is not None:
            check_positive_scale(scale_diag, "`MultivariateNormalDiag(scale_diag=...)`")
            scale_diag = as_float(
                scale_diag, "`MultivariateNormalDiag(scale_diag=...)`"
            )
        if loc is None:
            loc = jnp.zeros_like(scale_diag)
        if scale_diag is None:
            scale_diag = jnp.ones_like(loc)
        self.loc, self.scale_diag = broadcast_all(
            loc, scale_diag, what="`MultivariateNormalDiag(loc=..., scale_diag=...)`"
        )
        if self.loc.ndim == 0:
            raise ValueError(
                "`MultivariateNormalDiag(loc=..., scale_diag=...)` needs an event "
                "axis, shape (..., d), got scalars; use `Normal` for scalars."
            )

    def _check_value(self, value: ArrayLike) -> Array:
        value = jnp.asarray(value)
        d = self.loc.shape[-1]
        if value.ndim == 0 or value.shape[-1] != d:
            raise ValueError(
                f"`MultivariateNormalDiag.log_prob(value)` needs values of shape "
                f"(..., {d}), got {value.shape}."
            )
        return value

    def log_prob(self, value: RealInput) -> Float[Array, "*batch"]:
        what = "`MultivariateNormalDiag.log_prob(value)` and the batch shape"
        value, loc = broadcast_batch(self._check_value(value), self.loc, 1, what)
        _, scale = broadcast_batch(value, self.scale_diag, 1, what)
        return jnp.sum(_gaussian.log_density(value, loc, scale), axis=-1)

    def sample(self, key: Key[Array, ""]) -> Float[Array, "*batch d"]:
        noise = normal(key, self.loc.shape, self.loc.dtype)
        return self.loc + self.scale_diag * noise

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, "*batch d"], Float[Array, "*batch"]]:
        noise = normal(key, self.loc.shape, self.loc.dtype)
        value = self.loc + self.scale_diag * noise
        log_prob = _gaussian.log_density_of_noise(noise, self.scale_diag)
        return value, jnp.sum(log_prob, axis=-1)

    def entropy(self) -> Float[Array, "*batch"]:
        return jnp.sum(_gaussian.entropy(self.scale_diag), axis=-1)

    def mean(self) -> Float[Array, "*batch d"]:
        return self.loc

    def mode(self) -> Float[Array, "*batch d"]:
        return self.loc
