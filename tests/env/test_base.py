"""The reset/step contract of `AbstractEnvLike`, checked on purpose-built toy envs."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

from lerax.env import AbstractEnv, AbstractEnvState
from lerax.space import Box, Discrete

# Incremented each time `CounterEnv.transition` runs in Python, i.e. each trace.
TRACES = {"transition": 0}


class CounterState(AbstractEnvState):
    t: Int[Array, ""]
    pos: Int[Array, ""]


class CounterEnv(AbstractEnv):
    """Counts steps `t` and sums actions into `pos`.

    Observation `[t, pos]`; reward `10 * action + t'`; terminated when
    `t' == length`; truncated when `pos' >= limit`; action 2 is allowed only
    on even `t`.
    """

    name: str = "Counter"
    action_space: Discrete = Discrete(3)
    observation_space: Box = Box(0.0, 100.0, (2,))
    length: int = 4
    limit: int = 5

    def initial(self, *, key):
        del key
        return CounterState(jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))

    def transition(self, state, action, *, key):
        del key
        TRACES["transition"] += 1
        return CounterState(state.t + 1, state.pos + action)

    def observation(self, state, *, key):
        del key
        return jnp.stack([state.t, state.pos]).astype(jnp.float32)

    def reward(self, state, action, next_state, *, key):
        del state, key
        return (10 * action + next_state.t).astype(jnp.float32)

    def terminal(self, state, *, key):
        del key
        return state.t >= self.length

    def truncate(self, state):
        return state.pos >= self.limit

    def action_mask(self, state, *, key):
        del key
        return jnp.stack([jnp.array(True), jnp.array(True), state.t % 2 == 0])

    def state_info(self, state):
        return {"t": state.t}

    def transition_info(self, state, action, next_state):
        del action
        return {"delta": next_state.pos - state.pos}


class PointState(AbstractEnvState):
    pos: Float[Array, " 2"]


class PointEnv(AbstractEnv):
    """A point moved by a `Box(-1, 1, (2,))` action; starts at a random position."""

    name: str = "Point"
    action_space: Box = Box(-1.0, 1.0, (2,))
    observation_space: Box = Box(-jnp.inf, jnp.inf, (2,))

    def initial(self, *, key):
        return PointState(jr.normal(key, (2,)))

    def transition(self, state, action, *, key):
        del key
        return PointState(state.pos + action)

    def observation(self, state, *, key):
        del key
        return state.pos

    def reward(self, state, action, next_state, *, key):
        del state, action, key
        return -jnp.sum(next_state.pos**2)

    def terminal(self, state, *, key):
        del state, key
        return jnp.array(False)

    def truncate(self, state):
        del state
        return jnp.array(False)

    def action_mask(self, state, *, key):
        del state, key
        return None

    def state_info(self, state):
        del state
        return {}

    def transition_info(self, state, action, next_state):
        del state, action, next_state
        return {}


class VectorRewardEnv(AbstractEnv):
    """A broken env whose reward has shape (1,)."""

    name: str = "VectorReward"
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(-1.0, 1.0, ())

    def initial(self, *, key):
        del key
        return PointState(jnp.zeros(2))

    def transition(self, state, action, *, key):
        del action, key
        return state

    def observation(self, state, *, key):
        del key
        return state.pos[0]

    def reward(self, state, action, next_state, *, key):
        del state, action, next_state, key
        return jnp.ones((1,))

    def terminal(self, state, *, key):
        del state, key
        return jnp.array(False)

    def truncate(self, state):
        del state
        return jnp.array(False)

    def action_mask(self, state, *, key):
        del state, key
        return None

    def state_info(self, state):
        del state
        return {}

    def transition_info(self, state, action, next_state):
        del state, action, next_state
        return {}


class GrowingStateEnv(AbstractEnv):
    """A broken env whose `transition` changes the state's shape."""

    name: str = "GrowingState"
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(-1.0, 1.0, ())

    def initial(self, *, key):
        del key
        return PointState(jnp.zeros(2))

    def transition(self, state, action, *, key):
        del action, key
        return PointState(jnp.zeros(3))

    def observation(self, state, *, key):
        del key
        return state.pos[0]

    def reward(self, state, action, next_state, *, key):
        del state, action, next_state, key
        return jnp.array(0.0)

    def terminal(self, state, *, key):
        del state, key
        return jnp.array(False)

    def truncate(self, state):
        del state
        return jnp.array(False)

    def action_mask(self, state, *, key):
        del state, key
        return None

    def state_info(self, state):
        del state
        return {}

    def transition_info(self, state, action, next_state):
        del state, action, next_state
        return {}


