"""Gaussian expectations of `tanh` and of its log-derivative, by quadrature.

A tanh-squashed Gaussian has no closed-form mean or entropy; both reduce to
one-dimensional expectations over the base Gaussian `X ~ N(loc, scale**2)`:

- `E[tanh(X)]`, for the mean;
- `E[log(1 - tanh(X)**2)]`, the expected log-Jacobian, for the entropy.

Two fixed rules make these accurate at every scale (both deterministic, so
they can be differentiated and jitted):

- `scale < 1`: 32-node Gauss–Hermite quadrature of the (analytic) integrand.
  Its error grows with the scale because the integrand's complex poles at
  `x = +-i pi/2` come closer to the real axis in standardised units.
- `scale >= 1`: the integrands are split as `tanh x = sign(x) (1 - q(|x|))`
  and `log(1 - tanh x**2) = 2 log 2 - 2 |x| - 2 r(|x|)` with
  `q(x) = 2 / (1 + exp(2x))` and `r(x) = log(1 + exp(-2x))`. `E[sign X]` and
  `E|X|` have closed forms (via `erf`, the latter is the folded-normal mean)
  and the remainders, which decay like `exp(-2x)`, are integrated over
  `x > 0` by 32-node Gauss–Laguerre quadrature.

In float64 the error is below 1e-6 for every `loc` and `scale`, and far
smaller away from `scale ~ 1`; in float32 it is at rounding level.
"""

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from jaxtyping import Array, Float

from ._utils import trailing

_NODES = 32
_LOG_TWO = math.log(2.0)

_hermite_t, _hermite_w = np.polynomial.hermite.hermgauss(_NODES)
# Standard-normal nodes and weights: E[f(Z)] ~ sum(w * f(z)).
_HERMITE_Z = _hermite_t * math.sqrt(2.0)
_HERMITE_W = _hermite_w / math.sqrt(math.pi)

_laguerre_s, _laguerre_w = np.polynomial.laguerre.laggauss(_NODES)
# With x = s / 2, integral_0^inf e^{-2x} h(2x) g(x) dx = 1/2 sum w h(s) g(s / 2);
# q(x) = e^{-2x} 2 / (1 + e^{-2x}) and r(x) = e^{-2x} log1p(e^{-2x}) e^{2x}.
_LAGUERRE_X = _laguerre_s / 2
_LAGUERRE_W_Q = 0.5 * _laguerre_w * 2.0 / (1.0 + np.exp(-_laguerre_s))
_LAGUERRE_W_R = 0.5 * _laguerre_w * np.log1p(np.exp(-_laguerre_s)) * np.exp(_laguerre_s)


@jax.jit
def log_dtanh(x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """`log(1 - tanh(x)**2)`, stable for large `|x|`: `2 (log 2 - x - softplus(-2x))`."""
    return 2.0 * (_LOG_TWO - x - jnp.logaddexp(0.0, -2.0 * x))


def _hermite(f, loc: Array, scale: Array) -> Array:
    ndim = loc.ndim + 1
    x = loc[..., None] + scale[..., None] * trailing(_HERMITE_Z.astype(loc.dtype), ndim)
    return jnp.sum(f(x) * trailing(_HERMITE_W.astype(loc.dtype), ndim), axis=-1)


def _laguerre_parts(loc: Array, scale: Array) -> tuple[Array, Array, Array]:
    """`(E|X|, E[sign X q(|X|)], E[r(|X|)])` for `scale >= 1`."""
    ndim = loc.ndim + 1
    x = trailing(_LAGUERRE_X.astype(loc.dtype), ndim)
    mu, sigma = loc[..., None], scale[..., None]
    norm = 1.0 / (sigma * math.sqrt(2.0 * math.pi))
    right = norm * jnp.exp(-0.5 * jnp.square((x - mu) / sigma))
    left = norm * jnp.exp(-0.5 * jnp.square((x + mu) / sigma))
    w_q = trailing(_LAGUERRE_W_Q.astype(loc.dtype), ndim)
    w_r = trailing(_LAGUERRE_W_R.astype(loc.dtype), ndim)
    signed_q = jnp.sum(w_q * (right - left), axis=-1)
    r = jnp.sum(w_r * (right + left), axis=-1)
    folded_mean = scale * math.sqrt(2.0 / math.pi) * jnp.exp(
        -0.5 * jnp.square(loc / scale)
    ) + loc * jss.erf(loc / (scale * math.sqrt(2.0)))
    return folded_mean, signed_q, r


@jax.jit
def expected_tanh(
    loc: Float[Array, "*shape"], scale: Float[Array, "*shape"]
) -> Float[Array, "*shape"]:
    """`E[tanh(X)]` for `X ~ N(loc, scale**2)`, elementwise (same shapes)."""
    wide = scale >= 1.0
    wide_scale = jnp.where(wide, scale, 1.0)
    _, signed_q, _ = _laguerre_parts(loc, wide_scale)
    sign_mean = jss.erf(loc / (wide_scale * math.sqrt(2.0)))
    return jnp.where(wide, sign_mean - signed_q, _hermite(jnp.tanh, loc, scale))


@jax.jit
def expected_log_dtanh(
    loc: Float[Array, "*shape"], scale: Float[Array, "*shape"]
) -> Float[Array, "*shape"]:
    """`E[log(1 - tanh(X)**2)]` for `X ~ N(loc, scale**2)`, elementwise."""
    wide = scale >= 1.0
    wide_scale = jnp.where(wide, scale, 1.0)
    folded_mean, _, r = _laguerre_parts(loc, wide_scale)
    split = 2.0 * (_LOG_TWO - folded_mean - r)
    return jnp.where(wide, split, _hermite(log_dtanh, loc, scale))
