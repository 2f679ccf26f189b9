import dataclasses
import itertools
import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lerax.buffer import RolloutBuffer
from lerax.buffer._shuffle import permutation


@settings(max_examples=10, deadline=None)
@given(n=st.integers(0, 2100), seed=st.integers(0, 2**31 - 1))
def test_permutation_holds_every_index_once(n, seed):
    order = np.asarray(permutation(jr.key(seed), n))
    assert order.dtype == np.int32
    assert sorted(order.tolist()) == list(range(n))


def test_permutation_is_deterministic_and_depends_on_the_key():
    a = permutation(jr.key(1), 512)
    assert np.array_equal(a, permutation(jr.key(1), 512))
    assert not np.array_equal(a, permutation(jr.key(2), 512))


def test_all_orderings_of_five_are_equally_likely():
    keys = jr.split(jr.key(0), 60_000)
    orders = np.asarray(jax.jit(jax.vmap(lambda k: permutation(k, 5)))(keys))
    index = {p: i for i, p in enumerate(itertools.permutations(range(5)))}
    counts = np.bincount([index[tuple(o)] for o in orders.tolist()], minlength=120)
    assert counts.min() > 0
    assert stats.chisquare(counts).pvalue > 1e-3


def test_two_round_permutation_places_elements_uniformly():
    # 512 elements need two sorting rounds (23 random bits per round < 27).
    n, draws = 512, 4000
    keys = jr.split(jr.key(3), draws)
    orders = np.asarray(jax.jit(jax.vmap(lambda k: permutation(k, n)))(keys))
    positions = np.argsort(orders, axis=1)[:, :16]  # where elements 0..15 went
    for element in range(16):
        counts = np.bincount(positions[:, element] // 64, minlength=8)
        assert stats.chisquare(counts).pvalue > 1e-4, (element, counts)
    # neighbours are not kept together more often than chance
    adjacent = np.abs(positions[:, 0] - positions[:, 1]) == 1
    assert adjacent.mean() < 3 * (2 / n)


def test_negative_size_is_an_error():
    with pytest.raises(ValueError, match="n >= 0"):
        permutation(jr.key(0), -1)


def _buffer(num_steps=6, num_envs=4):
    steps = jnp.arange(num_steps * num_envs, dtype=jnp.float32).reshape(
        num_steps, num_envs
    )
    return RolloutBuffer(
        observations=jnp.stack([steps, -steps], axis=-1),
        actions=steps.astype(jnp.int32),
        log_probs=steps + 0.5,
        values=steps + 0.25,
        rewards=jnp.zeros_like(steps),
        dones=jnp.zeros(steps.shape, bool),
        episode_starts=jnp.zeros(steps.shape, bool),
        action_masks=None,
        policy_states=None,
        advantages=steps * 2,
        returns=steps * 3,
    )


def test_transitions_are_a_shuffled_partition_with_fields_aligned():
    buffer = _buffer()
    batches = buffer.transitions(3, key=jr.key(0))
    ids = np.asarray(batches["actions"])
    assert ids.shape == (3, 8)
    assert sorted(ids.ravel().tolist()) == list(range(24))
    assert not np.array_equal(ids.ravel(), np.arange(24))
    np.testing.assert_array_equal(batches["observations"][..., 0], ids)
    np.testing.assert_array_equal(batches["observations"][..., 1], -ids)
    np.testing.assert_array_equal(batches["log_probs"], ids + 0.5)
    np.testing.assert_array_equal(batches["returns"], ids * 3)


def test_sequences_keep_each_env_whole_and_time_ordered():
    buffer = _buffer()
    batches = buffer.sequences(2, key=jr.key(0))
    ids = np.asarray(batches["actions"])
    assert ids.shape == (2, 2, 6)
    envs = ids[..., 0].ravel()
    assert sorted(envs.tolist()) == [0, 1, 2, 3]
    for env_seq in ids.reshape(4, 6):
        np.testing.assert_array_equal(env_seq, env_seq[0] + 4 * np.arange(6))
    assert math.isclose(float(batches["values"][0, 0, 0]), ids[0, 0, 0] + 0.25)


def test_batches_and_sample_draw_distinct_aligned_transitions():
    buffer = _buffer()  # 24 transitions
    batches = buffer.batches(5, key=jr.key(0))
    ids = np.asarray(batches["actions"])
    assert ids.shape == (4, 5)  # the remainder of 4 is dropped
    assert len(set(ids.ravel().tolist())) == 20
    np.testing.assert_array_equal(batches["returns"], ids * 3)
    one = buffer.sample(10, key=jr.key(1))
    assert one["actions"].shape == (10,)
    assert len(set(np.asarray(one["actions"]).tolist())) == 10
    np.testing.assert_array_equal(one["observations"][:, 1], -one["actions"])
    for bad in (0, 25, 2.0):
        with pytest.raises(ValueError, match=r"must be an int in \[1, 24\]"):
            buffer.batches(bad, key=jr.key(0))
        with pytest.raises(ValueError, match=r"must be an int in \[1, 24\]"):
            buffer.sample(bad, key=jr.key(0))


def test_compute_returns_and_advantages_is_gae_over_the_rollout():
    rng = np.random.default_rng(0)
    buffer = _buffer(num_steps=5, num_envs=2)
    rewards = rng.normal(size=(5, 2)).astype(np.float32)
    dones = np.zeros((5, 2), bool)
    dones[2, 0] = True
    buffer = dataclasses.replace(buffer, rewards=jnp.asarray(rewards), dones=dones)
    last = np.array([0.7, -0.3], np.float32)
    filled = buffer.compute_returns_and_advantages(jnp.asarray(last), 0.9, 0.95)
    # reference: the GAE recursion written out in NumPy
    values = np.asarray(buffer.values)
    advantages = np.zeros((5, 2))
    carry = np.zeros(2)
    for t in reversed(range(5)):
        following = last if t == 4 else values[t + 1]
        live = 1.0 - dones[t]
        delta = rewards[t] + 0.95 * live * following - values[t]
        carry = delta + 0.95 * 0.9 * live * carry
        advantages[t] = carry
    np.testing.assert_allclose(filled.advantages, advantages, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(filled.returns, advantages + values, rtol=1e-5)
    np.testing.assert_array_equal(filled.actions, buffer.actions)


def test_minibatch_counts_must_divide_what_they_split():
    buffer = _buffer()  # 6 steps x 4 envs
    for bad in (0, 5, 2.0):
        with pytest.raises(ValueError, match=r"sequences\(num_batches=...\)"):
            buffer.sequences(bad, key=jr.key(0))
    with pytest.raises(ValueError, match=r"divides the 24 T \* N transitions"):
        buffer.transitions(5, key=jr.key(0))
    assert buffer.sequences(4, key=jr.key(0))["actions"].shape == (4, 1, 6)
