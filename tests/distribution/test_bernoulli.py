"""`Bernoulli` against scipy, plus masking and argument checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from lerax.distribution import Bernoulli

from .helpers import assert_moments, draw, jit

N_DRAWS = 20_000


def test_log_prob_entropy_and_moments_match_scipy():
    logits = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32) * 2
    dist = Bernoulli(logits=logits)
    p = special.expit(logits.astype(np.float64))
    oracle = stats.bernoulli(p)
    outcomes = np.array([False, True])[:, None, None]
    values = np.broadcast_to(outcomes, (2, 2, 3))
    np.testing.assert_allclose(
        dist.log_prob(values), oracle.logpmf(values.astype(int)), rtol=1e-5
    )
    np.testing.assert_allclose(dist.entropy(), oracle.entropy(), rtol=1e-5)
    np.testing.assert_allclose(dist.probs, p, rtol=1e-6)
    np.testing.assert_allclose(dist.mean(), oracle.mean(), rtol=1e-6)
    np.testing.assert_array_equal(dist.mode(), p > 0.5)
    # probs= and logits= describe the same distribution.
    same = Bernoulli(probs=p.astype(np.float32))
    np.testing.assert_allclose(same.logits, logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(same.log_prob(values), dist.log_prob(values), rtol=1e-5)


def test_certain_outcomes():
    dist = Bernoulli(probs=np.array([0.0, 1.0, 0.5], np.float32))
    np.testing.assert_allclose(dist.entropy(), [0.0, 0.0, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(
        dist.log_prob(np.array([True, True, True])), [-np.inf, 0.0, np.log(0.5)]
    )
    np.testing.assert_allclose(
        dist.log_prob(np.array([False, False, False])), [0.0, -np.inf, np.log(0.5)]
    )
    np.testing.assert_array_equal(dist.mode(), [False, True, False])


@pytest.mark.parametrize("kwargs", [{"logits": 1.3}, {"probs": 0.7}])
def test_values_outside_zero_and_one_have_zero_probability_as_in_scipy(kwargs):
    # 2, -1 and 0.5 used to be read as True (any non-zero value)
    dist = Bernoulli(**{k: np.float32(v) for k, v in kwargs.items()})
    p = float(dist.probs)
    values = np.array([0, 1, 2, -1, 0.5, 1.0, 0.0], np.float32)
    expected = stats.bernoulli(p).logpmf(values)
    assert np.isneginf(expected[2:5]).all()
    np.testing.assert_allclose(dist.log_prob(values), expected, rtol=1e-5)
    np.testing.assert_allclose(
        jit(lambda d, x: d.log_prob(x))(dist, values), expected, rtol=1e-5
    )
    ints = np.array([0, 1, 3])
    np.testing.assert_allclose(
        dist.log_prob(ints), stats.bernoulli(p).logpmf(ints), rtol=1e-5
    )


def test_sample_moments_match(getkey):
    # Same shape as in the masking test, so `draw` compiles once.
    p = np.array([[0.1, 0.5, 0.93], [0.01, 0.7, 0.3]], np.float32)
    samples = draw(Bernoulli(probs=p), getkey(), N_DRAWS)
    assert samples.shape == (N_DRAWS, 2, 3) and samples.dtype == jnp.bool_
    var, fourth = p * (1 - p), p * (1 - p) * (1 - 3 * p + 3 * p**2)
    assert_moments(samples, p, var, "Bernoulli samples", fourth)


def test_mask_forces_false(getkey):
    logits = np.array([[3.0, -1.0, 0.5], [0.0, 4.0, -2.0]], np.float32)
    mask = np.array([[False, True, True], [True, False, False]])
    dist = Bernoulli(logits=logits).mask(mask)
    assert isinstance(dist, Bernoulli)
    p = np.where(mask, special.expit(logits.astype(np.float64)), 0.0)
    np.testing.assert_allclose(dist.probs, p, rtol=1e-6)
    true_lp = np.asarray(dist.log_prob(np.ones((2, 3), bool)))
    false_lp = np.asarray(dist.log_prob(np.zeros((2, 3), bool)))
    assert np.all(true_lp[~mask] == -np.inf)
    np.testing.assert_array_equal(false_lp[~mask], 0.0)
    np.testing.assert_allclose(dist.entropy(), stats.bernoulli(p).entropy(), atol=1e-6)
    assert not np.any(np.asarray(dist.mode())[~mask])
    samples = np.asarray(draw(dist, getkey(), N_DRAWS))
    assert not np.any(samples[:, ~mask])
    q = p[mask]
    assert_moments(
        samples[:, mask], q, q * (1 - q), fourth=q * (1 - q) * (1 - 3 * q + 3 * q**2)
    )


def test_mask_gradients_are_finite():
    logits = jnp.array([1.0, -0.5, 2.0])
    mask = jnp.array([True, False, True])

    def objective(logits):
        dist = Bernoulli(logits=logits).mask(mask)
        value = jnp.array([True, False, False])
        return jnp.sum(dist.entropy()) + jnp.sum(dist.log_prob(value))

    grad = np.asarray(jit(jax.grad(objective))(logits))
    assert np.all(np.isfinite(grad))
    assert grad[1] == 0.0
    assert np.all(np.abs(grad[[0, 2]]) > 1e-3)


@pytest.mark.parametrize(
    "kwargs", [{}, {"logits": np.zeros(3), "probs": np.full(3, 0.5)}]
)
def test_needs_exactly_one_parameter(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        Bernoulli(**kwargs)


@pytest.mark.parametrize("logits", [[np.nan], np.array([0.0, np.nan]), float("nan")])
def test_concrete_nan_logits_raise(logits):
    with pytest.raises(ValueError, match=r"`Bernoulli\(logits=...\)`.*NaN"):
        Bernoulli(logits=logits)


def test_infinite_logits_are_certain_outcomes():
    dist = Bernoulli(logits=[-np.inf, np.inf])
    np.testing.assert_array_equal(dist.probs, [0.0, 1.0])


def test_bad_mask_shape_raises():
    with pytest.raises(ValueError, match="broadcast"):
        Bernoulli(logits=np.zeros((2, 3))).mask(np.ones((2, 4), bool))


def test_probs_gradients_are_exact_at_zero_and_one():
    # Built from probs, log-probabilities are computed from them: no
    # d logits/dp = inf meets a zero in the backward pass at p = 0 or 1.
    def grad_log_prob(p, outcome):
        return float(jit(jax.grad(lambda p: Bernoulli(probs=p).log_prob(outcome)))(p))

    # d/dp log(1 - p) = -1 / (1 - p) and d/dp log p = 1 / p, analytically
    assert grad_log_prob(0.0, False) == -1.0
    assert grad_log_prob(1.0, True) == 1.0
    np.testing.assert_allclose(grad_log_prob(0.25, True), 4.0, rtol=1e-6)
    np.testing.assert_allclose(grad_log_prob(0.25, False), -4 / 3, rtol=1e-6)
    # log 0 = -inf; its gradient is infinite, kept finite (and zero) here
    assert np.isfinite(grad_log_prob(0.0, True))
    assert np.isfinite(grad_log_prob(1.0, False))

    # dH/dp = log((1 - p) / p): finite for 0 < p < 1, and kept finite at 0 and 1
    p = jnp.array([0.0, 0.25, 1.0])
    entropy_grad = np.asarray(
        jit(jax.grad(lambda p: jnp.sum(Bernoulli(probs=p).entropy())))(p)
    )
    assert np.all(np.isfinite(entropy_grad))
    np.testing.assert_allclose(entropy_grad[1], np.log(3.0), rtol=1e-6)
    mean_grad = jit(jax.grad(lambda p: jnp.sum(Bernoulli(probs=p).mean())))(p)
    np.testing.assert_array_equal(mean_grad, 1.0)

    # Masking keeps the probs (and the exact gradient at p = 1).
    masked = jit(
        jax.grad(
            lambda p: jnp.sum(
                Bernoulli(probs=p).mask(jnp.array([False, True, True])).log_prob(True)
            )
        )
    )(p)
    np.testing.assert_allclose(masked[1:], [4.0, 1.0], rtol=1e-6)
    assert np.isfinite(masked[0])


def test_saturated_sigmoid_probs_have_finite_gradients():
    # float32 sigmoid(20) is exactly 1: the gradient through probs is the
    # float32 one (sigmoid' rounds to 0), against 2.06e-9 through logits.
    def log_prob_true(x):
        return Bernoulli(probs=jax.nn.sigmoid(x)).log_prob(True)

    x = jnp.float32(20.0)
    assert float(jax.nn.sigmoid(x)) == 1.0
    grad = float(jit(jax.grad(log_prob_true))(x))
    exact = float(special.expit(-20.0))
    assert np.isfinite(grad) and abs(grad - exact) <= 1e-8
    through_logits = jit(jax.grad(lambda x: Bernoulli(logits=x).log_prob(True)))(x)
    np.testing.assert_allclose(through_logits, exact, rtol=1e-5)


@pytest.mark.parametrize("probs", [1.5, -0.1, [0.5, np.nan], np.array([0.2, 1.01])])
def test_concrete_probs_outside_the_unit_interval_raise(probs):
    with pytest.raises(ValueError, match=r"`Bernoulli\(probs=...\)`.*\[0, 1\]"):
        Bernoulli(probs=probs)


def test_traced_probs_are_not_checked():
    # No check inside jit: an invalid traced probability gives NaN.
    log_prob = jit(lambda p: Bernoulli(probs=p).log_prob(True))
    assert np.isnan(log_prob(jnp.float32(1.5)))
    np.testing.assert_allclose(log_prob(jnp.float32(0.5)), np.log(0.5), rtol=1e-6)


def test_tiny_probabilities_are_not_rounded_up():
    # P(True) must be within 2**-32 of p; comparing p with a float32 uniform
    # (a grid of step 2**-23 that includes 0) gave every p > 0 at least 2**-23,
    # which is about 12 Trues in these 1e8 draws instead of about 0.1.
    for dist in [
        Bernoulli(probs=jnp.full((10**7,), 2.0**-30)),
        Bernoulli(logits=jnp.full((10**7,), -30.0)),
    ]:
        count = jax.jit(lambda key, d=dist: jnp.sum(d.sample(key)))
        total = sum(int(count(jax.random.key(i))) for i in range(10))
        assert total <= 3


def test_sampling_is_exact_at_zero_and_one(getkey):
    probs = jnp.array([0.0, 1.0, 1.0 - 2.0**-24, 0.25])
    samples = np.asarray(draw(Bernoulli(probs=probs), getkey(), 4000))
    assert not samples[:, 0].any() and samples[:, 1].all()
    assert abs(samples[:, 3].mean() - 0.25) < 0.03
    dist = Bernoulli(logits=jnp.array([30.0, np.inf, -np.inf]))
    sample = jax.jit(lambda key: dist.sample(key))(getkey())
    assert sample.tolist() == [True, True, False]
