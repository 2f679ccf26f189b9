"""`TimeLimit`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.wrapper import TimeLimit, TimeLimitState

from .toy_envs import MaskedDiscreteEnv, reset_and_run


def test_truncates_at_exactly_max_steps_and_resets_its_counter(getkey):
    env = TimeLimit(MaskedDiscreteEnv(length=1000), 3)
    assert env.name == "MaskedDiscrete"
    assert env.action_space == env.env.action_space
    assert env.observation_space == env.env.observation_space
    reset_obs, state, out = reset_and_run(env, jnp.ones(8, jnp.int32), getkey())
    assert isinstance(state, TimeLimitState)
    np.testing.assert_array_equal(reset_obs, [0.0, 0.0])
    np.testing.assert_array_equal(out["truncated"], [0, 0, 1, 0, 0, 1, 0, 0])
    assert not out["terminated"].any()
    np.testing.assert_array_equal(out["state"].step_count, [1, 2, 0, 1, 2, 0, 1, 2])
    # The inner env was restarted too.
    np.testing.assert_array_equal(out["obs"][:, 0], [1, 2, 0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(
        out["info"]["final_observation"][:, 0], [1, 2, 3, 1, 2, 3, 1, 2]
    )


def test_inner_termination_resets_the_counter(getkey):
    env = TimeLimit(MaskedDiscreteEnv(length=2), 3)
    _, _, out = reset_and_run(env, jnp.zeros(6, jnp.int32), getkey())
    np.testing.assert_array_equal(out["terminated"], [0, 1, 0, 1, 0, 1])
    assert not out["truncated"].any()
    np.testing.assert_array_equal(out["state"].step_count, [1, 0, 1, 0, 1, 0])


def test_termination_and_truncation_on_the_same_step(getkey):
    env = TimeLimit(MaskedDiscreteEnv(length=3), 3)
    _, _, out = reset_and_run(env, jnp.zeros(3, jnp.int32), getkey())
    np.testing.assert_array_equal(out["terminated"], [0, 0, 1])
    np.testing.assert_array_equal(out["truncated"], [0, 0, 1])


def test_limit_of_one_truncates_every_step(getkey):
    env = TimeLimit(MaskedDiscreteEnv(), 1)
    _, _, out = reset_and_run(env, jnp.zeros(4, jnp.int32), getkey())
    assert out["truncated"].all()
    np.testing.assert_array_equal(out["obs"], np.zeros((4, 2)))


def test_nested_time_limits(getkey):
    # The inner limit truncates, which also restarts the outer counter.
    env = TimeLimit(TimeLimit(MaskedDiscreteEnv(length=1000), 2), 5)
    _, _, out = reset_and_run(env, jnp.zeros(6, jnp.int32), getkey())
    np.testing.assert_array_equal(out["truncated"], [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(out["state"].step_count, [1, 0, 1, 0, 1, 0])
    env = TimeLimit(TimeLimit(MaskedDiscreteEnv(length=1000), 5), 2)
    _, _, out = reset_and_run(env, jnp.zeros(6, jnp.int32), getkey())
    np.testing.assert_array_equal(out["truncated"], [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(out["state"].env_state.step_count, [1, 0] * 3)


def test_forwards_masks_and_state(getkey):
    env = TimeLimit(MaskedDiscreteEnv(length=1000), 10)
    state, _, info = env.reset(key=getkey())
    assert int(info["t"]) == 0
    assert state.unwrapped is state.env_state
    for _ in range(2):
        state, *_ = env.step(state, 0, key=getkey())
    np.testing.assert_array_equal(env.action_mask(state, key=getkey()), [1, 1, 1, 0])
    assert int(state.unwrapped.t) == 2


def test_vmapped_counters(getkey):
    env = TimeLimit(MaskedDiscreteEnv(length=1000), 3)
    keys = jr.split(getkey(), 2)
    states, _, _ = jax.vmap(lambda k: env.reset(key=k))(keys)
    step = jax.vmap(env.step)
    # Advance only the first env's counter by restarting the second env.
    states, *_ = step(states, jnp.zeros(2, jnp.int32), key=keys)
    np.testing.assert_array_equal(states.step_count, [1, 1])
    states = TimeLimitState(states.env_state, states.step_count.at[1].set(jnp.int32(2)))
    states, _, _, _, truncated, _ = step(states, jnp.zeros(2, jnp.int32), key=keys)
    np.testing.assert_array_equal(truncated, [False, True])
    np.testing.assert_array_equal(states.step_count, [2, 0])


@pytest.mark.parametrize("steps", [0, -1, 2.5, True, np.int64(0), float("inf")])
def test_bad_limit_raises_value_error(steps):
    with pytest.raises(ValueError, match="max_episode_steps"):
        TimeLimit(MaskedDiscreteEnv(), steps)


@pytest.mark.parametrize("steps", ["5", None, [5]])
def test_a_limit_that_is_no_number_raises_type_error(steps):
    # accepted, then failed at the first step comparing a tracer with "5"
    with pytest.raises(TypeError, match="max_episode_steps"):
        TimeLimit(MaskedDiscreteEnv(), steps)


@pytest.mark.parametrize(
    "steps",
    [
        np.array(0),
        np.array(-3),
        np.array(2.5),
        np.array([5, 0]),
        jnp.array(-1),
        jnp.array([3.0, 2.5]),
        np.array(np.nan),
        np.array(True),
    ],
)
def test_a_concrete_array_limit_is_checked_as_a_number(steps):
    # concrete arrays skipped the check: np.array(0) truncated every step
    # and np.array(2.5) after three
    with pytest.raises(
        ValueError,
        match=r"`TimeLimit\(max_episode_steps=\.\.\.\)` must be a positive int "
        r"\(or an array of them, one per env\).*at least 1",
    ):
        TimeLimit(MaskedDiscreteEnv(), steps)


def test_a_text_array_limit_raises_type_error():
    with pytest.raises(TypeError, match="max_episode_steps"):
        TimeLimit(MaskedDiscreteEnv(), np.array("5"))


def test_array_and_traced_limits_are_accepted(getkey):
    TimeLimit(MaskedDiscreteEnv(), np.array(3))
    TimeLimit(MaskedDiscreteEnv(), jnp.array([1, 4], jnp.int32))
    TimeLimit(MaskedDiscreteEnv(), np.array([2.0, 7.0]))

    # a limit traced under vmap (one per env) still builds and truncates
    def truncated_after_two_steps(limit, key):
        env = TimeLimit(MaskedDiscreteEnv(length=1000), limit)
        return reset_and_run(env, jnp.zeros(2, jnp.int32), key)[2]["truncated"]

    keys = jr.split(getkey(), 2)
    out = jax.vmap(truncated_after_two_steps)(jnp.array([1, 2]), keys)
    np.testing.assert_array_equal(out, [[1, 1], [0, 1]])


def test_integral_limits_are_accepted(getkey):
    assert TimeLimit(MaskedDiscreteEnv(), 2.0).max_episode_steps == 2.0
    env = TimeLimit(MaskedDiscreteEnv(length=1000), np.int64(2))
    _, _, out = reset_and_run(env, jnp.zeros(2, jnp.int32), getkey())
    np.testing.assert_array_equal(out["truncated"], [0, 1])


@pytest.mark.parametrize("limit", [2**31, 10**12, np.int64(2**40), np.array(2**40)])
def test_a_limit_beyond_int32_never_truncates_early(getkey, limit):
    # Gymnasium's TimeLimit takes any positive int: a huge limit means "no
    # limit". A Python int beyond int32 failed under jit with an
    # OverflowError, and a NumPy int64 wrapped round (2**40 to 0), which
    # truncated every single step.
    gymnasium = pytest.importorskip("gymnasium")
    oracle = gymnasium.wrappers.TimeLimit(
        gymnasium.make("CartPole-v1").env, int(np.max(limit))
    )
    oracle.reset(seed=0)
    assert not oracle.step(0)[3]
    env = TimeLimit(MaskedDiscreteEnv(length=1000), limit)
    _, _, out = reset_and_run(env, jnp.ones(4, jnp.int32), getkey())
    assert not out["truncated"].any()
    np.testing.assert_array_equal(out["state"].step_count, [1, 2, 3, 4])


def test_the_step_count_saturates_instead_of_wrapping(getkey):
    env = TimeLimit(MaskedDiscreteEnv(length=1000), 2**31)
    state, _, _ = env.reset(key=getkey())
    top = jnp.array(np.iinfo(np.int32).max, jnp.int32)
    state = eqx.tree_at(lambda s: s.step_count, state, top - 1)
    state, _, _, _, truncated, _ = env.step(state, jnp.array(1), key=getkey())
    assert int(state.step_count) == 0 and bool(truncated)  # at 2**31 - 1
    state = eqx.tree_at(lambda s: s.step_count, state, top)
    next_state = env.advance(state, jnp.array(1), state.env_state, key=getkey())
    assert int(next_state.step_count) == int(top)  # not -2**31
