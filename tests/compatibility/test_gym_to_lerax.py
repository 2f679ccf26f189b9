"""`GymToLeraxEnv`: a Gymnasium env stepped from compiled lerax code."""

import equinox as eqx
import gymnasium
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from equinox import EquinoxRuntimeError

from lerax.algorithm import PPO
from lerax.compatibility import GymToLeraxEnv
from lerax.policy import MLPActorCriticPolicy
from lerax.space import Box, Discrete
from lerax.wrapper import TimeLimit


def _rollout(env, key, steps, action=1):
    @jax.jit
    def run(key):
        state, obs, _ = env.reset(key=key)

        def body(state, key):
            state, obs, reward, terminated, truncated, info = env.step(
                state, jnp.int32(action), key=key
            )
            return state, (
                obs,
                reward,
                terminated,
                truncated,
                info["final_observation"],
            )

        return obs, jax.lax.scan(body, state, jr.split(key, steps))[1]

    return jax.device_get(run(key))


def test_steps_the_gymnasium_env_with_lerax_semantics():
    env = GymToLeraxEnv(gymnasium.make("CartPole-v1", max_episode_steps=30))
    assert env.name == "GymToLeraxEnv(CartPole-v1)"
    assert env.action_space == Discrete(2)
    assert isinstance(env.observation_space, Box)
    first, (obs, rewards, terminated, truncated, final) = _rollout(env, jr.key(0), 40)
    np.testing.assert_array_equal(rewards, 1.0)
    end = int(np.flatnonzero(terminated)[0])  # always pushing right: it falls
    assert not truncated[: end + 1].any()
    # Before the end the observation is the step's own; at the end, lerax's
    # auto-reset gives the next episode's start and keeps the last one aside.
    np.testing.assert_array_equal(obs[:end], final[:end])
    assert abs(final[end, 2]) > 0.2094 or abs(final[end, 0]) > 2.4
    assert np.all(np.abs(obs[end]) <= 0.05)

    # The same key replays the same run (resets are seeded from it).
    again = _rollout(env, jr.key(0), 40)
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1][0], obs)
    assert not np.array_equal(_rollout(env, jr.key(1), 1)[0], first)


def test_gymnasium_time_limit_is_truncation():
    env = GymToLeraxEnv(gymnasium.make("Pendulum-v1", max_episode_steps=5))

    @jax.jit
    def run(key):
        state, _, _ = env.reset(key=key)

        def body(state, key):
            state, _, _, terminated, truncated, _ = env.step(
                state, jnp.zeros(1, jnp.float32), key=key
            )
            return state, (terminated, truncated)

        return jax.lax.scan(body, state, jr.split(key, 12))[1]

    terminated, truncated = jax.device_get(run(jr.key(0)))
    assert not terminated.any()
    np.testing.assert_array_equal(np.flatnonzero(truncated), [4, 9])


def test_an_episode_ended_by_a_lerax_wrapper_is_an_error():
    # a lerax TimeLimit ends the episode; the host env is mid-episode and
    # cannot be restarted from compiled code: the next step says so (it
    # used to go on with the old episode's state as the "new" one)
    env = TimeLimit(GymToLeraxEnv(gymnasium.make("Pendulum-v1")), 3)
    with pytest.raises(EquinoxRuntimeError, match="max_episode_steps"):
        _rollout_pendulum(env, 4)
    # three steps in, and a limit Gymnasium enforces itself, are fine
    _rollout_pendulum(env, 3)
    _rollout_pendulum(
        GymToLeraxEnv(gymnasium.make("Pendulum-v1", max_episode_steps=3)), 8
    )


def _rollout_pendulum(env, steps):
    @eqx.filter_jit
    def run(key):
        state, _, _ = env.reset(key=key)

        def body(state, key):
            state = env.step(state, jnp.zeros(1, jnp.float32), key=key)[0]
            return state, None

        return jax.lax.scan(body, state, jr.split(key, steps))[0]

    return jax.block_until_ready(run(jr.key(0)))


