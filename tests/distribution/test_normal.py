"""`Normal` against scipy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from lerax.distribution import Normal, SquashedNormal

from .helpers import assert_moments, draw, jit

N_DRAWS = 20_000


def test_log_prob_and_entropy_match_scipy():
    rng = np.random.default_rng(0)
    loc = rng.normal(size=(2, 3)).astype(np.float32)
    scale = np.exp(rng.normal(size=(2, 3))).astype(np.float32)
    values = rng.normal(size=(4, 2, 3)).astype(np.float32) * 2
    dist = Normal(loc, scale)
    oracle = stats.norm(loc.astype(np.float64), scale.astype(np.float64))
    np.testing.assert_allclose(
        dist.log_prob(values), oracle.logpdf(values), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(dist.entropy(), oracle.entropy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(dist.mean(), loc)
    np.testing.assert_array_equal(dist.mode(), loc)


def test_parameters_broadcast():
    dist = Normal(np.zeros((2, 1), np.float32), np.array([1.0, 2.0, 3.0]))
    assert dist.loc.shape == dist.scale.shape == (2, 3)
    np.testing.assert_allclose(
        dist.log_prob(1.0),
        np.broadcast_to(stats.norm(0, [1, 2, 3]).logpdf(1.0), (2, 3)),
        rtol=1e-6,
    )
    scalar = Normal(1.0, 2.0)
    assert scalar.loc.dtype == jnp.float32 and scalar.loc.shape == ()


def test_sample_moments_match(getkey):
    loc = np.array([-1.0, 0.0, 3.0], np.float32)
    scale = np.array([0.5, 1.0, 4.0], np.float32)
    samples = draw(Normal(loc, scale), getkey(), N_DRAWS)
    assert samples.shape == (N_DRAWS, 3) and samples.dtype == jnp.float32
    assert_moments(samples, loc, scale**2, "Normal samples")


def test_shapes_that_do_not_broadcast_raise():
    with pytest.raises(ValueError, match="must broadcast"):
        Normal(np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match="must broadcast"):
        Normal(np.zeros(3), np.ones(3)).log_prob(np.zeros(2))


@pytest.mark.parametrize(
    "scale", [-1.0, 0.0, np.nan, [1.0, -1.0], np.array([0.5, 0.0])]
)
def test_concrete_non_positive_scale_raises(scale):
    with pytest.raises(ValueError, match=r"`Normal\(scale=...\)` must be positive"):
        Normal(np.zeros(2), scale)


@pytest.mark.parametrize("scale", [1e-45, np.array([1.0, 1e-40], np.float32)])
def test_concrete_subnormal_scale_raises(scale):
    # XLA reads float32 subnormals as zero: log_prob and entropy were NaN and
    # -inf (scipy's norm(0, 1e-45).logpdf(0) is 102.7, in float64)
    with pytest.raises(ValueError, match=r"smallest normal float32"):
        Normal(np.zeros(2), scale)
    assert np.isfinite(Normal(0.0, 2e-38).entropy())  # the smallest are fine


def test_jax_scales_are_not_checked():
    # No check inside jit (nor a device-to-host copy for JAX arrays).
    log_prob = jit(lambda scale: Normal(0.0, scale).log_prob(0.0))
    assert np.isnan(log_prob(jnp.float32(-1.0)))
    assert Normal(0.0, jnp.float32(-1.0)).scale == -1.0
    # under grad a Python scale is traced: d/ds log N(2; 0, s) = 4 / s**3 - 1 / s
    assert jax.grad(lambda s: Normal(0.0, s).log_prob(2.0))(1.0) == 3.0


@pytest.mark.parametrize(
    "loc, scale, name",
    [
        (None, 1.0, "loc"),
        ([[0.0], [0.0, 1.0]], 1.0, "loc"),
        (0.0, "wide", "scale"),
        (0.0, [[1.0], [1.0, 2.0]], "scale"),
    ],
)
@pytest.mark.parametrize("cls", [Normal, SquashedNormal])
def test_arguments_that_are_not_arrays_name_the_argument(cls, loc, scale, name):
    with pytest.raises(ValueError, match=rf"`{cls.__name__}\({name}=...\)`"):
        cls(loc, scale)
