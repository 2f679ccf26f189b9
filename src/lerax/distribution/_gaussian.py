"""Elementwise formulas for Gaussians with a diagonal covariance (jitted)."""

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


@jax.jit
def log_density_of_noise(
    noise: Float[Array, "*shape"], scale: Float[Array, "*shape"]
) -> Float[Array, "*shape"]:
    """Log-density of `loc + scale * noise` under `N(loc, scale**2)`.

    Scoring a draw from its standard-normal `noise` avoids the cancellation in
    `(x - loc) / scale`.
    """
    return -0.5 * jnp.square(noise) - jnp.log(scale) - _HALF_LOG_TWO_PI


@jax.jit
def log_density(
    x: Float[Array, "*shape"],
    loc: Float[Array, "*shape"],
    scale: Float[Array, "*shape"],
) -> Float[Array, "*shape"]:
    """Log-density of `x` under `N(loc, scale**2)`, elementwise."""
    return log_density_of_noise((x - loc) / scale, scale)


@jax.jit
def entropy(scale: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """Differential entropy of `N(loc, scale**2)`: `1/2 + log(sqrt(2 pi) scale)`."""
    return 0.5 + _HALF_LOG_TWO_PI + jnp.log(scale)