def test_a_state_resumed_with_a_fresh_host_env_resets_it_first():
    # a checkpointed state meets a new process's never-reset Gymnasium env
    # (it raised Gymnasium's ResetNeeded from the host call)
    old = GymToLeraxEnv(gymnasium.make("CartPole-v1"))
    state, _, _ = old.reset(key=jr.key(0))
    fresh_gym = gymnasium.make("CartPole-v1")
    fresh = GymToLeraxEnv(fresh_gym)
    state, obs, reward, terminated, truncated, _ = fresh.step(
        state, jnp.int32(1), key=jr.key(1)
    )
    assert float(reward) == 1.0 and not bool(terminated | truncated)
    # the host env started a seeded episode and took the step in it
    np.testing.assert_allclose(obs, fresh_gym.unwrapped.state, rtol=1e-6)
    assert fresh_gym.unwrapped.steps_beyond_terminated is None


def test_batches_larger_than_one_raise_clearly():
    env = GymToLeraxEnv(gymnasium.make("CartPole-v1"))
    with pytest.raises(ValueError, match="num_envs=1"):
        jax.vmap(lambda k: env.reset(key=k))(jr.split(jr.key(0), 2))
    with pytest.raises(ValueError, match="num_envs=1"):
        PPO(num_envs=2).init(
            env, MLPActorCriticPolicy(env, key=jr.key(0)), key=jr.key(0)
        )
    with pytest.raises(TypeError, match="vector env"):
        GymToLeraxEnv(gymnasium.make_vec("CartPole-v1", num_envs=2))
    with pytest.raises(TypeError, match="gymnasium.Env"):
        GymToLeraxEnv(object())


def test_ppo_learns_gymnasium_cartpole():
    # Measured: greedy return 500 on every evaluation episode for seeds 0
    # and 1 after 20k steps (~10 s CPU, dominated by the host callbacks).
    env = GymToLeraxEnv(gymnasium.make("CartPole-v1"))
    total, num_steps = 20_000, 256
    iterations = total // num_steps
    algo = PPO(
        num_envs=1,
        num_steps=num_steps,
        num_epochs=10,
        num_batches=4,
        gamma=0.98,
        gae_lambda=0.8,
        learning_rate=optax.linear_schedule(1e-3, 0.0, 10 * 4 * iterations),
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(0))
    state, _ = algo.train(state, iterations)

    act = jax.jit(lambda obs: state.policy(None, obs)[1])
    evaluation = gymnasium.make("CartPole-v1")
    returns = []
    for episode in range(5):
        obs, _ = evaluation.reset(seed=100 + episode)
        total_reward, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = evaluation.step(int(act(obs)))
            total_reward += reward
            done = terminated or truncated
        returns.append(total_reward)
    assert np.mean(returns) >= 400, returns


def test_reports_the_gymnasium_envs_render_fps_and_dt():
    from lerax.compatibility import LeraxToGymEnv
    from lerax.wrapper import Identity

    cartpole = gymnasium.make("CartPole-v1")
    env = GymToLeraxEnv(cartpole)
    assert env.render_fps == cartpole.metadata["render_fps"] == 50
    assert Identity(env).render_fps == 50  # through lerax wrappers
    # and back to Gymnasium: the rate survives the round trip
    assert LeraxToGymEnv(env).metadata["render_fps"] == 50
    assert not hasattr(env, "dt")  # CartPole's step is `tau`
    with pytest.raises(AttributeError, match="has no `dt`"):
        _ = Identity(env).dt

    class Timed(gymnasium.Env):
        metadata = {"render_modes": []}  # no rate: None, as Gymnasium's
        observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,))
        action_space = gymnasium.spaces.Discrete(2)
        dt = 0.04

    timed = GymToLeraxEnv(Timed())
    assert timed.render_fps is None
    assert timed.dt == Identity(timed).dt == 0.04


class _SeedLog(gymnasium.Wrapper):
    """Records the seed of every reset."""

    def __init__(self, env):
        super().__init__(env)
        self.seeds = []

    def reset(self, *, seed=None, options=None):
        self.seeds.append(seed)
        return super().reset(seed=seed, options=options)


