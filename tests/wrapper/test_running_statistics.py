"""`RunningMeanStd`: Chan et al.'s parallel mean/variance update."""

import jax
import jax.numpy as jnp
import numpy as np

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