def rollout(env, state, actions, key):
    """Steps `env` through `actions` with `lax.scan`; returns the final state and
    per-step `(obs, reward, terminated, truncated, final_observation)`."""

    def body(state, inputs):
        action, k = inputs
        state, obs, reward, terminated, truncated, info = env.step(state, action, key=k)
        return state, (obs, reward, terminated, truncated, info["final_observation"])

    keys = jr.split(key, len(actions))
    return jax.lax.scan(body, state, (actions, keys))


run = eqx.filter_jit(rollout)


def test_reset(getkey):
    env = CounterEnv()
    state, obs, info = env.reset(key=getkey())
    assert isinstance(state, CounterState)
    np.testing.assert_array_equal(obs, [0.0, 0.0])
    assert obs.dtype == jnp.float32
    assert set(info) == {"t"} and int(info["t"]) == 0
    assert env.unwrapped is env
    assert state.unwrapped is state


def test_step_values_and_auto_reset_on_termination(getkey):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    for t in range(1, 4):
        state, obs, reward, terminated, truncated, info = env.step(
            state, 1, key=getkey()
        )
        np.testing.assert_array_equal(obs, [t, t])
        np.testing.assert_array_equal(info["final_observation"], obs)
        assert float(reward) == 10 + t
        assert not terminated and not truncated
        assert int(info["delta"]) == 1
    # The fourth step ends the episode: the observation already belongs to the
    # next episode, the final observation is the last one of this episode.
    state, obs, reward, terminated, truncated, info = env.step(state, 1, key=getkey())
    assert bool(terminated) and not bool(truncated)
    assert float(reward) == 14.0
    np.testing.assert_array_equal(obs, [0.0, 0.0])
    np.testing.assert_array_equal(info["final_observation"], [4.0, 4.0])
    assert int(state.t) == 0 and int(state.pos) == 0
    assert int(info["delta"]) == 1
    # The next episode carries on normally.
    state, obs, reward, terminated, truncated, info = env.step(state, 0, key=getkey())
    np.testing.assert_array_equal(obs, [1.0, 0.0])
    assert float(reward) == 1.0 and not terminated and not truncated


def test_step_without_autoreset_keeps_the_finished_episode(getkey):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    calls = []
    # `restart` is not even traced: nothing of the next episode is computed
    restart = CounterEnv.restart

    def counting(self, state, *, key):
        calls.append(1)
        return restart(self, state, key=key)

    for t in range(1, 5):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(CounterEnv, "restart", counting)
            state, obs, reward, terminated, truncated, info = env.step(
                state, 1, key=getkey(), autoreset=False
            )
        np.testing.assert_array_equal(obs, [t, t])
        np.testing.assert_array_equal(info["final_observation"], obs)
        assert float(reward) == 10 + t and bool(terminated) == (t == 4)
    assert calls == []
    # the state is the terminal one, not a fresh episode's
    assert int(state.t) == 4 and int(state.pos) == 4
    # the same step with the default restarts
    restarted = env.step(
        CounterState(jnp.array(3, jnp.int32), jnp.array(3, jnp.int32)), 1, key=getkey()
    )
    np.testing.assert_array_equal(restarted[1], [0.0, 0.0])
    with pytest.raises(TypeError, match=r"autoreset=...\)` must be a Python bool"):
        env.step(state, 1, key=getkey(), autoreset=jnp.array(False))


