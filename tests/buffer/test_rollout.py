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


def test_the_earlier_positional_constructor_and_its_defaults():
    ids = jnp.arange(6, dtype=jnp.float32).reshape(3, 2)
    dones = jnp.array([[False, True], [True, False], [False, False]])
    states = {"h": ids * 7}
    # RolloutBuffer(observations, actions, rewards, dones, log_probs, values,
    #               states, action_masks=None, returns=None, advantages=None)
    buffer = RolloutBuffer(ids, ids + 1, ids + 2, dones, ids + 3, ids + 4, states)
    np.testing.assert_array_equal(buffer.observations, ids)
    np.testing.assert_array_equal(buffer.actions, ids + 1)
    np.testing.assert_array_equal(buffer.rewards, ids + 2)
    np.testing.assert_array_equal(buffer.log_probs, ids + 3)
    np.testing.assert_array_equal(buffer.values, ids + 4)
    assert buffer.states is buffer.policy_states is states
    assert buffer.action_masks is None
    assert np.isnan(buffer.returns).all() and np.isnan(buffer.advantages).all()
    assert buffer.returns.shape == (3, 2) and buffer.returns.dtype == jnp.float32
    # a step starts an episode when the step before it ended one; the first
    # step is not known to
    np.testing.assert_array_equal(
        buffer.episode_starts, [[False, False], [False, True], [True, False]]
    )
    masks = jnp.ones((3, 2, 4), bool)
    full = RolloutBuffer(ids, ids, ids, dones, ids, ids, None, masks, ids * 5, ids * 6)
    assert full.policy_states is None and full.action_masks is masks
    np.testing.assert_array_equal(full.returns, ids * 5)
    np.testing.assert_array_equal(full.advantages, ids * 6)
    # keywords, in the earlier and in our names
    named = RolloutBuffer(
        observations=ids,
        actions=ids,
        rewards=ids,
        dones=dones,
        log_probs=ids,
        values=ids,
        states=states,
        episode_starts=jnp.ones((3, 2), bool),
    )
    assert named.policy_states is states and bool(named.episode_starts.all())


def test_states_and_policy_states_are_one_argument():
    ids = jnp.zeros((2, 1))
    with pytest.raises(TypeError, match="`policy_states` or its earlier name"):
        RolloutBuffer(ids, ids, ids, ids, ids, ids, {"h": ids}, policy_states=None)
    # our name alone, or None through both, is fine
    kept = RolloutBuffer(ids, ids, ids, ids, ids, ids, policy_states={"h": ids})
    assert kept.states["h"] is ids


def test_fields_must_share_the_leading_axes_of_rewards():
    ids = jnp.zeros((3, 2))
    with pytest.raises(ValueError, match=r"`RolloutBuffer\(values=...\)`.*\(3, 2\)"):
        RolloutBuffer(ids, ids, ids, ids, ids, jnp.zeros((3,)), None)
    with pytest.raises(
        ValueError, match=r"`RolloutBuffer\(policy_states=...\)`.*got shape \(2, 2\)"
    ):
        RolloutBuffer(ids, ids, ids, ids, ids, ids, {"h": jnp.zeros((2, 2))})
    with pytest.raises(ValueError, match="at least one leading axis"):
        RolloutBuffer(ids, ids, jnp.float32(0), ids, ids, ids, None)
    # a single step given without its time axis: named, not an IndexError
    scalar = jnp.float32(0)
    with pytest.raises(ValueError, match="at least one leading axis"):
        RolloutBuffer(scalar, scalar, scalar, jnp.bool_(False), scalar, scalar)
    with pytest.raises(ValueError, match=r"`RolloutBuffer\(dones=...\)`"):
        RolloutBuffer(ids, ids, ids, jnp.bool_(False), ids, ids)


def test_dataclass_replace_and_tree_map_keep_every_field():
    buffer = _buffer()
    again = dataclasses.replace(buffer, rewards=buffer.rewards + 1)
    np.testing.assert_array_equal(again.rewards, buffer.rewards + 1)
    np.testing.assert_array_equal(again.returns, buffer.returns)
    mapped = jax.tree.map(lambda x: x, buffer)
    np.testing.assert_array_equal(mapped.episode_starts, buffer.episode_starts)


