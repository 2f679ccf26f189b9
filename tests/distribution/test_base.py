"""Contract tests run over every concrete distribution (see `helpers.CASES`).

Each test compiles once per case: eager JAX compiles every primitive
separately, so the transformations are checked inside one `jax.jit`.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.distribution as D

from .helpers import CASE_IDS, CASES, theta_for

_DTYPES = {
    "Categorical": jnp.int32,
    "MultiCategorical": jnp.int32,
    "Bernoulli": jnp.bool_,
}


def test_abstract_classes_cannot_be_built():
    with pytest.raises(TypeError):
        D.AbstractDistribution()
    with pytest.raises(TypeError):
        D.AbstractMaskableDistribution()


def _summary(dist, value, key):
    return (dist.log_prob(value), dist.entropy(), dist.sample(key), dist.mode())


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_eager_shapes_dtypes_and_prob(case):
    dist = case.build(theta_for(case))
    assert isinstance(dist, D.AbstractDistribution)
    full = case.batch_shape + case.event_shape
    value = case.value()
    log_prob, entropy, sample, mode = _summary(dist, value, jr.key(0))
    assert sample.shape == mode.shape == full
    assert sample.dtype == mode.dtype == _DTYPES.get(case.name, jnp.float32)
    assert log_prob.shape == entropy.shape == case.batch_shape
    assert log_prob.dtype == entropy.dtype == jnp.float32
    assert np.all(np.isfinite(log_prob)) and np.all(np.isfinite(entropy))
    np.testing.assert_allclose(dist.prob(value), np.exp(log_prob), rtol=1e-6)
    # Leading sample axes broadcast against the batch shape.
    stacked = dist.log_prob(jnp.stack([value, value]))
    assert stacked.shape == (2,) + case.batch_shape
    np.testing.assert_allclose(stacked[1], log_prob, rtol=1e-6)
    if case.name in ("Categorical", "MultiCategorical"):
        with pytest.raises(NotImplementedError, match="not meaningful"):
            dist.mean()
    else:
        assert dist.mean().shape == full


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_jit_vmap_and_grad(case):
    thetas = jnp.stack([theta_for(case, seed) for seed in range(4)])
    values = jnp.stack([case.value()] * 4)
    keys = jr.split(jr.key(5), 4)

    def objective(theta, value):
        dist = case.build(theta)
        return jnp.sum(dist.log_prob(value)) + jnp.sum(dist.entropy())

    @jax.jit
    def run(thetas, values, keys, first):
        built_inside = jax.vmap(lambda t, v, k: _summary(case.build(t), v, k))(
            thetas, values, keys
        )
        # A batch of modules, built by vmap and passed to vmap as a pytree.
        dists = jax.vmap(case.build)(thetas)
        over_modules = jax.vmap(_summary)(dists, values, keys)
        passed_in = _summary(first, values[0], keys[0])
        grads = jax.vmap(jax.grad(objective))(thetas, values)
        return built_inside, over_modules, passed_in, grads

    first = case.build(thetas[0])
    built_inside, over_modules, passed_in, grads = run(thetas, values, keys, first)
    eager = _summary(first, values[0], keys[0])
    for a, b, c, d in zip(eager, built_inside, over_modules, passed_in):
        np.testing.assert_allclose(a, b[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a, c[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a, d, rtol=1e-5, atol=1e-5)
    for b, c in zip(built_inside, over_modules):
        np.testing.assert_allclose(b, c, rtol=1e-5, atol=1e-5)
    # Different parameters give different log-probabilities per batch element.
    assert not np.allclose(built_inside[0][0], built_inside[0][1])
    assert np.all(np.isfinite(grads))
    assert np.all(np.any(np.abs(grads) > 1e-3, axis=1))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sample_and_log_prob(case):
    theta = theta_for(case)
    keys = jr.split(jr.key(7), 200)

    @jax.jit
    def run(theta, keys):
        dist = case.build(theta)
        samples, joint = jax.vmap(dist.sample_and_log_prob)(keys)
        return samples, joint, jax.vmap(dist.sample)(keys), dist.log_prob(samples)

    samples, joint, alone, scored = run(theta, keys)
    np.testing.assert_array_equal(samples, alone)
    assert scored.shape == joint.shape == (200,) + case.batch_shape
    keep = np.ones(scored.shape, dtype=bool)
    if case.name.startswith("Squashed"):
        # Inverting tanh loses precision where it saturates; the squashed tests
        # check that regime against float64 instead.
        dist = case.build(theta)
        low, high = np.asarray(dist.low), np.asarray(dist.high)
        u = (np.asarray(samples) - low) / (high - low)
        interior = np.abs(u - 0.5) < 0.49
        keep = interior.all(axis=-1) if case.event_shape else interior
        assert keep.mean() > 0.5
    np.testing.assert_allclose(
        np.asarray(joint)[keep], np.asarray(scored)[keep], rtol=1e-4, atol=1e-4
    )

    if case.name not in _DTYPES:
        # Reparameterised: the sample and its log-density are differentiable.
        def objective(theta):
            sample, log_prob = case.build(theta).sample_and_log_prob(keys[0])
            return jnp.sum(sample) + jnp.sum(log_prob)

        grad = jax.jit(jax.grad(objective))(theta)
        assert np.all(np.isfinite(grad))
        assert np.any(np.abs(grad) > 1e-3)
