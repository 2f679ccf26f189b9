"""Our classic-control envs against Gymnasium's, used as an oracle.

Gymnasium is stepped in float64 and ours in float32, so every step starts
both from Gymnasium's current state (copied into ours): a chaotic system then
cannot amplify rounding differences, and each step's update is compared on
its own.
"""

import gymnasium
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.env.classic_control import ClassicControlState
from lerax.space import Box, Discrete

from ._cases import CASES, Case

STEPS = 1500
STEP_CHECK_EVERY = 37
RTOL = 1e-5
ATOL = 1e-5


def _gym_env(case: Case):
    return gymnasium.make(case.gym_id).unwrapped


def _hooks(env, y, action, key):
    """One step through our env's hooks, from the physical state `y`."""
    transition_key, obs_key, reward_key, terminal_key = jr.split(key, 4)
    state = ClassicControlState(y)
    next_state = env.transition(state, action, key=transition_key)
    return (
        next_state.y,
        env.observation(next_state, key=obs_key),
        env.reward(state, action, next_state, key=reward_key),
        env.terminal(next_state, key=terminal_key),
    )


def _action(case: Case, gym_env, rng: np.random.Generator, greedy: float = 0.7):
    """The same action for both envs: (Gymnasium's, ours)."""
    space = gym_env.action_space
    if case.heuristic is not None and rng.random() < greedy:
        action = case.heuristic(np.asarray(gym_env.state, np.float64))
    elif isinstance(space, gymnasium.spaces.Discrete):
        action = int(rng.integers(space.n))
    else:
        action = rng.uniform(space.low, space.high).astype(np.float32)
    if isinstance(action, np.ndarray):
        return action, jnp.asarray(action, jnp.float32)
    return int(action), jnp.asarray(action, jnp.int32)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_steps_match_gymnasium(case: Case):
    env = case.cls()
    gym_env = _gym_env(case)
    rng = np.random.default_rng(0)
    one_step = jax.jit(lambda y, a, k: _hooks(env, y, a, k))
    low, high = env.observation_space.low, env.observation_space.high

    episode = 0
    gym_env.reset(seed=episode)
    episode_steps = 0
    terminations = ambiguous = step_checks = 0
    for t in range(STEPS):
        key = jr.key(t)
        gym_action, action = _action(case, gym_env, rng)
        y = jnp.asarray(gym_env.state, jnp.float32)

        next_y, obs, reward, terminal = one_step(y, action, key)
        gym_obs, gym_reward, gym_terminated, gym_truncated, _ = gym_env.step(gym_action)
        assert not gym_truncated
        episode_steps += 1

        where = f"{case.gym_id} step {t} (state {np.asarray(y)}, action {action})"
        obs = np.asarray(obs)
        assert obs.dtype == np.float32 and next_y.dtype == jnp.float32, where
        np.testing.assert_allclose(obs, gym_obs, rtol=RTOL, atol=ATOL, err_msg=where)
        assert np.all((obs >= low) & (obs <= high)), where
        if case.ambiguous(np.asarray(gym_env.state, np.float64)):
            ambiguous += 1
            decisive = False
        else:
            decisive = True
            assert bool(terminal) == gym_terminated, where
            np.testing.assert_allclose(
                float(reward), gym_reward, rtol=RTOL, atol=ATOL, err_msg=where
            )
        terminations += gym_terminated

        # The derived `step` (validation, auto-reset, info) agrees too, on a
        # regular sample of steps and on every terminal one.
        if decisive and (t % STEP_CHECK_EVERY == 0 or gym_terminated):
            step_checks += 1
            new_state, step_obs, step_reward, terminated, truncated, info = env.step(
                ClassicControlState(y), action, key=key
            )
            np.testing.assert_allclose(
                info["final_observation"], gym_obs, rtol=RTOL, atol=ATOL, err_msg=where
            )
            np.testing.assert_allclose(
                step_reward, gym_reward, rtol=RTOL, atol=ATOL, err_msg=where
            )
            assert bool(terminated) == gym_terminated and not bool(truncated), where
            if gym_terminated:  # Auto-reset: a fresh initial state.
                new_y = np.asarray(new_state.y)
                assert np.all(new_y >= np.float32(case.initial_low)), where
                assert np.all(new_y <= np.float32(case.initial_high)), where
            else:
                np.testing.assert_array_equal(new_state.y, next_y)
                np.testing.assert_array_equal(step_obs, info["final_observation"])

        if gym_terminated or episode_steps >= case.limit:
            episode += 1
            gym_env.reset(seed=episode)
            episode_steps = 0

    assert step_checks >= STEPS // STEP_CHECK_EVERY - 1
    assert ambiguous <= STEPS // 100
    if case.gym_id == "Pendulum-v1":
        assert terminations == 0
    else:
        # The oracle must have seen episodes end by the task's own rule.
        assert terminations >= 5, terminations


