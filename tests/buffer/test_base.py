"""`AbstractBuffer`'s methods, written once for every buffer."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.buffer import AbstractBuffer, ReplayBuffer, RolloutBuffer
from lerax.space import Box, Discrete


def rollout(num_steps=6, num_envs=4):
    """Row `(t, n)` holds id `t * num_envs + n` in every field."""
    ids = jnp.arange(num_steps * num_envs, dtype=jnp.float32).reshape(
        num_steps, num_envs
    )
    return RolloutBuffer(
        observations={"a": jnp.stack([ids, -ids], axis=-1)},
        actions=ids.astype(jnp.int32),
        log_probs=ids + 0.5,
        values=ids + 0.25,
        rewards=ids * 10,
        dones=jnp.zeros(ids.shape, bool),
        episode_starts=jnp.zeros(ids.shape, bool),
        action_masks=None,
        policy_states=None,
        advantages=ids * 2,
        returns=ids * 3,
    )


def assert_aligned(buffer):
    """Every field of every row still belongs to the row's id."""
    ids = np.asarray(buffer.actions)
    np.testing.assert_array_equal(buffer.observations["a"][..., 0], ids)
    np.testing.assert_array_equal(buffer.observations["a"][..., 1], -ids)
    np.testing.assert_array_equal(buffer.log_probs, ids + 0.5)
    np.testing.assert_array_equal(buffer.values, ids + 0.25)
    np.testing.assert_array_equal(buffer.rewards, ids * 10)
    np.testing.assert_array_equal(buffer.advantages, ids * 2)
    np.testing.assert_array_equal(buffer.returns, ids * 3)


def test_the_abstract_buffer_cannot_be_built():
    with pytest.raises(TypeError):
        AbstractBuffer()


def test_shape_is_the_leading_batch_axes():
    assert rollout().shape == (6, 4)
    replay = ReplayBuffer.create(7, Box(-1.0, 1.0, (2,)), Discrete(3))
    assert replay.shape == (7,)


@pytest.mark.parametrize(
    "axes, resolved",
    [(None, (0, 1)), (0, (0,)), (-1, (1,)), ((1, 0), (0, 1)), ([-2], (0,))],
)
def test_resolve_axes(axes, resolved):
    assert rollout().resolve_axes(axes) == resolved


@pytest.mark.parametrize(
    "axes, message",
    [
        (2, r"axes of the buffer's batch shape \(6, 4\) \(in \[-2, 1\]\), got 2"),
        (-3, r"in \[-2, 1\]\), got -3"),
        ((0, -2), "distinct batch axes"),
        ((), "distinct batch axes"),
        (True, "must be ints, got True"),
        ((0, 1.0), "must be ints, got 1.0"),
    ],
)
def test_resolve_axes_refuses_bad_axes(axes, message):
    with pytest.raises(ValueError, match=message):
        rollout().resolve_axes(axes)


def test_flatten_axes_merges_in_row_major_order():
    buffer = rollout()
    flat = buffer.flatten_axes()
    assert flat.shape == (24,)
    assert flat.observations["a"].shape == (24, 2)
    np.testing.assert_array_equal(flat.actions, np.arange(24))  # t * N + n
    assert_aligned(flat)
    # one axis to the front: [N, T], each env's steps in time order
    by_env = buffer.flatten_axes(1)
    assert by_env.shape == (4, 6)
    np.testing.assert_array_equal(by_env.actions, np.asarray(buffer.actions).T)
    assert_aligned(by_env)
    assert buffer.flatten_axes(0) is buffer
    assert buffer.flatten_axes((0, 1)).shape == (24,)


def test_batch_indices_in_order_and_shuffled():
    flat = rollout().flatten_axes()
    np.testing.assert_array_equal(
        flat.batch_indices(5), np.arange(20).reshape(4, 5)
    )  # the remainder of 4 is dropped
    shuffled = np.asarray(flat.batch_indices(5, key=jr.key(0)))
    assert shuffled.shape == (4, 5) and shuffled.dtype == np.int32
    assert len(set(shuffled.ravel().tolist())) == 20
    assert set(shuffled.ravel().tolist()) <= set(range(24))
    assert not np.array_equal(shuffled.ravel(), np.arange(20))
    np.testing.assert_array_equal(
        shuffled, flat.batch_indices(5, key=jr.key(0))
    )  # the key decides
    # along the first batch axis of an unflattened buffer: the 6 steps
    np.testing.assert_array_equal(rollout().batch_indices(4), [[0, 1, 2, 3]])
    for bad in (0, 25, 2.0, True):
        with pytest.raises(ValueError, match=r"must be an int in \[1, 24\].*got"):
            flat.batch_indices(bad)


