"""`ReplayBuffer`: policy states stored per transition."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.buffer import ReplayBuffer
from lerax.space import Box, Discrete


def state_example():
    # a pytree of differently shaped and typed leaves, like a policy state
    return {"hidden": jnp.zeros((3,), jnp.float32), "count": jnp.zeros((), jnp.int32)}


def states(values):
    values = jnp.asarray(values)
    return {
        "hidden": jnp.stack([values, values, values], -1).astype(jnp.float32),
        "count": values.astype(jnp.int32),
    }


def add(buffer, values):
    """Writes transitions whose reward is `v`, state `v` and next state `v + 1`."""
    values = jnp.asarray(values, jnp.float32)
    n = values.shape[0]
    return buffer.add(
        jnp.stack([values, values], -1),
        jnp.zeros(n, jnp.int32),
        values,
        jnp.stack([values, values], -1),
        jnp.zeros(n, bool),
        policy_states=states(values),
        next_policy_states=states(values + 1),
    )


def test_rows_are_allocated_like_the_example_state():
    buffer = ReplayBuffer.create(
        7, Box(-1.0, 1.0, (2,)), Discrete(3), policy_state_example=state_example()
    )
    for stored in (buffer.policy_states, buffer.next_policy_states):
        assert stored["hidden"].shape == (7, 3)
        assert stored["hidden"].dtype == jnp.float32
        assert stored["count"].shape == (7,)
        assert stored["count"].dtype == jnp.int32


def test_states_travel_with_their_transitions_through_the_ring(getkey):
    buffer = ReplayBuffer.create(
        5, Box(-1.0, 1.0, (2,)), Discrete(3), policy_state_example=state_example()
    )
    add_jit = eqx.filter_jit(add)
    for start in (0, 3, 6):
        buffer = add_jit(buffer, jnp.arange(start, start + 3))
    # rows hold the 5 most recent transitions 4..8, each with its own states
    np.testing.assert_array_equal(buffer.policy_states["count"], buffer.rewards)
    np.testing.assert_array_equal(
        buffer.next_policy_states["count"], buffer.rewards + 1
    )
    batch = eqx.filter_jit(buffer.sample)(500, key=getkey())
    assert set(np.asarray(batch["rewards"]).tolist()) == {4.0, 5.0, 6.0, 7.0, 8.0}
    np.testing.assert_array_equal(batch["policy_states"]["count"], batch["rewards"])
    np.testing.assert_array_equal(
        batch["policy_states"]["hidden"], np.repeat(batch["rewards"][:, None], 3, 1)
    )
    np.testing.assert_array_equal(
        batch["next_policy_states"]["count"], batch["rewards"] + 1
    )


def test_a_stateful_buffer_requires_states():
    buffer = ReplayBuffer.create(
        5, Box(-1.0, 1.0, (2,)), Discrete(3), policy_state_example=state_example()
    )
    with pytest.raises(ValueError, match="policy states"):
        buffer.add(
            jnp.zeros((1, 2)),
            jnp.zeros(1, jnp.int32),
            jnp.zeros(1),
            jnp.zeros((1, 2)),
            jnp.zeros(1, bool),
        )


def test_a_stateless_buffer_stores_no_states(getkey):
    buffer = ReplayBuffer.create(5, Box(-1.0, 1.0, (2,)), Discrete(3))
    assert buffer.policy_states is None and buffer.next_policy_states is None
    buffer = buffer.add(
        jnp.zeros((2, 2)),
        jnp.zeros(2, jnp.int32),
        jnp.ones(2),
        jnp.zeros((2, 2)),
        jnp.zeros(2, bool),
    )
    assert buffer.policy_states is None and buffer.next_policy_states is None
    batch = buffer.sample(4, key=getkey())
    assert batch["policy_states"] is None and batch["next_policy_states"] is None


def transitions(n, **changes):
    values = jnp.arange(n, dtype=jnp.float32)
    fields = dict(
        observations=jnp.stack([values, values], -1),
        actions=jnp.arange(n, dtype=jnp.int32) % 3,
        rewards=values,
        next_observations=jnp.stack([values, values], -1) + 0.5,
        terminated=jnp.zeros(n, bool),
    )
    return {**fields, **changes}


def test_a_float_action_for_integer_rows_is_refused_not_truncated():
    buffer = ReplayBuffer.create(3, Box(-1.0, 1.0, (2,)), Discrete(3))
    with pytest.raises(TypeError, match=r"`actions`.*float32.*int32"):
        buffer.add(**transitions(1, actions=jnp.array([1.7])))
    with pytest.raises(TypeError, match=r"`terminated`.*float32.*bool"):
        buffer.add(**transitions(1, terminated=jnp.array([1.0])))
    # integers into float rows are exact enough and still accepted
    buffer = buffer.add(**transitions(1, observations=jnp.ones((1, 2), jnp.int32)))
    np.testing.assert_array_equal(buffer.observations[0], [1.0, 1.0])


def test_rows_are_not_broadcast_over_the_added_transitions():
    buffer = ReplayBuffer.create(5, Box(-1.0, 1.0, (2,)), Discrete(3))
    with pytest.raises(ValueError, match=r"`observations`.*\(3, 2\).*got \(1, 2\)"):
        buffer.add(**transitions(3, observations=jnp.ones((1, 2))))
    with pytest.raises(ValueError, match=r"`next_observations`.*\(3, 2\).*\(3, 3\)"):
        buffer.add(**transitions(3, next_observations=jnp.ones((3, 3))))
    with pytest.raises(ValueError, match=r"`actions`.*\(3,\).*\(\)"):
        buffer.add(**transitions(3, actions=jnp.int32(1)))
    with pytest.raises(ValueError, match=r"`rewards`.*\(n,\).*\(3, 1\)"):
        buffer.add(**transitions(3, rewards=jnp.ones((3, 1))))


def test_policy_states_must_have_the_rows_structure_and_shapes():
    buffer = ReplayBuffer.create(
        5, Box(-1.0, 1.0, (2,)), Discrete(3), policy_state_example=state_example()
    )
    good = states(jnp.arange(2.0))
    with pytest.raises(ValueError, match="`policy_states`.*structure"):
        buffer.add(
            **transitions(2),
            policy_states={"hidden": good["hidden"]},
            next_policy_states=good,
        )
    with pytest.raises(ValueError, match=r"`next_policy_states\['hidden'\]`.*\(2, 3\)"):
        buffer.add(
            **transitions(2),
            policy_states=good,
            next_policy_states={**good, "hidden": jnp.zeros((1, 3))},
        )


def test_checks_run_at_trace_time_and_jitted_adds_still_work():
    buffer = ReplayBuffer.create(5, Box(-1.0, 1.0, (2,)), Discrete(3))
    add_jit = eqx.filter_jit(lambda b, t: b.add(**t))
    buffer = add_jit(buffer, transitions(3))
    np.testing.assert_array_equal(buffer.actions[:3], [0, 1, 2])
    with pytest.raises(TypeError, match="`actions`"):
        add_jit(buffer, transitions(3, actions=jnp.ones(3)))


def test_one_add_larger_than_the_capacity_keeps_the_last_rows():
    buffer = ReplayBuffer.create(5, Box(-1.0, 10.0, (2,)), Discrete(3))
    buffer = buffer.add(**transitions(2)).add(**transitions(8))
    # rows 2, 3, 4, 0, 1, 2, ... receive transitions 0..7 in order: the last
    # five, 3..7, survive, 3 in row (2 + 3) % 5 = 0
    np.testing.assert_array_equal(buffer.rewards, [3.0, 4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(buffer.observations[:, 0], buffer.rewards)
    assert int(buffer.position) == 0 and int(buffer.size) == 5


def test_bad_capacities_and_batch_sizes_are_refused():
    # `True` became a buffer of one row; a batch of 0 or -1 was drawn
    import jax.random as jr

    for capacity in (True, 0, 2.0):
        with pytest.raises(ValueError, match=r"create\(capacity=\.\.\.\)"):
            ReplayBuffer.create(capacity, Box(-1.0, 1.0, (2,)), Discrete(3))
    buffer = ReplayBuffer.create(4, Box(-1.0, 1.0, (2,)), Discrete(3))
    for batch_size in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match=r"sample\(batch_size=\.\.\.\)"):
            buffer.sample(batch_size, key=jr.key(0))
    filled = buffer.map_rows(lambda x: x)  # every row counts as filled
    assert filled.sample(3, key=jr.key(0))["rewards"].shape == (3,)


def test_the_earlier_constructor_allocates_an_empty_ring():
    import jax.random as jr

    buffer = ReplayBuffer(5, Box(-1.0, 1.0, (2,)), Discrete(3), None)
    assert buffer.capacity == 5 and buffer.shape == (5,)
    assert int(buffer.current_size) == 0 and int(buffer.position) == 0
    assert buffer.observations.shape == (5, 2)
    assert buffer.actions.shape == (5,) and buffer.actions.dtype == jnp.int32
    assert buffer.states is None and buffer.next_states is None
    assert buffer.action_masks is None and buffer.next_action_masks is None
    assert np.isfinite(buffer.observations).all()  # zeros, not NaN
    stateful = ReplayBuffer(
        size=3,
        observation_space=Box(-1.0, 1.0, (2,)),
        action_space=Discrete(3),
        state=state_example(),
    )
    assert stateful.states["hidden"].shape == (3, 3)
    assert stateful.next_states["count"].shape == (3,)
    # the same rows as `create`
    created = ReplayBuffer.create(
        3, Box(-1.0, 1.0, (2,)), Discrete(3), policy_state_example=state_example()
    )
    assert eqx.tree_equal(created, stateful)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(2, key=jr.key(0))


def test_the_constructor_forms_are_not_mixed():
    space = Box(-1.0, 1.0, (2,))
    for size in (0, True, 2.5):
        with pytest.raises(ValueError, match=r"`ReplayBuffer\(size=...\)` must be a"):
            ReplayBuffer(size, space, Discrete(3), None)
    with pytest.raises(TypeError, match="needs both spaces"):
        ReplayBuffer(5, space)
    with pytest.raises(TypeError, match=r"field keywords \(got \['rewards'\]\)"):
        ReplayBuffer(5, space, Discrete(3), rewards=jnp.zeros(5))
    with pytest.raises(TypeError, match=r"missing the fields \['observations'"):
        ReplayBuffer(jnp.int32(0), rewards=jnp.zeros(5))


def test_the_earlier_add_writes_one_transition():
    buffer = ReplayBuffer(4, Box(-10.0, 10.0, (2,)), Discrete(3), None)
    flags = [(False, False), (True, False), (True, True), (False, True)]
    for i, (done, timeout) in enumerate(flags):
        # add(observation, next_observation, action, reward, done, timeout,
        #     state, next_state, action_mask=None)
        buffer = buffer.add(
            jnp.array([i, -i], jnp.float32),
            jnp.array([i + 0.5, 0.0]),
            jnp.int32(i % 3),
            float(i) * 10,
            jnp.array(done),
            timeout,
            None,
            None,
        )
        assert int(buffer.current_size) == i + 1
    np.testing.assert_array_equal(buffer.observations[:, 1], [0, -1, -2, -3])
    np.testing.assert_array_equal(buffer.next_observations[:, 0], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(buffer.actions, [0, 1, 2, 0])
    np.testing.assert_array_equal(buffer.rewards, [0.0, 10.0, 20.0, 30.0])
    # only a done that is not a timeout terminates (is not bootstrapped)
    np.testing.assert_array_equal(buffer.terminated, [False, True, False, False])
    np.testing.assert_array_equal(buffer.dones, buffer.terminated)
    assert not buffer.timeouts.any()
    not_terminal = ~buffer.dones | buffer.timeouts  # the earlier TD mask
    np.testing.assert_array_equal(not_terminal, ~buffer.terminated)
    assert int(buffer.position) == 0


def test_the_earlier_add_by_keyword_with_states():
    buffer = ReplayBuffer(3, Box(-10.0, 10.0, (2,)), Discrete(3), state_example())
    add = eqx.filter_jit(
        lambda b, v: b.add(
            observation=jnp.stack([v, v]),
            next_observation=jnp.stack([v, v]) + 1,
            action=jnp.int32(2),
            reward=v,
            done=False,
            timeout=False,
            state={"hidden": jnp.full((3,), v), "count": v.astype(jnp.int32)},
            next_state={"hidden": jnp.full((3,), v + 1), "count": v.astype(jnp.int32)},
            action_mask=jnp.ones(3, bool),  # not stored, as the earlier buffer
        )
    )
    for v in (4.0, 5.0):
        buffer = add(buffer, jnp.float32(v))
    np.testing.assert_array_equal(buffer.rewards, [4.0, 5.0, 0.0])
    np.testing.assert_array_equal(buffer.states["count"], [4, 5, 0])
    np.testing.assert_array_equal(buffer.next_states["hidden"][:2, 0], [5.0, 6.0])
    # positional up to `timeout`, states by keyword
    one = jnp.ones(2)
    buffer = buffer.add(
        one,
        one,
        1,
        3.0,
        True,
        False,
        state=states(jnp.array(7.0)),
        next_state=states(jnp.array(8.0)),
    )
    assert int(buffer.states["count"][2]) == 7 and bool(buffer.terminated[2])


def test_the_earlier_add_reports_bad_calls():
    buffer = ReplayBuffer(3, Box(-1.0, 1.0, (2,)), Discrete(3), None)
    one = jnp.zeros(2)
    with pytest.raises(TypeError, match=r"missing \['timeout'\]"):
        buffer.add(
            observation=one, next_observation=one, action=0, reward=0.0, done=False
        )
    with pytest.raises(TypeError, match="got `reward` twice"):
        buffer.add(one, one, 0, 1.0, False, False, reward=1.0)
    with pytest.raises(TypeError, match=r"missing \['terminated'\]"):
        buffer.add(
            jnp.zeros((1, 2)), jnp.zeros(1, jnp.int32), jnp.zeros(1), jnp.zeros((1, 2))
        )
    masked = ReplayBuffer.create(
        3, Box(-1.0, 1.0, (2,)), Discrete(3), mask_example=jnp.ones(3, bool)
    )
    with pytest.raises(ValueError, match="stores action masks.*next_action_masks"):
        masked.add(one, one, 0, 1.0, False, False, None, None, jnp.ones(3, bool))
    stateful = ReplayBuffer(3, Box(-1.0, 1.0, (2,)), Discrete(3), state_example())
    with pytest.raises(ValueError, match="stores policy states"):
        stateful.add(one, one, 0, 1.0, False, False)


def test_per_env_buffers_stacked_by_vmap_are_sampled_together():
    import jax
    import jax.random as jr

    num_envs, capacity = 3, 4
    make = lambda _: ReplayBuffer(capacity, Box(-9.0, 9.0, (2,)), Discrete(3), None)
    buffers = jax.vmap(make)(jnp.arange(num_envs))
    assert buffers.shape == (num_envs, capacity)

    def add(buffer, env, step):
        value = env * 10.0 + step
        return buffer.add(
            jnp.stack([value, env]), jnp.zeros(2), 0, value, False, False, None, None
        )

    for step in range(2):  # two of four rows filled in each env
        buffers = jax.vmap(add, in_axes=(0, 0, None))(
            buffers, jnp.arange(num_envs, dtype=jnp.float32), float(step)
        )
    np.testing.assert_array_equal(buffers.current_size, [2, 2, 2])
    batch = buffers.sample(3000, key=jr.key(0))
    drawn = np.asarray(batch["rewards"])
    assert set(drawn.tolist()) == {0.0, 1.0, 10.0, 11.0, 20.0, 21.0}
    counts = np.unique(drawn, return_counts=True)[1]
    assert counts.min() > 400  # about 500 each
    np.testing.assert_array_equal(batch["observations"][:, 0], drawn)
    np.testing.assert_array_equal(batch["observations"][:, 1], drawn // 10)


def test_keyword_construction_and_replace_still_work():
    import dataclasses

    buffer = ReplayBuffer.create(3, Box(-1.0, 1.0, (2,)), Discrete(3))
    again = dataclasses.replace(buffer, size=jnp.int32(2))
    assert int(again.size) == 2 and again.capacity == 3
    fields = {f.name: getattr(buffer, f.name) for f in dataclasses.fields(buffer)}
    assert eqx.tree_equal(ReplayBuffer(**fields), buffer)


def test_numpy_int_capacities_and_batch_sizes_are_accepted():
    import jax.random as jr

    buffer = ReplayBuffer.create(np.int64(8), Box(-1.0, 1.0, (2,)), Discrete(3))
    assert buffer.capacity == 8 and type(buffer.capacity) is int
    earlier = ReplayBuffer(np.int32(5), Box(-1.0, 1.0, (2,)), Discrete(3), None)
    assert earlier.capacity == 5
    filled = buffer.map_rows(lambda x: x)
    assert filled.sample(np.int64(3), key=jr.key(0))["rewards"].shape == (3,)


def test_capacity_errors_name_the_argument_and_the_fix():
    space, actions = Box(-1.0, 1.0, (2,)), Discrete(3)
    with pytest.raises(
        ValueError, match=r"`ReplayBuffer.create\(capacity=...\)`.*>= 1"
    ):
        ReplayBuffer.create(0, space, actions)
    with pytest.raises(ValueError, match=r"capacity=.*got 8.0.*Pass it as an int, `8`"):
        ReplayBuffer.create(8.0, space, actions)
    with pytest.raises(ValueError, match=r"capacity=.*a bool.*as an int"):
        ReplayBuffer.create(True, space, actions)
    with pytest.raises(ValueError, match=r"ReplayBuffer\(size=...\)`.*>= 1"):
        ReplayBuffer(0, space, actions, None)


def test_sampling_an_empty_buffer_eagerly_is_refused_but_traced_sizes_work():
    import jax
    import jax.random as jr

    buffer = ReplayBuffer.create(8, Box(-1.0, 1.0, (2,)), Discrete(3))
    with pytest.raises(ValueError, match=r"`ReplayBuffer.sample`.*empty.*`add`"):
        buffer.sample(3, key=jr.key(0))
    # traced: the size is unknown, so nothing is checked (the loop's contract)
    sample = jax.jit(lambda b, k: b.sample(3, key=k))
    np.testing.assert_array_equal(sample(buffer, jr.key(0))["rewards"], [0.0] * 3)
    one = buffer.add(
        jnp.ones((1, 2)),
        jnp.zeros(1, jnp.int32),
        jnp.ones(1),
        jnp.ones((1, 2)),
        jnp.zeros(1, bool),
    )
    np.testing.assert_array_equal(one.sample(3, key=jr.key(0))["rewards"], [1.0] * 3)
    np.testing.assert_array_equal(sample(one, jr.key(0))["rewards"], [1.0] * 3)
    # stacked buffers: refused while any env's buffer is empty
    stacked = jax.vmap(lambda _: buffer)(jnp.arange(2))
    with pytest.raises(ValueError, match=r"empty.*flat env indices \[0, 1\]"):
        stacked.sample(3, key=jr.key(0))


def test_an_earlier_form_add_read_as_batched_says_which_form_and_why():
    # the earlier form with a shape-(1,) reward in the fourth slot is read as
    # the batched form: the action lands in `rewards`
    buffer = ReplayBuffer(4, Box(-1.0, 1.0, (2,)), Discrete(3), None)
    one = jnp.zeros(2)
    with pytest.raises(ValueError) as info:
        buffer.add(one, one, 1, jnp.ones(1), False, False)
    message = " ".join(str(info.value).split())
    assert "`rewards` must have shape (n,)" in message
    assert "read as the batched form" in message
    assert "fourth positional argument" in message and "not a single scalar" in message
    assert "add(observation, next_observation, action, reward" in message
    # with a scalar reward the earlier form is recognised and works
    assert int(buffer.add(one, one, 1, jnp.ones(1)[0], False, False).size) == 1
    # a batched call whose shapes are wrong otherwise, with one `terminated`
    # flag, gets the note too; one with per-transition flags does not
    with pytest.raises(ValueError, match="read as the batched form"):
        buffer.add(one, jnp.zeros(1, jnp.int32), jnp.ones(1), jnp.zeros((1, 2)), False)
    with pytest.raises(ValueError) as info:
        buffer.add(
            jnp.zeros((1, 3)),
            jnp.zeros(1, jnp.int32),
            jnp.ones(1),
            jnp.zeros((1, 2)),
            jnp.zeros(1, bool),
        )
    assert "read as the batched form" not in str(info.value)