@pytest.mark.parametrize("case", CASES, ids=str)
def test_steps_from_anywhere_match_gymnasium(case: Case):
    """One step from states spread over the whole state box, where clipping,
    wrapping, walls and goals all come into play.

    At Acrobot's top speeds float32 keeps only ~2e-5 relative precision
    through the Runge-Kutta step, hence `rtol=1e-4` here.
    """
    n = 400
    env = case.cls()
    gym_env = _gym_env(case)
    rng = np.random.default_rng(1)
    ys = rng.uniform(case.state_low, case.state_high, (n, len(case.state_low)))
    ys = ys.astype(np.float32)
    actions = [_action(case, gym_env, rng, greedy=0.0) for _ in range(n)]
    batched = jax.jit(jax.vmap(lambda y, a, k: _hooks(env, y, a, k)))
    _, obs, rewards, terminals = batched(
        jnp.asarray(ys),
        jnp.stack([a for _, a in actions]),
        jr.split(jr.key(0), n),
    )
    obs, rewards, terminals = map(np.asarray, (obs, rewards, terminals))
    for i in range(n):
        gym_env.reset(seed=i)  # Clears CartPole's "stepped after the end" count.
        gym_env.state = ys[i].astype(np.float64)
        gym_obs, gym_reward, gym_terminated, _, _ = gym_env.step(actions[i][0])
        where = f"{case.gym_id} from {ys[i]} under {actions[i][0]}"
        np.testing.assert_allclose(obs[i], gym_obs, rtol=1e-4, atol=ATOL, err_msg=where)
        if not case.ambiguous(np.asarray(gym_env.state, np.float64)):
            assert bool(terminals[i]) == gym_terminated, where
            np.testing.assert_allclose(
                rewards[i], gym_reward, rtol=1e-4, atol=ATOL, err_msg=where
            )


def _assert_box_equal(ours: Box, theirs: gymnasium.spaces.Box):
    assert isinstance(ours, Box) and isinstance(theirs, gymnasium.spaces.Box)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours.low, theirs.low)
    np.testing.assert_array_equal(ours.high, theirs.high)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_spaces_match_gymnasium(case: Case):
    env = case.cls()
    gym_env = _gym_env(case)
    _assert_box_equal(env.observation_space, gym_env.observation_space)
    if isinstance(gym_env.action_space, gymnasium.spaces.Discrete):
        # Gymnasium's Discrete is int64; ours is int32 (JAX's default).
        assert isinstance(env.action_space, Discrete)
        assert env.action_space.n == int(gym_env.action_space.n)
        assert env.action_space.start == int(gym_env.action_space.start)
    else:
        _assert_box_equal(env.action_space, gym_env.action_space)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_initial_distribution(case: Case):
    env = case.cls()
    n = 2000
    ys = jax.vmap(lambda k: env.initial(key=k).y)(jr.split(jr.key(0), n))
    ys = np.asarray(ys)
    low = np.asarray(case.initial_low, np.float32)
    high = np.asarray(case.initial_high, np.float32)
    assert ys.dtype == np.float32 and ys.shape == (n, low.size)
    assert np.all((ys >= low) & (ys <= high))

    width = (high - low).astype(np.float64)
    mean, var = ys.mean(axis=0), ys.var(axis=0)
    # Uniform: mean (low + high) / 2, variance width^2 / 12; the sample
    # variance has a relative standard deviation of sqrt(0.8 / n) = 2%.
    mean_error = np.abs(mean - (low + high) / 2)
    assert np.all(mean_error <= 5 * width / np.sqrt(12 * n) + 1e-7), mean
    assert np.all(np.abs(var - width**2 / 12) <= 0.1 * width**2 / 12 + 1e-12), var
    spread = ys.max(axis=0) - ys.min(axis=0)
    np.testing.assert_array_less(0.98 * width - 1e-9, spread + 1e-12)

    # Our table of bounds is Gymnasium's: its reset states lie in them too and
    # reach close to both ends.
    gym_env = _gym_env(case)
    gym_ys = []
    for seed in range(100):
        gym_env.reset(seed=seed)
        gym_ys.append(np.asarray(gym_env.state, np.float64))
    gym_ys = np.stack(gym_ys)
    assert np.all((gym_ys >= low - 1e-6) & (gym_ys <= high + 1e-6))
    np.testing.assert_array_less(gym_ys.min(axis=0), low + 0.05 * width + 1e-9)
    np.testing.assert_array_less(high - 0.05 * width - 1e-9, gym_ys.max(axis=0))

    # `reset` draws from the same distribution, observation included.
    state, obs, _ = env.reset(key=jr.key(1))
    assert np.all((np.asarray(state.y) >= low) & (np.asarray(state.y) <= high))
    np.testing.assert_array_equal(obs, env.observation(state, key=jr.key(2)))