def test_an_earlier_style_program_gives_hand_computed_results():
    # two envs, three steps; env 0's episode ends at step 1
    observations = jnp.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])
    actions = jnp.array([[0, 1], [1, 0], [0, 0]])
    rewards = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    dones = jnp.array([[False, False], [True, False], [False, False]])
    log_probs = jnp.log(jnp.full((3, 2), 0.5))
    values = jnp.array([[0.5, 1.0], [0.5, 0.0], [1.0, 1.0]])
    buffer = RolloutBuffer(
        observations, actions, rewards, dones, log_probs, values, None
    )
    buffer = buffer.compute_returns_and_advantages(
        jnp.array([2.0, 0.0]), gae_lambda=1.0, gamma=0.5
    )
    # lambda = 1: discounted returns, bootstrapped from the last value
    # env 0: R2 = 0 + .5 * 2 = 1; R1 = 1 (done); R0 = 1 + .5 * 1 = 1.5
    # env 1: R2 = 2 + .5 * 0 = 2; R1 = 1 + .5 * 2 = 2; R0 = 0 + .5 * 2 = 1
    returns = np.array([[1.5, 1.0], [1.0, 2.0], [1.0, 2.0]])
    np.testing.assert_allclose(buffer.returns, returns)
    np.testing.assert_allclose(buffer.advantages, returns - values)
    # minibatches over the flattened rows (row t * 2 + n), in order without a key
    batches = buffer.batches(2)
    assert batches.shape == (3, 2)
    np.testing.assert_array_equal(batches.observations, [[0, 10], [1, 11], [2, 12]])
    np.testing.assert_allclose(batches.returns[1], [1.0, 2.0])
    np.testing.assert_allclose(batches.advantages[1], [0.5, 2.0])
    np.testing.assert_array_equal(batches.actions[1], [1, 0])
    np.testing.assert_array_equal(batches.dones[1], [True, False])
    rows = buffer.flatten_axes().gather(jnp.array([5, 0]))
    np.testing.assert_array_equal(rows.observations, [12.0, 0.0])
    np.testing.assert_allclose(rows.returns, [2.0, 1.5])
    np.testing.assert_allclose(rows.advantages, [1.0, 1.0])
    np.testing.assert_allclose(rows.log_probs, np.log([0.5, 0.5]), rtol=1e-6)
    # a lambda of 0 is one-step TD: A = r + gamma * (1 - done) * V' - V
    td = buffer.compute_returns_and_advantages(
        jnp.array([2.0, 0.0]), gae_lambda=0.0, gamma=0.5
    )
    np.testing.assert_allclose(
        td.advantages, [[0.75, -1.0], [0.5, 1.5], [0.0, 1.0]], rtol=1e-6
    )


def test_a_single_env_rollout_without_an_env_axis():
    # the earlier lerax kept no env axis with one env: fields are [T]
    ids = jnp.arange(5, dtype=jnp.float32)
    dones = jnp.array([False, False, True, False, False])
    buffer = RolloutBuffer(ids, ids.astype(jnp.int32), ids, dones, ids, ids * 0, None)
    assert buffer.shape == (5,)
    np.testing.assert_array_equal(
        buffer.episode_starts, [False, False, False, True, False]
    )
    buffer = buffer.compute_returns_and_advantages(jnp.float32(1.0), 1.0, 1.0)
    np.testing.assert_allclose(buffer.returns, [3.0, 3.0, 2.0, 8.0, 5.0])
    sample = buffer.sample(3, key=jr.key(0))
    assert sample.shape == (3,)
    assert len(set(np.asarray(sample.actions).tolist())) == 3
    np.testing.assert_array_equal(sample.observations, sample.actions)
    assert buffer.batches(2).shape == (2, 2)
    with pytest.raises(ValueError, match=r"needs the \[num_steps, num_envs\] layout"):
        buffer.transitions(1, key=jr.key(0))


def test_sample_returns_a_rollout_buffer_over_the_chosen_axes():
    buffer = _buffer()  # 6 steps x 4 envs, id t * 4 + n
    one = buffer.sample(10, key=jr.key(1))
    assert isinstance(one, RolloutBuffer) and one.shape == (10,)
    ids = np.asarray(one.actions)
    assert len(set(ids.tolist())) == 10
    np.testing.assert_array_equal(one.observations[:, 1], -ids)
    np.testing.assert_array_equal(one.returns, ids * 3)
    steps = buffer.sample(3, key=jr.key(2), batch_axes=0)  # whole steps
    assert steps.shape == (3, 4)
    for row in np.asarray(steps.actions):
        np.testing.assert_array_equal(row, row[0] + np.arange(4))
    with pytest.raises(ValueError, match=r"must be an int in \[1, 6\]"):
        buffer.sample(7, key=jr.key(0), batch_axes=0)