def test_auto_reset_on_truncation(getkey):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    actions = jnp.full((7,), 2, jnp.int32)
    _, (obs, reward, terminated, truncated, final) = run(env, state, actions, getkey())
    # pos: 2, 4, 6 -> truncated on step 3 (pos >= 5) with t = 3 < 4.
    np.testing.assert_array_equal(truncated, [0, 0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(terminated, np.zeros(7))
    np.testing.assert_array_equal(obs[2], [0.0, 0.0])
    np.testing.assert_array_equal(final[2], [3.0, 6.0])
    np.testing.assert_array_equal(obs[3], [1.0, 2.0])
    np.testing.assert_array_equal(reward, [21, 22, 23, 21, 22, 23, 21])


def test_terminated_and_truncated_together(getkey):
    env = CounterEnv(limit=4)
    state, _, _ = env.reset(key=getkey())
    actions = jnp.ones((4,), jnp.int32)
    _, (obs, _, terminated, truncated, final) = run(env, state, actions, getkey())
    assert bool(terminated[3]) and bool(truncated[3])
    np.testing.assert_array_equal(obs[3], [0.0, 0.0])
    np.testing.assert_array_equal(final[3], [4.0, 4.0])


def test_output_dtypes_and_shapes(getkey):
    env = PointEnv()
    state, obs, _ = env.reset(key=getkey())
    out = env.step(state, jnp.array([0.5, -0.5]), key=getkey())
    state, obs, reward, terminated, truncated, info = out
    assert obs.shape == (2,) and obs.dtype == jnp.float32
    assert reward.shape == () and reward.dtype == jnp.float32
    assert terminated.shape == () and terminated.dtype == jnp.bool_
    assert truncated.shape == () and truncated.dtype == jnp.bool_
    assert set(info) == {"final_observation"}
    assert info["final_observation"].shape == (2,)
    np.testing.assert_allclose(reward, -np.sum(np.asarray(obs) ** 2), rtol=1e-6)
    # Integer rewards from an env are cast to float32 as well.
    counter = CounterEnv()
    cstate, _, _ = counter.reset(key=getkey())
    _, _, reward, terminated, truncated, _ = counter.step(cstate, 0, key=getkey())
    assert reward.dtype == jnp.float32 and terminated.dtype == jnp.bool_


def test_scan_over_steps(getkey):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    actions = jnp.ones((10,), jnp.int32)
    state, (obs, reward, terminated, truncated, final) = run(
        env, state, actions, getkey()
    )
    np.testing.assert_array_equal(reward, [11, 12, 13, 14] * 2 + [11, 12])
    np.testing.assert_array_equal(np.flatnonzero(terminated), [3, 7])
    assert not truncated.any()
    np.testing.assert_array_equal(obs[:, 0], [1, 2, 3, 0, 1, 2, 3, 0, 1, 2])
    np.testing.assert_array_equal(final[:, 0], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2])
    assert int(state.t) == 2


def test_vmap_over_a_batch_of_states(getkey):
    env = CounterEnv()
    keys = jr.split(getkey(), 3)
    states, obs, info = jax.vmap(lambda k: env.reset(key=k))(keys)
    assert obs.shape == (3, 2) and info["t"].shape == (3,)
    actions = jnp.array([0, 1, 2], jnp.int32)
    step = jax.vmap(env.step)
    for _ in range(2):
        states, obs, reward, terminated, truncated, info = step(
            states, actions, key=jr.split(getkey(), 3)
        )
    np.testing.assert_array_equal(obs, [[2, 0], [2, 2], [2, 4]])
    assert reward.shape == (3,) and terminated.shape == (3,)
    # Only the third env truncates on the next step; only it is reset.
    states, obs, reward, terminated, truncated, info = step(
        states, actions, key=jr.split(getkey(), 3)
    )
    np.testing.assert_array_equal(truncated, [False, False, True])
    np.testing.assert_array_equal(obs, [[3, 0], [3, 3], [0, 0]])
    np.testing.assert_array_equal(info["final_observation"][2], [3, 6])
    np.testing.assert_array_equal(states.t, [3, 3, 0])


def test_vmap_and_scan_together(getkey):
    env = CounterEnv()
    keys = jr.split(getkey(), 2)
    states, _, _ = jax.vmap(lambda k: env.reset(key=k))(keys)
    actions = jnp.stack([jnp.zeros(6, jnp.int32), jnp.ones(6, jnp.int32)])
    batched = eqx.filter_jit(jax.vmap(rollout, in_axes=(None, 0, 0, 0)))
    _, (obs, reward, terminated, _, _) = batched(env, states, actions, keys)
    np.testing.assert_array_equal(reward[0], [1, 2, 3, 4, 1, 2])
    np.testing.assert_array_equal(reward[1], [11, 12, 13, 14, 11, 12])
    np.testing.assert_array_equal(terminated[:, 3], [True, True])


def test_action_mask_depends_on_state(getkey):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    np.testing.assert_array_equal(env.action_mask(state, key=getkey()), [1, 1, 1])
    state, *_ = env.step(state, 0, key=getkey())
    np.testing.assert_array_equal(env.action_mask(state, key=getkey()), [1, 1, 0])
    # A mask can be used to sample an allowed action.
    mask = env.action_mask(state, key=getkey())
    for _ in range(5):
        assert int(env.action_space.sample(key=getkey(), mask=mask)) in (0, 1)


def test_step_does_not_retrace(getkey):
    # A `length` no other test uses, so the compilation cache starts empty.
    env = CounterEnv(length=97, limit=100)
    state, _, _ = env.reset(key=getkey())
    before = TRACES["transition"]
    state, *_ = env.step(state, 1, key=getkey())
    assert TRACES["transition"] == before + 1
    state, *_ = env.step(state, 2, key=getkey())
    state, *_ = env.step(state, jnp.array(0, jnp.int32), key=getkey())
    state, *_ = env.step(state, np.int32(1), key=getkey())
    state, *_ = env.step(state, np.int64(0), key=getkey())
    # An equal env (a different Python object) reuses the compilation too.
    state, *_ = CounterEnv(length=97, limit=100).step(state, 1, key=getkey())
    assert TRACES["transition"] == before + 1
    assert int(state.t) == 6


def test_reset_does_not_retrace(getkey):
    env = CounterEnv(length=98)

    @eqx.debug.assert_max_traces(max_traces=1)
    def reset(key):
        return env.reset(key=key)

    jitted = jax.jit(reset)
    for _ in range(3):
        jitted(getkey())


@pytest.mark.parametrize(
    "action",
    [jnp.array([1, 0], jnp.int32), jnp.array(1.0), 1.5, jnp.array(True)],
    ids=["shape", "float-dtype", "python-float", "bool"],
)
def test_wrong_discrete_action_structure_raises_value_error(getkey, action):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(ValueError, match=r"action space Discrete\(3\)"):
        env.step(state, action, key=getkey())


@pytest.mark.parametrize(
    "action",
    [jnp.zeros((3,)), jnp.zeros(()), jnp.zeros((2, 1)), (0.0, 0.0, 0.0), [[0.0]]],
    ids=["too-long", "scalar", "2d", "long-tuple", "nested-list"],
)
def test_wrong_box_action_shape_raises_value_error(getkey, action):
    env = PointEnv()
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(ValueError, match=r"action space Box\(.*shape=\(2,\)"):
        env.step(state, action, key=getkey())


def test_sequence_action_for_box_space_becomes_an_array(getkey):
    env = PointEnv()
    state, _, _ = env.reset(key=getkey())
    key = getkey()
    expected = env.step(state, jnp.array([0.5, -0.25]), key=key)
    for action in [(0.5, -0.25), [0.5, -0.25], np.array([0.5, -0.25])]:
        out = env.step(state, action, key=key)
        np.testing.assert_array_equal(out[1], expected[1])
        assert isinstance(out[0].pos, jax.Array) and out[0].pos.shape == (2,)


@pytest.mark.parametrize("action", [3, -1, 100])
def test_out_of_range_discrete_action_raises_at_run_time(getkey, action):
    env = CounterEnv()
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(eqx.EquinoxRuntimeError, match="outside the action space"):
        jax.block_until_ready(env.step(state, action, key=getkey()))


def test_out_of_range_box_action_raises_at_run_time(getkey):
    env = PointEnv()
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(eqx.EquinoxRuntimeError, match="outside the action space"):
        jax.block_until_ready(env.step(state, jnp.array([0.0, 1.5]), key=getkey()))
    with pytest.raises(eqx.EquinoxRuntimeError):
        jax.block_until_ready(env.step(state, jnp.array([jnp.nan, 0.0]), key=getkey()))
    # In-range (and integer) actions are fine.
    jax.block_until_ready(env.step(state, jnp.array([1.0, -1.0]), key=getkey()))
    jax.block_until_ready(env.step(state, jnp.array([1, 0]), key=getkey()))


def test_out_of_range_action_under_vmap_raises(getkey):
    env = CounterEnv()
    states, _, _ = jax.vmap(lambda k: env.reset(key=k))(jr.split(getkey(), 2))
    with pytest.raises(eqx.EquinoxRuntimeError):
        jax.block_until_ready(
            jax.vmap(env.step)(
                states, jnp.array([0, 5], jnp.int32), key=jr.split(getkey(), 2)
            )
        )


def test_non_scalar_reward_raises_value_error(getkey):
    env = VectorRewardEnv()
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(
        ValueError, match="VectorRewardEnv.reward` must return a scalar"
    ):
        env.step(state, 0, key=getkey())


def test_random_initial_state_uses_the_key(getkey):
    env = PointEnv()
    key = getkey()
    _, obs1, _ = env.reset(key=key)
    _, obs2, _ = env.reset(key=key)
    _, obs3, _ = env.reset(key=getkey())
    np.testing.assert_array_equal(obs1, obs2)
    assert not np.array_equal(obs1, obs3)


def test_state_layout_mismatch_raises_value_error(getkey):
    env = GrowingStateEnv()
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(ValueError, match="same structure, shapes and dtypes"):
        env.step(state, 0, key=getkey())


def test_unchecked_step_skips_only_the_run_time_value_check(getkey):
    env = PointEnv()
    state, _, _ = env.reset(key=getkey())
    key = getkey()
    # out of range: no error without the check, same dynamics as the env gives
    unchecked = env.step(state, jnp.array([0.0, 1.5]), key=key, check=False)
    jax.block_until_ready(unchecked)
    with pytest.raises(eqx.EquinoxRuntimeError):
        jax.block_until_ready(env.step(state, jnp.array([0.0, 1.5]), key=key))
    # in range: identical results either way
    a = env.step(state, jnp.array([0.5, -0.5]), key=key, check=False)
    b = env.step(state, jnp.array([0.5, -0.5]), key=key)
    np.testing.assert_array_equal(a[1], b[1])
    # structure is still checked at trace time
    with pytest.raises(ValueError, match="action space"):
        env.step(state, jnp.zeros((3,)), key=key, check=False)
