"""`SquashedNormal`: change of variables, quadrature and bounds."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.distribution import SquashedNormal

from .helpers import (
    assert_close_in_se,
    draw_scored,
    jit,
    squash_reference,
    squashed_log_prob_reference,
)

LOW = np.array([-1.0, 0.0, -5.0], np.float32)
HIGH = np.array([1.0, 2.0, 7.0], np.float32)


def _squash(x, low, high):
    return low + (high - low) * (jnp.tanh(x) + 1) / 2


def test_log_prob_is_the_change_of_variables_density():
    rng = np.random.default_rng(0)
    loc = rng.normal(size=(4, 3)).astype(np.float32)
    scale = np.exp(rng.normal(size=(4, 3)) * 0.5).astype(np.float32)
    x = rng.uniform(-3, 3, size=(4, 3)).astype(np.float32)
    dist = SquashedNormal(loc, scale, high=HIGH, low=LOW)
    low, high = np.broadcast_to(LOW, x.shape), np.broadcast_to(HIGH, x.shape)
    y = _squash(x, low, high)
    # |dy/dx| by automatic differentiation of the squashing map.
    derivative = jax.vmap(jax.jacfwd(_squash))(x.ravel(), low.ravel(), high.ravel())
    log_det = np.log(np.abs(np.asarray(derivative, np.float64))).reshape(x.shape)
    expected = squashed_log_prob_reference(x, loc, scale, low, high)
    np.testing.assert_allclose(
        expected, squashed_log_prob_reference(x, loc, scale, low, high), rtol=1e-12
    )
    from scipy import stats

    np.testing.assert_allclose(
        dist.log_prob(y),
        stats.norm.logpdf(x, loc, scale) - log_det,
        rtol=2e-4,
        atol=2e-4,
    )
    np.testing.assert_allclose(dist.log_prob(y), expected, rtol=2e-4, atol=2e-4)


def test_sample_and_log_prob_is_exact_where_tanh_saturates(getkey):
    # Means far out: most draws have |x| > 5, where 1 - tanh(x)^2 < 1e-4 and
    # inverting float32 values near the bounds would lose the log-density.
    loc = np.array([6.0, -7.0, 9.0], np.float32)
    scale = np.array([1.0, 0.5, 2.0], np.float32)
    dist = SquashedNormal(loc, scale, high=HIGH, low=LOW)
    key = getkey()
    sample, log_prob = dist.sample_and_log_prob(key)
    x = loc + scale * np.asarray(jr.normal(key, (3,)), np.float64)
    np.testing.assert_allclose(
        log_prob, squashed_log_prob_reference(x, loc, scale, LOW, HIGH), rtol=1e-5
    )
    np.testing.assert_allclose(sample, squash_reference(x, LOW, HIGH), rtol=1e-6)
    np.testing.assert_array_equal(sample, dist.sample(key))


def test_entropy_and_mean_match_monte_carlo(getkey):
    # Scales on both sides of 1, where the quadrature switches rules.
    loc = np.array([0.0, 1.5, -2.0, 0.3, 3.0, -0.5], np.float32)
    scale = np.array([0.3, 1.0, 2.5, 6.0, 0.05, 0.9], np.float32)
    low, high = np.float32(-2.0), np.float32(3.0)
    dist = SquashedNormal(loc, scale, high=high, low=low)
    samples, log_probs = draw_scored(dist, getkey(), 100_000)
    samples, log_probs = np.asarray(samples, float), np.asarray(log_probs, float)
    n = samples.shape[0]
    assert_close_in_se(
        dist.entropy(), -log_probs.mean(0), log_probs.std(0) / np.sqrt(n), "entropy"
    )
    assert_close_in_se(
        dist.mean(), samples.mean(0), samples.std(0) / np.sqrt(n), "mean"
    )


def test_mode_and_bounds(getkey):
    loc = np.array([-30.0, 0.0, 30.0, 0.5, 40.0, -0.3], np.float32)
    scale = np.array([1.0, 50.0, 1.0, 0.2, 0.01, 1.0], np.float32)
    dist = SquashedNormal(loc, scale, high=2.0, low=0.5)
    # Shapes as in the Monte-Carlo test, so `draw_scored` compiles once.
    samples, log_probs = draw_scored(dist, getkey(), 100_000)
    samples = np.asarray(samples)
    assert samples.min() >= 0.5 and samples.max() <= 2.0
    assert np.any(samples == 0.5) and np.any(samples == 2.0)
    assert np.all(np.isfinite(log_probs))
    assert np.all(np.isfinite(dist.log_prob(dist.mode())))
    np.testing.assert_allclose(
        dist.mode(), squash_reference(loc.astype(float), 0.5, 2.0), rtol=1e-6
    )
    np.testing.assert_allclose(np.asarray(dist.mode())[[0, 2, 4]], [0.5, 2.0, 2.0])


def test_bounds_broadcast_to_loc():
    dist = SquashedNormal(np.zeros((2, 3)), 1.0, high=HIGH, low=LOW)
    assert dist.low.shape == dist.high.shape == dist.scale.shape == (2, 3)
    np.testing.assert_array_equal(dist.high[1], HIGH)
    np.testing.assert_allclose(dist.mean()[0], (LOW + HIGH) / 2, atol=1e-6)


def test_entropy_gradient_is_finite_across_the_quadrature_switch():
    def entropy(log_scale):
        return jnp.sum(SquashedNormal(0.3, jnp.exp(log_scale)).entropy())

    log_scale = jnp.log(jnp.array([0.5, 0.999, 1.0, 1.001, 4.0]))
    grad = np.asarray(jit(jax.grad(entropy))(log_scale))
    assert np.all(np.isfinite(grad))
    # The entropy is continuous (and smooth) where the rules switch.
    values = jax.vmap(lambda s: SquashedNormal(0.3, s).entropy())(jnp.exp(log_scale))
    assert abs(values[2] - values[1]) < 1e-3 and abs(values[3] - values[2]) < 1e-3
    np.testing.assert_allclose(grad[1:4], grad[2], rtol=1e-2)


@pytest.mark.parametrize(
    "high, low, match",
    [
        (1.0, 1.0, "low < high"),
        (-1.0, 1.0, "low < high"),
        (np.inf, -1.0, "non-finite"),
        (1.0, np.array([-1.0, np.nan, -1.0]), "non-finite"),
        (np.ones(4), -1.0, "must broadcast to loc's shape"),
        # checked as stored, in float32: finite and ordered in float64 only
        (1e39, -1e39, "non-finite bounds in float32"),
        (1.0 + 1e-12, 1.0, "round to the same value"),
        (np.array([1.0, 1.0 + 1e-12, 2.0]), np.array([0.0, 1.0, 0.0]), "float32"),
        (3e38, -3e38, "width high - low overflows float32"),
    ],
)
def test_bad_bounds_raise(high, low, match):
    with pytest.raises(ValueError, match=match):
        SquashedNormal(np.zeros(3), np.ones(3), high=high, low=low)


def test_bounds_close_to_float32_limits_stay_finite(getkey):
    # What passes the check keeps samples, means and log-probabilities finite.
    dist = SquashedNormal(0.0, 1.0, high=1.0 + 1e-6, low=1.0)
    assert dist.low.dtype == jnp.float32 and dist.low < dist.high
    wide = SquashedNormal(0.0, 1.0, high=1e38, low=-1e38)
    for d in (dist, wide):
        sample, log_prob = d.sample_and_log_prob(getkey())
        assert np.isfinite(sample) and np.isfinite(log_prob)
        assert np.isfinite(d.mean()) and np.isfinite(d.log_prob(d.mode()))


@pytest.mark.parametrize("scale", [-1.0, 0.0, np.nan, np.array([1.0, -2.0, 1.0])])
def test_concrete_non_positive_scale_raises(scale):
    with pytest.raises(ValueError, match=r"`SquashedNormal\(scale=...\)`.*positive"):
        SquashedNormal(np.zeros(3), scale)


def test_traced_bad_bounds_are_caught_at_run_time():
    @jit
    def entropy(low):
        return SquashedNormal(jnp.zeros(3), jnp.ones(3), high=1.0, low=low).entropy()

    assert np.all(np.isfinite(entropy(jnp.float32(-1.0))))
    with pytest.raises(Exception, match="low < high"):
        jax.block_until_ready(entropy(jnp.float32(2.0)))


def test_shapes_that_do_not_broadcast_raise():
    with pytest.raises(ValueError, match="must broadcast"):
        SquashedNormal(np.zeros(3), np.ones(2))
