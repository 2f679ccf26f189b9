"""`RunningMeanStd`: Chan et al.'s parallel mean/variance update."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lerax.wrapper import RunningMeanStd


def reference(samples, epsilon=1e-4):
    """Mean/variance of the samples together with the prior (mean 0, var 1,
    pseudo-count epsilon), in float64."""
    samples = np.asarray(samples, np.float64)
    n = samples.shape[0]
    total = epsilon + n
    mean = samples.sum(0) / total
    data_mean = samples.mean(0)
    m2 = epsilon * 1.0 + ((samples - data_mean) ** 2).sum(0)
    m2 = m2 + data_mean**2 * epsilon * n / total
    return mean, m2 / total, total


def test_zeros():
    stats = RunningMeanStd.zeros((2, 3))
    np.testing.assert_array_equal(stats.mean, np.zeros((2, 3)))
    np.testing.assert_array_equal(stats.var, np.ones((2, 3)))
    np.testing.assert_allclose(stats.count, 1e-4)


def test_batched_updates_match_the_reference():
    rng = np.random.default_rng(0)
    batches = [rng.normal([3.0, -1.0], [2.0, 0.1], (n, 2)) for n in (1, 5, 64, 3)]
    stats = RunningMeanStd.zeros((2,))
    update = jax.jit(lambda s, b: s.update(b))
    for batch in batches:
        stats = update(stats, batch)
    mean, var, count = reference(np.concatenate(batches))
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(stats.var, var, rtol=1e-4)
    np.testing.assert_allclose(stats.count, count, rtol=1e-6)


def test_single_sample_updates_match_the_reference():
    rng = np.random.default_rng(1)
    samples = rng.normal(5.0, 3.0, (200,))
    stats = jax.lax.fori_loop(
        0,
        200,
        lambda i, s: s.update(jnp.asarray(samples, jnp.float32)[i][None]),
        RunningMeanStd.zeros(()),
    )
    mean, var, _ = reference(samples[:, None])
    np.testing.assert_allclose(stats.mean, mean[0], rtol=1e-5)
    np.testing.assert_allclose(stats.var, var[0], rtol=1e-4)


def test_normalize():
    stats = RunningMeanStd(
        jnp.array([1.0, -2.0]), jnp.array([4.0, 0.25]), jnp.array(10.0)
    )
    np.testing.assert_allclose(
        stats.normalize(jnp.array([3.0, -1.0]), epsilon=0.0), [1.0, 2.0]
    )


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.tuples(st.integers(0, 9), st.integers(0, 9)),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.1, 100.0),
)
def test_merge_equals_one_stream_over_both(sizes, seed, scale):
    rng = np.random.default_rng(seed)
    first, second = (rng.normal(scale, scale, (n, 3)).astype(np.float32) for n in sizes)

    def stream(samples):
        stats = RunningMeanStd.empty((3,))
        for sample in samples:
            stats = stats.update(sample[None])
        return stats

    merged = stream(first).merge(stream(second))
    every = np.concatenate([first, second]).astype(np.float64)
    np.testing.assert_allclose(merged.count, len(every))
    if len(every):
        np.testing.assert_allclose(merged.mean, every.mean(0), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(
            merged.var, every.var(0), rtol=1e-3, atol=1e-5 * scale**2
        )
    else:  # nothing seen at all: still no NaN
        np.testing.assert_array_equal(merged.mean, 0.0)
        np.testing.assert_array_equal(merged.var, 0.0)
    # merging nothing changes nothing, bitwise
    prior = RunningMeanStd.zeros((3,)).update(jnp.asarray(first[:1] + 1.0))
    same = prior.merge(RunningMeanStd.empty((3,)))
    for field in ("mean", "var", "count"):
        np.testing.assert_array_equal(getattr(same, field), getattr(prior, field))


def test_batched_merge_merges_each_stream():
    a = jax.vmap(lambda x: RunningMeanStd.zeros((2,)).update(x))(jnp.ones((4, 3, 2)))
    b = jax.vmap(lambda x: RunningMeanStd.empty((2,)).update(x))(
        jnp.arange(4 * 5 * 2, dtype=jnp.float32).reshape(4, 5, 2)
    )
    merged = a.merge(b)
    for i in range(4):
        one = jax.tree.map(lambda x: x[i], a).merge(jax.tree.map(lambda x: x[i], b))
        for field in ("mean", "var", "count"):
            np.testing.assert_allclose(
                getattr(merged, field)[i], getattr(one, field), rtol=1e-6
            )