def test_gather_takes_rows_with_all_fields():
    buffer = rollout()
    rows = buffer.flatten_axes().gather(jnp.array([[5, 0], [23, 5]]))
    assert rows.shape == (2, 2)
    np.testing.assert_array_equal(rows.actions, [[5, 0], [23, 5]])
    assert_aligned(rows)
    steps = buffer.gather(jnp.array([2]))  # whole steps of an unflattened buffer
    assert steps.shape == (1, 4)
    np.testing.assert_array_equal(steps.actions, [[8, 9, 10, 11]])
    traced = eqx.filter_jit(lambda b, i: b.gather(i))(buffer.flatten_axes(), 3)
    np.testing.assert_array_equal(traced.actions, 3)
    with pytest.raises(ValueError, match=r"must lie in \[0, 24\).*from 0 to 24"):
        buffer.flatten_axes().gather(jnp.array([0, 24]))
    with pytest.raises(ValueError, match=r"from -1 to 1"):
        buffer.flatten_axes().gather(jnp.array([-1, 1]))
    with pytest.raises(TypeError, match="must be integers, got dtype float32"):
        buffer.gather(jnp.array([1.0]))


def test_batches_returns_a_buffer_of_minibatches():
    buffer = rollout()
    ordered = buffer.batches(5)
    assert isinstance(ordered, RolloutBuffer)
    assert ordered.shape == (4, 5)
    np.testing.assert_array_equal(ordered.actions, np.arange(20).reshape(4, 5))
    assert_aligned(ordered)
    shuffled = buffer.batches(5, key=jr.key(1))
    ids = np.asarray(shuffled.actions)
    assert ids.shape == (4, 5) and len(set(ids.ravel().tolist())) == 20
    assert_aligned(shuffled)
    # batches of whole env sequences: the env axis is cut, time kept
    sequences = buffer.batches(2, key=jr.key(2), batch_axes=1)
    assert sequences.shape == (2, 2, 6)
    for seq in np.asarray(sequences.actions).reshape(4, 6):
        np.testing.assert_array_equal(seq, seq[0] + 4 * np.arange(6))
    assert_aligned(sequences)
    # the fields can still be read by name, as the dicts earlier lerax gave
    np.testing.assert_array_equal(shuffled["returns"], ids * 3)


def test_batches_can_be_scanned_under_jit():
    buffer = rollout()

    @jax.jit
    def total(buffer, key):
        def step(carry, batch):
            return carry + jnp.sum(batch.rewards), None

        return jax.lax.scan(step, 0.0, buffer.batches(8, key=key))[0]

    assert float(total(buffer, jr.key(0))) == pytest.approx(10 * sum(range(24)))


def test_indexing_by_an_unknown_name_lists_the_fields():
    with pytest.raises(KeyError, match=r"no field 'obs'.*observations, actions"):
        rollout()["obs"]


def test_replay_rows_can_be_gathered_and_count_as_filled():
    replay = ReplayBuffer.create(4, Box(-1.0, 10.0, (2,)), Discrete(3))
    values = jnp.arange(3, dtype=jnp.float32)
    replay = replay.add(
        jnp.stack([values, values], -1),
        jnp.array([0, 1, 2], jnp.int32),
        values,
        jnp.stack([values, values], -1) + 0.5,
        jnp.array([False, True, False]),
    )
    rows = replay.gather(jnp.array([2, 0]))
    assert isinstance(rows, ReplayBuffer)
    np.testing.assert_array_equal(rows.rewards, [2.0, 0.0])
    np.testing.assert_array_equal(rows.actions, [2, 0])
    np.testing.assert_array_equal(rows.next_observations[:, 0], [2.5, 0.5])
    np.testing.assert_array_equal(rows.terminated, [False, False])
    assert int(rows.size) == 2 and int(rows.position) == 0 and rows.capacity == 2
    batches = replay.batches(2)  # every row, the unwritten 4th too
    assert batches.shape == (2, 2)
    np.testing.assert_array_equal(batches.rewards, [[0.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(batches.size, [2, 2])