def _leaves_equal(ours, theirs):
    ours, theirs = jax.tree.leaves(ours), jax.tree.leaves(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b, np.asarray(a).dtype))


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("CartPole-v1", {"max_episode_steps": 25}),  # terminations and truncations
        ("Pendulum-v1", {"max_episode_steps": 20}),  # a Box action
        ("FrozenLake-v1", {}),  # Discrete observations
        ("Blackjack-v1", {}),  # Tuple observations
    ],
)
def test_steps_equal_gymnasiums_own_with_the_same_seeds_and_actions(env_id, kwargs):
    """Oracle: the same Gymnasium env stepped directly, reset with the seeds
    the adapter used, gives every observation, reward and end flag."""
    logged = _SeedLog(gymnasium.make(env_id, **kwargs))
    env = GymToLeraxEnv(logged)
    step = jax.jit(lambda state, action, key: env.step(state, action, key=key))
    theirs = gymnasium.make(env_id, **kwargs)
    theirs.action_space.seed(0)
    state, obs, _ = env.reset(key=jr.key(0))
    _leaves_equal(obs, theirs.reset(seed=logged.seeds[-1])[0])
    ends = 0
    for t in range(120):
        action = theirs.action_space.sample()
        state, obs, reward, terminated, truncated, info = step(
            state, jax.tree.map(jnp.asarray, action), jr.key(t)
        )
        g_obs, g_reward, g_terminated, g_truncated, _ = theirs.step(action)
        _leaves_equal(info["final_observation"], g_obs)
        assert float(reward) == np.float32(g_reward)
        assert (bool(terminated), bool(truncated)) == (g_terminated, g_truncated)
        if g_terminated or g_truncated:
            ends += 1
            g_obs, _ = theirs.reset(seed=logged.seeds[-1])
        _leaves_equal(obs, g_obs)
    assert ends >= 2 and len(logged.seeds) == ends + 1


class _TypedActions(gymnasium.Env):
    """Uses its actions as Gymnasium's own types allow: a `Discrete` part as
    a dict key, `MultiBinary` parts subtracted, and checks every dtype."""

    def __init__(self):
        spaces = gymnasium.spaces
        self.action_space = spaces.Tuple(
            (
                spaces.Discrete(3, start=-1),
                spaces.MultiBinary(2),
                spaces.MultiDiscrete([2, 3]),
                spaces.Box(-1.0, 1.0, (2,), np.float64),
            )
        )
        self.observation_space = spaces.Box(-10.0, 10.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        discrete, binary, multi, box = action
        assert binary.dtype == np.int8 and multi.dtype == np.int64
        assert box.dtype == np.float64
        value = {-1: 0.0, 0: 1.0, 1: 2.0}[discrete] + float(binary[1] - binary[0])
        return np.full(1, value, np.float32), value, False, False, {}


def test_actions_reach_gymnasium_in_its_own_types():
    # Nested actions used to arrive as lerax's arrays: a 0-d int32 array for
    # the Discrete part (not hashable), bool for MultiBinary (numpy refuses
    # to subtract bools), int32/float32 for int64/float64 spaces.
    gym_env = _TypedActions()
    env = GymToLeraxEnv(gym_env)
    state, _, _ = env.reset(key=jr.key(0))
    action = (
        jnp.int32(1),
        jnp.array([False, True]),
        jnp.array([1, 2], jnp.int32),
        jnp.array([0.5, -0.5], jnp.float32),
    )
    _, obs, reward, *_ = env.step(state, action, key=jr.key(1))
    assert float(reward) == 3.0
    np.testing.assert_array_equal(obs, [3.0])


class _StrictFloat64Action(gymnasium.Env):
    """Refuses actions outside its float64 action space (as e.g. Gymnasium's
    LunarLander does with its own)."""

    action_space = gymnasium.spaces.Box(-0.1, 0.1, (1,), np.float64)
    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        assert self.action_space.contains(action), action
        return np.asarray(action, np.float32), 0.0, False, False, {}


def test_actions_at_the_bound_of_a_float64_box_stay_in_gymnasiums_space():
    # lerax's float32 bound is 0.1 rounded up (0.10000000149...): an action
    # there, valid in lerax, used to reach Gymnasium outside its space.
    env = GymToLeraxEnv(_StrictFloat64Action())
    high = env.action_space.high
    assert float(high[0]) > 0.1
    state, _, _ = env.reset(key=jr.key(0))
    for action in (high, env.action_space.low):
        state, obs, *_ = env.step(state, action, key=jr.key(1))
        np.testing.assert_allclose(obs, np.sign(action) * 0.1)
