"""Contract tests run over every concrete distribution (see `helpers.CASES`).

Eager JAX compiles every primitive separately, which is slow on CPU, so each
case is checked eagerly once and otherwise inside a single `jax.jit`.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest

import lerax.distribution as D

from .helpers import CASE_IDS, CASES, jit, theta_for

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


def _interior(case, dist, samples):
    """Where squashed samples are away from the bounds (everywhere otherwise)."""
    if not case.name.startswith("Squashed"):
        return np.ones(samples.shape[: samples.ndim - len(case.event_shape)], bool)
    low, high = np.asarray(dist.low), np.asarray(dist.high)
    inside = np.abs((np.asarray(samples) - low) / (high - low) - 0.5) < 0.49
    return inside.all(axis=-1) if case.event_shape else inside


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_contract(case):
    thetas = jnp.stack([theta_for(case, seed) for seed in range(4)])
    values = jnp.stack([case.value()] * 4)
    key = jr.key(5)
    discrete = case.name in _DTYPES
    labels = case.name in ("Categorical", "MultiCategorical")

    def objective(theta, value):
        dist = case.build(theta)
        return jnp.sum(dist.log_prob(value)) + jnp.sum(dist.entropy())

    def reparameterised(theta, key):
        sample, log_prob = case.build(theta).sample_and_log_prob(key)
        return jnp.sum(sample) + jnp.sum(log_prob)

    @jit
    def run(thetas, values, key, first):
        out = {}
        # Modules built inside the trace (by vmap) and passed to vmap as pytrees.
        dists = jax.vmap(case.build)(thetas)
        out["batched"] = jax.vmap(_summary, in_axes=(0, 0, None))(dists, values, key)
        out["prob"] = first.prob(values[0])
        out["stacked"] = first.log_prob(values[:2])
        out["grads"] = jax.vmap(jax.grad(objective))(thetas, values)
        # 200 draws through the batch semantics: parameters broadcast to a
        # leading axis of 200, one key.
        many = jtu.tree_map(lambda x: jnp.broadcast_to(x, (200,) + x.shape), first)
        samples, joint = many.sample_and_log_prob(key)
        out["samples"], out["joint"] = samples, joint
        out["alone"] = many.sample(key)
        out["scored"] = first.log_prob(samples)
        if not labels:
            out["mean"] = first.mean()
        if not discrete:
            out["reparam_grad"] = jax.grad(reparameterised)(thetas[0], key)
        return out

    first = case.build(thetas[0])
    assert isinstance(first, D.AbstractDistribution)
    out = run(thetas, values, key, first)

    # Eager results: shapes, dtypes, finiteness.
    eager = _summary(first, values[0], key)
    log_prob, entropy, sample, mode = eager
    full = case.batch_shape + case.event_shape
    assert sample.shape == mode.shape == full
    assert sample.dtype == mode.dtype == _DTYPES.get(case.name, jnp.float32)
    assert log_prob.shape == entropy.shape == case.batch_shape
    assert log_prob.dtype == entropy.dtype == jnp.float32
    assert np.all(np.isfinite(log_prob)) and np.all(np.isfinite(entropy))
    if labels:
        with pytest.raises(NotImplementedError, match="not meaningful"):
            first.mean()
    else:
        assert out["mean"].shape == full

    # jit and vmap agree with eager, and each element has its own parameters.
    for a, b in zip(eager, out["batched"]):
        np.testing.assert_allclose(a, b[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(out["batched"][0][0], out["batched"][0][1])
    second = _summary(case.build(thetas[1]), values[1], key)
    np.testing.assert_allclose(second[0], out["batched"][0][1], rtol=1e-5, atol=1e-5)

    # prob = exp(log_prob); leading sample axes broadcast.
    np.testing.assert_allclose(out["prob"], np.exp(log_prob), rtol=1e-5)
    assert out["stacked"].shape == (2,) + case.batch_shape
    np.testing.assert_allclose(out["stacked"][1], log_prob, rtol=1e-5, atol=1e-6)

    # Gradients of log_prob + entropy are finite and informative.
    assert np.all(np.isfinite(out["grads"]))
    assert np.all(np.any(np.abs(out["grads"]) > 1e-3, axis=1))

    # sample_and_log_prob draws what sample draws and scores it as log_prob
    # does (squashed: away from the bounds, where inverting tanh is accurate).
    np.testing.assert_allclose(out["samples"], out["alone"], rtol=1e-6)
    # Independent draws along the broadcast axis.
    assert len(np.unique(np.asarray(out["samples"]).reshape(200, -1), axis=0)) > 5
    assert out["joint"].shape == out["scored"].shape == (200,) + case.batch_shape
    keep = _interior(case, first, out["samples"])
    assert keep.mean() > 0.5
    np.testing.assert_allclose(
        np.asarray(out["joint"])[keep],
        np.asarray(out["scored"])[keep],
        rtol=1e-4,
        atol=1e-4,
    )
    if not discrete:
        assert np.all(np.isfinite(out["reparam_grad"]))
        assert np.any(np.abs(out["reparam_grad"]) > 1e-3)
