"""Shared cases and statistical checks for the distribution tests."""

import functools as ft
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from scipy import stats

import lerax.distribution as D

# Standard errors allowed between a Monte-Carlo estimate and the exact value.
# With a fixed seed the checks are deterministic; 5 SE is a 1-in-1.7M event.
SIGMAS = 5.0


# The tests compile many small programs; LLVM's optimisations dominate their
# compile time on CPU and buy nothing here, so the tests' own `jit`s skip them
# (same semantics, 5-10x faster compiles). Eager calls and the library's own
# jitted helpers are compiled as usual.
FAST_COMPILE = {"xla_backend_optimization_level": 0}


def jit(fun=None, **kwargs):
    """`jax.jit` with `FAST_COMPILE`; usable as `@jit` or `jit(f, ...)`."""
    if fun is None:
        return ft.partial(jit, **kwargs)
    return jax.jit(fun, compiler_options=FAST_COMPILE, **kwargs)


@jit(static_argnums=2)
def draw(dist: D.AbstractDistribution, key: jax.Array, n: int):
    """`n` independent samples of `dist`, stacked on a new leading axis."""
    return jax.vmap(dist.sample)(jr.split(key, n))


@jit(static_argnums=2)
def draw_scored(dist: D.AbstractDistribution, key: jax.Array, n: int):
    """`n` independent `sample_and_log_prob` draws, stacked on axis 0."""
    return jax.vmap(dist.sample_and_log_prob)(jr.split(key, n))


def assert_close_in_se(estimate, exact, standard_error, what: str) -> None:
    """Asserts `|estimate - exact| <= SIGMAS * standard_error (+ rounding)`."""
    estimate, exact = np.asarray(estimate, float), np.asarray(exact, float)
    bound = SIGMAS * np.asarray(standard_error, float) + 1e-5 * (1 + np.abs(exact))
    error = np.abs(estimate - exact)
    assert np.all(error <= bound), (
        f"{what}: estimate {estimate} vs exact {exact} (error {error}, allowed {bound})"
    )


def assert_frequencies(samples, probs, what: str = "frequencies") -> None:
    """Checks label frequencies along axis 0 against `probs[..., n]`.

    `samples` has shape `(N,) + probs.shape[:-1]`.
    """
    samples, probs = np.asarray(samples), np.asarray(probs, float)
    n_draws, n = samples.shape[0], probs.shape[-1]
    counts = (samples[..., None] == np.arange(n)).mean(axis=0)
    se = np.sqrt(probs * (1 - probs) / n_draws)
    assert_close_in_se(counts, probs, se, what)


def assert_moments(samples, mean, var, what: str = "samples", fourth=None) -> None:
    """Checks the sample mean and variance along axis 0.

    The variance's standard error is `sqrt((mu4 - var**2) / n)`, with `mu4`
    the fourth central moment: `fourth` if given, else the Gaussian `3 var**2`.
    """
    samples = np.asarray(samples, float)
    n_draws = samples.shape[0]
    mean, var = np.asarray(mean, float), np.asarray(var, float)
    fourth = 3 * var**2 if fourth is None else np.asarray(fourth, float)
    assert_close_in_se(
        samples.mean(axis=0), mean, np.sqrt(var / n_draws), f"{what} mean"
    )
    assert_close_in_se(
        samples.var(axis=0, ddof=1),
        var,
        np.sqrt((fourth - var**2) / n_draws),
        f"{what} variance",
    )


@dataclass(frozen=True)
class Case:
    """One concrete distribution, batched, with a valid value to score."""

    name: str
    build: Callable[[jax.Array], D.AbstractDistribution]
    """Builds the distribution from a flat parameter vector `theta`."""
    theta_size: int
    value: Callable[[], jax.Array]
    batch_shape: tuple[int, ...]
    event_shape: tuple[int, ...]


def _theta(size: int, seed: int = 0) -> jax.Array:
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=size), dtype=jnp.float32)


def theta_for(case: Case, seed: int = 0) -> jax.Array:
    """A random flat parameter vector for `case`."""
    return _theta(case.theta_size, seed)


# Every concrete distribution, with batch shape (3,). Scales go through exp so
# that any parameter vector is valid, which lets the tests differentiate and
# vmap over `theta`.
CASES = [
    Case(
        "Categorical",
        lambda t: D.Categorical(logits=jnp.reshape(t, (3, 4))),
        12,
        lambda: jnp.array([0, 3, 1]),
        (3,),
        (),
    ),
    Case(
        "Bernoulli",
        lambda t: D.Bernoulli(logits=t),
        3,
        lambda: jnp.array([True, False, True]),
        (3,),
        (),
    ),
    Case(
        "MultiCategorical",
        lambda t: D.MultiCategorical(logits=jnp.reshape(t, (3, 5)), action_dims=(2, 3)),
        15,
        lambda: jnp.array([[0, 2], [1, 0], [1, 1]]),
        (3,),
        (2,),
    ),
    Case(
        "Normal",
        lambda t: D.Normal(t[:3], jnp.exp(t[3:])),
        6,
        lambda: jnp.array([0.3, -1.0, 2.0]),
        (3,),
        (),
    ),
    Case(
        "MultivariateNormalDiag",
        lambda t: D.MultivariateNormalDiag(
            jnp.reshape(t[:6], (3, 2)), jnp.exp(jnp.reshape(t[6:], (3, 2)))
        ),
        12,
        lambda: jnp.array([[0.3, -1.0], [2.0, 0.0], [0.1, 0.2]]),
        (3,),
        (2,),
    ),
    Case(
        "SquashedNormal",
        lambda t: D.SquashedNormal(t[:3], jnp.exp(t[3:]), high=2.0, low=-0.5),
        6,
        lambda: jnp.array([0.3, -0.4, 1.9]),
        (3,),
        (),
    ),
    Case(
        "SquashedMultivariateNormalDiag",
        lambda t: D.SquashedMultivariateNormalDiag(
            jnp.reshape(t[:6], (3, 2)),
            jnp.exp(jnp.reshape(t[6:], (3, 2))),
            high=np.array([1.0, 3.0]),
            low=np.array([-1.0, 0.0]),
        ),
        12,
        lambda: jnp.array([[0.3, 2.5], [-0.9, 0.1], [0.0, 1.5]]),
        (3,),
        (2,),
    ),
]

CASE_IDS = [case.name for case in CASES]


def squash_reference(x, low, high):
    """The squashing map as the documentation states it (float64 NumPy)."""
    return low + (high - low) * (np.tanh(x) + 1) / 2


def squashed_log_prob_reference(x, loc, scale, low, high):
    """Elementwise log-density of the squashed value, from the pre-image `x`.

    float64 NumPy: `log N(x) - log|dy/dx|` with
    `dy/dx = (high - low) / 2 * (1 - tanh(x)**2)`, written with `cosh` so that it
    stays accurate where `tanh(x)` rounds to 1.
    """
    x = np.asarray(x, np.float64)
    log_jacobian = np.log((high - low) / 2) - 2 * np.log(np.cosh(x))
    return stats.norm.logpdf(x, loc, scale) - log_jacobian
