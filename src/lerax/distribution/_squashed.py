"""Gaussians squashed by `tanh` onto a box: the common machinery.

A squashed Gaussian is the law of `y = low + (high - low) (tanh(x) + 1) / 2`
with `x` Gaussian; equivalently `y = centre + half_width tanh(x)`. Its
log-density follows from the change of variables

    log p(y) = log N(x; loc, scale) - log(half_width) - log(1 - tanh(x)**2),

with `log(1 - tanh(x)**2) = 2 (log 2 - x - softplus(-2x))`, which stays
finite and accurate for large `|x|`.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Key

from ..utils._fusion import normal
from . import _gaussian, _quadrature
from ._base import AbstractDistribution
from ._utils import RealInput, broadcast_batch, sum_last


def check_bounds(
    low: ArrayLike, high: ArrayLike, loc: Array, cls: str
) -> tuple[Float[Array, "*batch"], Float[Array, "*batch"]]:
    """Broadcasts the bounds to `loc`'s shape and dtype and checks them.

    The bounds are checked as they are stored, i.e. after rounding to `loc`'s
    dtype (float32 unless x64 is on): they must be finite with `low < high`
    and a finite width `high - low`. A bound beyond the dtype's range would
    become infinite, and bounds closer than its precision would become equal;
    either makes samples, means or log-probabilities NaN.

    Host values (Python numbers, NumPy arrays) are checked at once and raise
    `ValueError`. JAX arrays, which may be traced, are checked with
    `eqx.error_if`, whose failure surfaces as a runtime error.

    Args:
        low: Lower bounds.
        high: Upper bounds.
        loc: The location parameter; its shape and dtype are used.
        cls: The class name, for error messages.

    Raises:
        ValueError: If the bounds do not broadcast to `loc`'s shape, or are
            host values that are not finite and ordered once stored.
    """
    shape, dtype = loc.shape, loc.dtype
    name = np.dtype(dtype).name
    message = (
        f"`{cls}(high=..., low=...)` must be finite with low < high everywhere "
        f"in {name}, the parameters' dtype"
    )
    try:
        np.broadcast_shapes(np.shape(low), shape)
        np.broadcast_shapes(np.shape(high), shape)
        if np.broadcast_shapes(np.shape(low), np.shape(high), shape) != shape:
            raise ValueError
    except ValueError as error:
        raise ValueError(
            f"`{cls}(high=..., low=...)` must broadcast to loc's shape {shape}, got "
            f"shapes {np.shape(high)} and {np.shape(low)}."
        ) from error
    if not isinstance(low, jax.Array) and not isinstance(high, jax.Array):
        with np.errstate(over="ignore", invalid="ignore"):
            low_np = np.broadcast_to(np.asarray(low, dtype=dtype), shape)
            high_np = np.broadcast_to(np.asarray(high, dtype=dtype), shape)
            width = high_np - low_np
        if not (np.all(np.isfinite(low_np)) and np.all(np.isfinite(high_np))):
            raise ValueError(
                f"{message}; got non-finite bounds in {name} (its largest value "
                f"is {np.finfo(dtype).max:.3g}): low={low!r}, high={high!r}."
            )
        if not np.all(low_np < high_np):
            exact = np.asarray(low, np.float64) < np.asarray(high, np.float64)
            hint = (
                f" (ordered, but closer than {name}'s precision, so that they "
                "round to the same value: widen the interval)"
                if np.all(exact)
                else ""
            )
            raise ValueError(f"{message}; got low={low!r}, high={high!r}{hint}.")
        if not np.all(np.isfinite(width)):
            raise ValueError(
                f"{message}; got low={low!r}, high={high!r}, whose width "
                f"high - low overflows {name}: narrow the interval."
            )
        return jnp.asarray(low_np), jnp.asarray(high_np)
    low_j = jnp.broadcast_to(jnp.asarray(low, dtype=dtype), shape)
    high_j = jnp.broadcast_to(jnp.asarray(high, dtype=dtype), shape)
    bad = ~(
        jnp.isfinite(low_j)
        & jnp.isfinite(high_j)
        & (low_j < high_j)
        & jnp.isfinite(high_j - low_j)
    )
    return eqx.error_if(
        (low_j, high_j), bad, f"{message}, with a finite width high - low."
    )


# The elementwise maths, jitted so that eager use compiles each function once
# per shape rather than once per primitive. All arrays share one shape.


@jax.jit
def _squash(x: Array, low: Array, high: Array) -> Array:
    # (tanh(x) + 1) / 2 = sigmoid(2x). Measuring from the nearer bound keeps
    # values close to a bound accurate to float32 relative precision.
    width = high - low
    from_low = low + width * jax.nn.sigmoid(2 * x)
    from_high = high - width * jax.nn.sigmoid(-2 * x)
    return jnp.clip(jnp.where(x < 0, from_low, from_high), low, high)


def _log_det(x: Array, low: Array, high: Array) -> Array:
    """`log |dy/dx|` at the pre-image `x`."""
    return jnp.log((high - low) / 2) + _quadrature.log_dtanh(x)


@jax.jit
def _log_prob(value: Array, loc: Array, scale: Array, low: Array, high: Array):
    # x = atanh(u) for u = (value - centre) / half_width, written as
    # 0.5 log((value - low) / (high - value)) to avoid the cancellation in
    # 1 -+ u. Clipping both distances at eps * half_width is clipping u to
    # [-1 + eps, 1 - eps].
    value = jnp.clip(value, low, high)
    floor = jnp.finfo(value.dtype).epsneg * (high - low) / 2
    to_low = jnp.maximum(value - low, floor)
    to_high = jnp.maximum(high - value, floor)
    x = 0.5 * (jnp.log(to_low) - jnp.log(to_high))
    return _gaussian.log_density(x, loc, scale) - _log_det(x, low, high)


@jax.jit
def _sample_and_log_prob(
    noise: Array, loc: Array, scale: Array, low: Array, high: Array
) -> tuple[Array, Array]:
    x = loc + scale * noise
    log_prob = _gaussian.log_density_of_noise(noise, scale) - _log_det(x, low, high)
    return _squash(x, low, high), log_prob


@jax.jit
def _entropy(loc: Array, scale: Array, low: Array, high: Array) -> Array:
    # H[y] = H[x] + E[log |dy/dx|], as the squashing is a bijection.
    return (
        _gaussian.entropy(scale)
        + jnp.log((high - low) / 2)
        + _quadrature.expected_log_dtanh(loc, scale)
    )


@jax.jit
def _mean(loc: Array, scale: Array, low: Array, high: Array) -> Array:
    expected_tanh = _quadrature.expected_tanh(loc, scale)
    return (high + low) / 2 + (high - low) / 2 * expected_tanh


class AbstractSquashedGaussian(AbstractDistribution[Float[Array, "*sample"]]):
    """A diagonal Gaussian pushed through `tanh` and rescaled onto `[low, high]`.

    `log_prob(y)` inverts the squashing with a clipped `atanh` (values at or
    beyond a bound score as if `(y - centre) / half_width` were `+-(1 - eps)`,
    with `eps` the float32 spacing below 1). `sample_and_log_prob` instead
    scores the draw from the pre-squash Gaussian sample, which stays accurate
    when `tanh` saturates; this is the one to use for SAC-style objectives.
    Both `sample` and `sample_and_log_prob` draw
    `x = loc + scale * jax.random.normal(key, loc.shape)`, so one key gives
    the same sample from either.

    `entropy()` and `mean()` have no closed form: they are computed
    deterministically by quadrature over the base Gaussian (see
    `lerax.distribution._quadrature`), to float32 rounding for any scale.
    `mode()` is the squashed `loc` (the mode of the base Gaussian, mapped
    through the squashing; not the argmax of the squashed density).

    Attributes:
        loc: Means of the base Gaussian.
        low: Lower bounds, broadcast to `loc`'s shape.
        high: Upper bounds, broadcast to `loc`'s shape.
        event_ndim: Number of trailing event axes (0 or 1).
    """

    loc: eqx.AbstractVar[Float[Array, "*sample"]]
    low: eqx.AbstractVar[Float[Array, "*sample"]]
    high: eqx.AbstractVar[Float[Array, "*sample"]]
    event_ndim: eqx.AbstractClassVar[int]

    @abc.abstractmethod
    def _scale(self) -> Float[Array, "*sample"]:
        """The base Gaussian's standard deviations, shaped like `loc`."""

    def _params(self) -> tuple[Array, Array, Array, Array]:
        return self.loc, self._scale(), self.low, self.high

    def log_prob(self, value: RealInput) -> Float[Array, "*batch"]:
        value = jnp.asarray(value)
        if self.event_ndim and (
            value.ndim == 0 or value.shape[-1] != self.loc.shape[-1]
        ):
            raise ValueError(
                f"`{type(self).__name__}.log_prob(value)` needs values of shape "
                f"(..., {self.loc.shape[-1]}), got {value.shape}."
            )
        value, _ = broadcast_batch(
            value,
            self.loc,
            self.event_ndim,
            f"`{type(self).__name__}.log_prob(value)` and the batch shape",
        )
        params = (jnp.broadcast_to(a, value.shape) for a in self._params())
        return sum_last(_log_prob(value, *params), self.event_ndim)

    def sample(self, key: Key[Array, ""]) -> Float[Array, "*sample"]:
        sample, _ = self.sample_and_log_prob(key)
        return sample

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Float[Array, "*sample"], Float[Array, "*batch"]]:
        noise = normal(key, self.loc.shape, self.loc.dtype)
        sample, log_prob = _sample_and_log_prob(noise, *self._params())
        return sample, sum_last(log_prob, self.event_ndim)

    def entropy(self) -> Float[Array, "*batch"]:
        return sum_last(_entropy(*self._params()), self.event_ndim)

    def mean(self) -> Float[Array, "*sample"]:
        return _mean(*self._params())

    def mode(self) -> Float[Array, "*sample"]:
        return _squash(self.loc, self.low, self.high)