# Every keyword Gymnasium's own constructors take (besides `render_mode`),
# away from its default.
GYMNASIUM_KEYWORDS = [
    ("Pendulum-v1", {"g": 9.81}),
    ("MountainCar-v0", {"goal_velocity": 0.01}),
    ("MountainCarContinuous-v0", {"goal_velocity": 0.01}),
    ("CartPole-v1", {"sutton_barto_reward": True}),
]


@pytest.mark.parametrize(("gym_id", "kwargs"), GYMNASIUM_KEYWORDS)
def test_gymnasium_constructor_keywords_match_gymnasium(gym_id, kwargs):
    """`lerax.env.make(id, **kwargs)` steps as `gymnasium.make(id, **kwargs)`
    from states over the whole state box, half of them (mountain cars) near
    the goal, where `goal_velocity` decides."""
    n = 300
    case = next(c for c in CASES if c.gym_id == gym_id)
    env = lerax.env.make(gym_id, **kwargs).unwrapped
    gym_env = gymnasium.make(gym_id, **kwargs).unwrapped
    gym_env.reset(seed=0)
    rng = np.random.default_rng(2)
    ys = rng.uniform(case.state_low, case.state_high, (n, len(case.state_low)))
    if "goal_velocity" in kwargs:
        ys[: n // 2] = rng.uniform((0.4, -0.02), (0.6, 0.03), (n // 2, 2))
    ys = ys.astype(np.float32)
    actions = [_action(case, gym_env, rng, greedy=0.0) for _ in range(n)]
    batched = jax.jit(jax.vmap(lambda y, a, k: _hooks(env, y, a, k)))
    _, obs, rewards, terminals = batched(
        jnp.asarray(ys), jnp.stack([a for _, a in actions]), jr.split(jr.key(0), n)
    )
    terminations = 0
    for i, (gym_action, _) in enumerate(actions):
        gym_env.state = ys[i].astype(np.float64)
        if gym_id == "CartPole-v1":
            gym_env.steps_beyond_terminated = None  # each step a fresh episode's
        gym_obs, gym_reward, gym_terminated, _, _ = gym_env.step(gym_action)
        where = f"{gym_id} {kwargs} from {ys[i]}, action {gym_action}"
        np.testing.assert_allclose(obs[i], gym_obs, rtol=1e-4, atol=ATOL, err_msg=where)
        np.testing.assert_allclose(
            rewards[i], gym_reward, rtol=1e-4, atol=ATOL, err_msg=where
        )
        assert bool(terminals[i]) == gym_terminated, where
        terminations += gym_terminated
    if gym_id != "Pendulum-v1":
        assert terminations >= 10, terminations