def test_array_likes_are_converted_as_the_earlier_lerax():
    # lists were refused with a misleading shape error; integer rewards were
    # stored and refused later by `compute_returns_and_advantages`
    T = 4
    obs, act = jnp.zeros((T, 2)), jnp.zeros(T, jnp.int32)
    lists = RolloutBuffer(
        obs,
        act,
        [1.0, 0.0, 1.0, 1.0],
        [False, False, True, False],
        [0.5] * T,
        [0.0] * T,
        None,
    )
    assert lists.shape == (T,)
    assert lists.rewards.dtype == jnp.float32 and lists.dones.dtype == jnp.bool_
    assert lists.log_probs.dtype == lists.values.dtype == jnp.float32
    np.testing.assert_array_equal(lists.episode_starts, [False, False, False, True])
    integers = RolloutBuffer(
        obs,
        act,
        np.array([1, 0, 1, 1]),
        jnp.array([0, 0, 1, 0]),
        jnp.zeros(T, jnp.int32),
        jnp.zeros(T),
        None,
    )
    assert integers.rewards.dtype == jnp.float32 and integers.dones.dtype == jnp.bool_
    assert integers.log_probs.dtype == jnp.float32
    np.testing.assert_array_equal(integers.dones, [False, False, True, False])
    arrays = RolloutBuffer(
        obs,
        act,
        jnp.array([1.0, 0.0, 1.0, 1.0]),
        jnp.array([False, False, True, False]),
        jnp.zeros(T),
        jnp.zeros(T),
        None,
    )
    ref = arrays.compute_returns_and_advantages(jnp.array(0.0), 0.95, 0.99).returns
    for buffer in (lists, integers):
        got = buffer.compute_returns_and_advantages(jnp.array(0.0), 0.95, 0.99)
        np.testing.assert_allclose(got.returns, ref)
    # floating-point dtypes are kept
    half = RolloutBuffer(
        obs,
        act,
        jnp.ones(T, jnp.float16),
        jnp.zeros(T, bool),
        jnp.zeros(T, jnp.float16),
        jnp.zeros(T, jnp.float16),
        None,
    )
    assert half.rewards.dtype == half.values.dtype == jnp.float16
    assert half.returns.dtype == jnp.float16


def test_bool_rewards_are_refused_as_likely_swapped_arguments():
    T = 3
    obs, flags = jnp.zeros((T, 2)), jnp.zeros(T, bool)
    with pytest.raises(TypeError, match=r"RolloutBuffer\(rewards=...\).*bool.*order"):
        RolloutBuffer(obs, obs[:, 0], flags, jnp.ones(T), jnp.zeros(T), jnp.zeros(T))


def test_conversion_keeps_working_under_jit():
    T = 3
    obs = jnp.zeros((T, 2))
    build = jax.jit(
        lambda r, d: RolloutBuffer(obs, obs[:, 0], r, d, jnp.zeros(T), jnp.zeros(T))
    )
    buffer = build(jnp.array([1, 2, 3]), jnp.array([0, 1, 0]))
    assert buffer.rewards.dtype == jnp.float32 and buffer.dones.dtype == jnp.bool_
    np.testing.assert_array_equal(buffer.episode_starts, [False, False, True])


def test_numpy_int_batch_sizes_and_counts_are_accepted():
    buffer = _buffer()
    assert buffer.sample(np.int64(2), key=jr.key(0)).shape == (2,)
    assert buffer.batches(np.int32(6), key=jr.key(0)).shape == (4, 6)
    assert buffer.transitions(np.int64(4), key=jr.key(0))["actions"].shape == (4, 6)
    assert buffer.sequences(np.int64(2), key=jr.key(0))["actions"].shape == (2, 2, 6)
    with pytest.raises(ValueError, match=r"`batch_size`.*got 2.0.*Pass it as an int"):
        buffer.sample(2.0, key=jr.key(0))
    with pytest.raises(ValueError, match=r"`batch_size`.*a bool"):
        buffer.sample(np.bool_(True), key=jr.key(0))
