"""`SquashedMultivariateNormalDiag`: change of variables, quadrature and bounds."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import stats

from lerax.distribution import SquashedMultivariateNormalDiag, SquashedNormal

from .helpers import (
    assert_close_in_se,
    draw_scored,
    squash_reference,
    squashed_log_prob_reference,
)

LOW = np.array([-1.0, 0.0, -5.0], np.float32)
HIGH = np.array([1.0, 2.0, 7.0], np.float32)


def _squash(x):
    return LOW + (HIGH - LOW) * (jnp.tanh(x) + 1) / 2


def test_log_prob_is_the_change_of_variables_density():
    rng = np.random.default_rng(0)
    loc = rng.normal(size=(4, 3)).astype(np.float32)
    scale = np.exp(rng.normal(size=(4, 3)) * 0.5).astype(np.float32)
    x = rng.uniform(-3, 3, size=(4, 3)).astype(np.float32)
    dist = SquashedMultivariateNormalDiag(loc, scale, high=HIGH, low=LOW)
    # log|det dy/dx| of the vector map, by automatic differentiation.
    jacobians = np.asarray(jax.vmap(jax.jacfwd(_squash))(x), np.float64)
    assert jacobians.shape == (4, 3, 3)
    _, log_det = np.linalg.slogdet(jacobians)
    base = np.array(
        [
            stats.multivariate_normal(loc[b], np.diag(scale[b] ** 2)).logpdf(x[b])
            for b in range(4)
        ]
    )
    log_prob = np.asarray(dist.log_prob(jax.vmap(_squash)(x)))
    assert log_prob.shape == (4,)
    np.testing.assert_allclose(log_prob, base - log_det, rtol=2e-4, atol=2e-4)


def test_matches_independent_squashed_normals(getkey):
    loc = np.array([[0.2, -1.0, 2.0], [1.0, 0.0, -0.5]], np.float32)
    scale = np.array([[0.5, 1.5, 0.1], [3.0, 1.0, 0.7]], np.float32)
    joint = SquashedMultivariateNormalDiag(loc, scale, high=HIGH, low=LOW)
    marginal = SquashedNormal(loc, scale, high=HIGH, low=LOW)
    value = np.array([0.3, 1.9, 6.0], np.float32)
    np.testing.assert_allclose(
        joint.log_prob(value), marginal.log_prob(value).sum(-1), rtol=1e-5
    )
    np.testing.assert_allclose(
        joint.entropy(), marginal.entropy().sum(-1), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(joint.mean(), marginal.mean(), rtol=1e-6)
    np.testing.assert_allclose(joint.mode(), marginal.mode(), rtol=1e-6)
    key = getkey()
    np.testing.assert_array_equal(joint.sample(key), marginal.sample(key))


def test_sample_and_log_prob_is_exact_where_tanh_saturates(getkey):
    loc = np.array([6.0, -7.0, 9.0], np.float32)
    scale = np.array([1.0, 0.5, 2.0], np.float32)
    dist = SquashedMultivariateNormalDiag(loc, scale, high=HIGH, low=LOW)
    key = getkey()
    sample, log_prob = dist.sample_and_log_prob(key)
    x = loc + scale * np.asarray(jr.normal(key, (3,)), np.float64)
    expected = squashed_log_prob_reference(x, loc, scale, LOW, HIGH).sum()
    np.testing.assert_allclose(log_prob, expected, rtol=1e-5)
    np.testing.assert_allclose(
        sample, squash_reference(x, LOW, HIGH), rtol=1e-6, atol=1e-7
    )


def test_entropy_and_mean_match_monte_carlo(getkey):
    loc = np.array([[0.0, 1.5, -2.0], [0.3, 3.0, -0.5]], np.float32)
    scale = np.array([[0.3, 1.0, 2.5], [6.0, 0.05, 0.9]], np.float32)
    dist = SquashedMultivariateNormalDiag(loc, scale, high=HIGH, low=LOW)
    samples, log_probs = draw_scored(dist, getkey(), 100_000)
    samples, log_probs = np.asarray(samples, float), np.asarray(log_probs, float)
    assert log_probs.shape == (100_000, 2)
    n = samples.shape[0]
    assert_close_in_se(
        dist.entropy(), -log_probs.mean(0), log_probs.std(0) / np.sqrt(n), "entropy"
    )
    assert_close_in_se(
        dist.mean(), samples.mean(0), samples.std(0) / np.sqrt(n), "mean"
    )


def test_samples_lie_within_the_bounds(getkey):
    loc = np.array([[-30.0, 0.0, 30.0], [0.0, 40.0, -40.0]], np.float32)
    scale = np.array([[1.0, 50.0, 1.0], [0.01, 1.0, 1.0]], np.float32)
    dist = SquashedMultivariateNormalDiag(loc, scale, high=HIGH, low=LOW)
    # Shapes as in the Monte-Carlo test, so `draw_scored` compiles once.
    samples, log_probs = draw_scored(dist, getkey(), 100_000)
    samples = np.asarray(samples)
    assert np.all(samples >= LOW) and np.all(samples <= HIGH)
    assert np.all(np.isfinite(log_probs))
    assert np.all(np.isfinite(dist.log_prob(dist.mode())))
    np.testing.assert_allclose(
        dist.mode(), squash_reference(loc.astype(float), LOW, HIGH), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loc": np.float32(0.0), "scale_diag": 1.0}, "event axis"),
        ({"loc": np.zeros(3), "scale_diag": np.ones(2)}, "must broadcast"),
        ({"loc": np.zeros(3), "scale_diag": 1.0, "high": np.ones(2)}, "loc's shape"),
        ({"loc": np.zeros(3), "scale_diag": 1.0, "low": HIGH, "high": LOW}, "low <"),
        ({"loc": np.zeros(3), "scale_diag": 1.0, "low": -np.inf}, "non-finite"),
        ({"loc": np.zeros(3), "scale_diag": 1.0, "low": -1e39}, "non-finite"),
        (
            {"loc": np.zeros(2), "scale_diag": 1.0, "low": 1.0, "high": 1 + 1e-12},
            "round to the same value",
        ),
        ({"loc": np.zeros(3), "scale_diag": -np.ones(3)}, r"scale_diag=...\)` must"),
        ({"loc": np.zeros(3), "scale_diag": [1.0, 0.0, 1.0]}, "positive"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SquashedMultivariateNormalDiag(**kwargs)


def test_bad_device_bounds_are_caught():
    # JAX arrays go through `eqx.error_if`, also when they are concrete.
    with pytest.raises(Exception, match="low < high"):
        dist = SquashedMultivariateNormalDiag(
            jnp.zeros(3), jnp.ones(3), high=jnp.asarray(LOW), low=jnp.asarray(HIGH)
        )
        jax.block_until_ready(dist.low)


def test_value_with_wrong_event_size_raises():
    dist = SquashedMultivariateNormalDiag(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        dist.log_prob(np.zeros(2))
