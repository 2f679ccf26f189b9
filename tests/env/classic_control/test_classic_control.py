"""Classic-control behaviour beyond step-by-step agreement with Gymnasium:
time limits, rewards at the goal, constants, the Diffrax path, torque noise
and argument checks."""

import math

import diffrax
import equinox as eqx
import gymnasium
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.env.classic_control import (
    Acrobot,
    CartPole,
    ClassicControlState,
    ContinuousMountainCar,
    MountainCar,
    Pendulum,
)

from ._cases import CASES, Case

# Constructor arguments that make each task's own termination unreachable.
UNREACHABLE = {
    "CartPole-v1": dict(x_threshold=1e6, theta_threshold_radians=1e6),
    "Acrobot-v1": dict(target_height=10.0),
    "MountainCar-v0": dict(goal_position=10.0),
    "MountainCarContinuous-v0": dict(goal_position=10.0),
    "Pendulum-v1": {},
}


def _rollout(env, n: int, key):
    """`n` steps of `env.step` under uniformly random actions, in one scan."""

    def body(state, key):
        action_key, step_key = jr.split(key)
        action = env.action_space.sample(key=action_key)
        state, obs, reward, terminated, truncated, _ = env.step(
            state, action, key=step_key
        )
        return state, (obs, reward, terminated, truncated)

    reset_key, scan_key = jr.split(key)
    state, _, _ = env.reset(key=reset_key)
    return jax.lax.scan(body, state, jr.split(scan_key, n))[1]


def _batched_rollout(env, n: int, keys):
    """`_rollout` from each of `keys`, jitted and vmapped."""
    return jax.jit(jax.vmap(lambda key: _rollout(env, n, key)))(keys)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_make_truncates_at_the_standard_limit(case: Case):
    env = lerax.env.make(case.gym_id, **UNREACHABLE[case.gym_id])
    assert isinstance(env.unwrapped, case.cls)
    assert eqx.tree_equal(env.unwrapped, case.cls(**UNREACHABLE[case.gym_id]))
    _, _, terminated, truncated = jax.jit(
        lambda key: _rollout(env, 2 * case.limit + 3, key)
    )(jr.key(0))
    assert not np.asarray(terminated).any()
    # Truncated on the limit-th step of each episode; the count restarts.
    np.testing.assert_array_equal(
        np.flatnonzero(np.asarray(truncated)), [case.limit - 1, 2 * case.limit - 1]
    )


def test_registered_limits_match_gymnasium():
    for case in CASES:
        assert gymnasium.spec(case.gym_id).max_episode_steps == case.limit


def test_default_constants_match_gymnasium():
    def gym(id):
        return gymnasium.make(id).unwrapped

    cartpole, theirs = CartPole(), gym("CartPole-v1")
    assert (cartpole.gravity, cartpole.cart_mass, cartpole.pole_mass) == (
        theirs.gravity,
        theirs.masscart,
        theirs.masspole,
    )
    assert (cartpole.half_length, cartpole.force_mag, cartpole.dt) == (
        theirs.length,
        theirs.force_mag,
        theirs.tau,
    )
    assert cartpole.theta_threshold_radians == theirs.theta_threshold_radians
    assert cartpole.x_threshold == theirs.x_threshold

    acrobot, theirs = Acrobot(), gym("Acrobot-v1")
    for ours, name in [
        ("link_length_1", "LINK_LENGTH_1"),
        ("link_length_2", "LINK_LENGTH_2"),
        ("link_mass_1", "LINK_MASS_1"),
        ("link_mass_2", "LINK_MASS_2"),
        ("link_com_pos_1", "LINK_COM_POS_1"),
        ("link_com_pos_2", "LINK_COM_POS_2"),
        ("link_moi", "LINK_MOI"),
        ("max_vel_1", "MAX_VEL_1"),
        ("max_vel_2", "MAX_VEL_2"),
        ("torque_noise_max", "torque_noise_max"),
        ("dt", "dt"),
        ("book_or_nips", "book_or_nips"),
    ]:
        assert getattr(acrobot, ours) == getattr(theirs, name), ours
    assert acrobot.torques == tuple(float(t) for t in theirs.AVAIL_TORQUE)

    for ours, theirs in [
        (MountainCar(), gym("MountainCar-v0")),
        (ContinuousMountainCar(), gym("MountainCarContinuous-v0")),
    ]:
        for name in (
            "min_position",
            "max_position",
            "max_speed",
            "goal_position",
            "goal_velocity",
        ):
            assert getattr(ours, name) == getattr(theirs, name), name
    assert MountainCar().force == gym("MountainCar-v0").force
    assert MountainCar().gravity == gym("MountainCar-v0").gravity
    theirs = gym("MountainCarContinuous-v0")
    assert ContinuousMountainCar().power == theirs.power
    assert ContinuousMountainCar().min_action == theirs.min_action
    assert ContinuousMountainCar().max_action == theirs.max_action
    assert (ContinuousMountainCar().goal_position, MountainCar().goal_position) == (
        0.45,
        0.5,
    )

    pendulum, theirs = Pendulum(), gym("Pendulum-v1")
    assert (pendulum.gravity, pendulum.mass, pendulum.length) == (
        theirs.g,
        theirs.m,
        theirs.l,
    )
    assert (pendulum.max_speed, pendulum.max_torque, pendulum.dt) == (
        theirs.max_speed,
        theirs.max_torque,
        theirs.dt,
    )


def test_gymnasium_and_earlier_constructor_names():
    # `gymnasium.make("Pendulum-v1", g=9.81)` carries over, as do the earlier
    # lerax's `m`, `l` and Acrobot's `torque_max_noise`
    env = lerax.env.make("Pendulum-v1", g=9.81)
    theirs = gymnasium.make("Pendulum-v1", g=9.81).unwrapped
    assert env.unwrapped.gravity == theirs.g == 9.81
    pendulum = Pendulum(m=2.0, l=0.5)
    assert (pendulum.mass, pendulum.length) == (2.0, 0.5)
    assert Pendulum(m=2.0) == Pendulum(mass=2.0)
    assert Acrobot(torque_max_noise=0.1).torque_noise_max == 0.1
    with pytest.raises(TypeError, match="both `gravity` and `g`"):
        Pendulum(gravity=9.0, g=9.81)
    with pytest.raises(
        TypeError, match="both `torque_noise_max` and `torque_max_noise`"
    ):
        Acrobot(torque_noise_max=0.2, torque_max_noise=0.1)
    with pytest.raises(ValueError, match="mass"):
        Pendulum(m=-1.0)


def test_continuous_mountain_car_pays_the_goal_bonus():
    env = lerax.env.make("MountainCarContinuous-v0")
    state, _, _ = env.reset(key=jr.key(0))
    # Just short of the goal (0.45), moving right, at full throttle.
    before_goal = jnp.array([0.44, 0.03], jnp.float32)
    state = eqx.tree_at(lambda s: s.env_state, state, ClassicControlState(before_goal))
    action = jnp.array([1.0], jnp.float32)
    _, obs, reward, terminated, truncated, info = env.step(state, action, key=jr.key(1))
    assert bool(terminated) and not bool(truncated)
    assert float(info["final_observation"][0]) >= 0.45
    np.testing.assert_allclose(reward, 100.0 - 0.1, rtol=1e-6)
    assert float(obs[0]) < -0.39  # Auto-reset to the valley.

    gym_env = gymnasium.make("MountainCarContinuous-v0").unwrapped
    gym_env.reset(seed=0)
    gym_env.state = np.asarray(before_goal, np.float64)
    _, gym_reward, gym_terminated, _, _ = gym_env.step(np.asarray(action))
    assert gym_terminated
    np.testing.assert_allclose(reward, gym_reward, rtol=1e-6)

    # Elsewhere only the action's cost is paid.
    env = ContinuousMountainCar()
    state = ClassicControlState(jnp.array([-0.5, 0.0], jnp.float32))
    _, _, reward, terminated, _, _ = env.step(
        state, jnp.array([-0.5], jnp.float32), key=jr.key(2)
    )
    assert not bool(terminated)
    np.testing.assert_allclose(reward, -0.1 * 0.25, rtol=1e-6)


def test_goal_positions_differ_between_the_mountain_cars():
    key = jr.key(0)
    between = ClassicControlState(jnp.array([0.47, 0.01], jnp.float32))
    assert bool(ContinuousMountainCar().terminal(between, key=key))
    assert not bool(MountainCar().terminal(between, key=key))
    at_goal = ClassicControlState(jnp.array([0.5, 0.0], jnp.float32))
    assert bool(MountainCar().terminal(at_goal, key=key))
    backwards = ClassicControlState(jnp.array([0.55, -0.01], jnp.float32))
    assert not bool(MountainCar().terminal(backwards, key=key))
    assert not bool(ContinuousMountainCar().terminal(backwards, key=key))


def test_pendulum_reward_is_the_cost_of_the_state_before_the_step():
    env = Pendulum()
    key = jr.key(0)
    action = jnp.array([1.5], jnp.float32)
    for theta, expected_angle in [
        (math.pi, math.pi),
        (3 * math.pi + 0.25, math.pi - 0.25),
        (2 * math.pi + 0.1, 0.1),
        (-0.3, 0.3),
    ]:
        state = ClassicControlState(jnp.array([theta, 2.0], jnp.float32))
        expected = -(expected_angle**2 + 0.1 * 4.0 + 0.001 * 1.5**2)
        next_state = env.transition(state, action, key=key)
        for after in (next_state, state, ClassicControlState(jnp.zeros(2))):
            np.testing.assert_allclose(
                env.reward(state, action, after, key=key), expected, rtol=1e-5
            )
    # The episode never ends on its own, wherever the pendulum is.
    for y in ([0.0, 0.0], [math.pi, 8.0], [-100.0, -8.0]):
        state = ClassicControlState(jnp.array(y, jnp.float32))
        assert not bool(env.terminal(state, key=key))


@pytest.mark.parametrize(
    ("gym_id", "cls", "y", "big", "limit"),
    [
        ("Pendulum-v1", Pendulum, [0.5, 1.0], 5.0, 2.0),
        ("MountainCarContinuous-v0", ContinuousMountainCar, [-0.5, 0.01], 3.0, 1.0),
    ],
)
def test_out_of_range_actions_are_clipped_as_gymnasium_does(gym_id, cls, y, big, limit):
    """The hooks (unlike `step`) accept any action; the dynamics clip it as
    Gymnasium does (and Gymnasium's reward for MountainCarContinuous charges
    for the unclipped action)."""
    env, key = cls(), jr.key(0)
    state = ClassicControlState(jnp.array(y, jnp.float32))
    gym_env = gymnasium.make(gym_id).unwrapped
    for value in (big, -big):
        action = jnp.array([value], jnp.float32)
        clipped = jnp.array([math.copysign(limit, value)], jnp.float32)
        next_state = env.transition(state, action, key=key)
        np.testing.assert_array_equal(
            next_state.y, env.transition(state, clipped, key=key).y
        )
        gym_env.reset(seed=0)
        gym_env.state = np.asarray(y, np.float64)
        gym_obs, gym_reward, _, _, _ = gym_env.step(np.asarray(action))
        np.testing.assert_allclose(
            env.observation(next_state, key=key), gym_obs, rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            env.reward(state, action, next_state, key=key), gym_reward, rtol=1e-5
        )


def test_acrobot_nips_dynamics_match_gymnasium():
    gym_env = gymnasium.make("Acrobot-v1").unwrapped
    gym_env.book_or_nips = "nips"
    rng = np.random.default_rng(0)
    book, nips = Acrobot(), Acrobot(book_or_nips="nips")
    step = jax.jit(
        lambda y, a: (nips.explicit_update(y, a), book.explicit_update(y, a))
    )
    differs = False
    for i in range(50):
        y = rng.uniform([-3, -3, -6, -12], [3, 3, 6, 12]).astype(np.float32)
        action = int(rng.integers(3))
        gym_env.reset(seed=i)
        gym_env.state = y.astype(np.float64)
        gym_env.step(action)
        next_y, book_y = step(jnp.asarray(y), jnp.asarray(action, jnp.int32))
        np.testing.assert_allclose(next_y, gym_env.state, rtol=1e-4, atol=1e-5)
        differs |= bool(np.abs(np.asarray(book_y) - np.asarray(next_y)).max() > 1e-3)
    assert differs


def test_acrobot_torque_noise():
    y = jnp.zeros(4, jnp.float32)  # At rest: the response is ~linear in torque.
    state, action = ClassicControlState(y), jnp.asarray(1, jnp.int32)  # 0 N m.
    keys = jr.split(jr.key(0), 1000)

    @jax.jit
    def velocities(keys):
        def velocity(env, key):
            return env.transition(state, action, key=key).y[3]

        quiet = jax.vmap(lambda k: velocity(Acrobot(), k))(keys)
        noisy = jax.vmap(lambda k: velocity(Acrobot(torque_noise_max=0.5), k))(keys)
        # The noise-free responses to -0.5 and +0.5 N m.
        low, high = (
            velocity(Acrobot(torques=(0.0, t, 0.0)), keys[0]) for t in (-0.5, 0.5)
        )
        return quiet, noisy, low, high

    quiet, noisy, low, high = map(np.asarray, velocities(keys))
    # Without noise (the default) the key is irrelevant.
    np.testing.assert_array_equal(quiet, quiet[0])
    # With noise the torque is U(-0.5, 0.5): map velocities back to torques.
    torque = -0.5 + (noisy - low) / (high - low)
    assert np.all((torque >= -0.5 - 1e-3) & (torque <= 0.5 + 1e-3))
    assert torque.min() < -0.45 and torque.max() > 0.45
    assert abs(torque.mean()) < 5 * math.sqrt(1 / 12 / keys.shape[0])
    np.testing.assert_allclose(torque.var(), 1 / 12, rtol=0.1)
    # The noise comes from the key: same key, same step.
    again = Acrobot(torque_noise_max=0.5).transition(state, action, key=keys[3])
    np.testing.assert_allclose(again.y[3], noisy[3], rtol=1e-6)


def _hook_rollouts(env_a, env_b, n: int, keys):
    """`n` transitions of two envs under the same random actions from the same
    initial states, via the hooks, jitted and vmapped.

    Returns:
        Both state trajectories `(batch, n, dim)`, the initial states and the
        first actions.
    """

    def rollout(key):
        def body(ys, key):
            action = env_a.action_space.sample(key=key)
            ya, yb = (
                env.transition(ClassicControlState(y), action, key=key).y
                for env, y in zip((env_a, env_b), ys, strict=True)
            )
            return (ya, yb), (ya, yb, action)

        y = env_a.initial(key=key).y
        scan_keys = jr.split(jr.fold_in(key, 1), n)
        ya, yb, actions = jax.lax.scan(body, (y, y), scan_keys)[1]
        return ya, yb, y, actions[0]

    return jax.jit(jax.vmap(rollout))(keys)


def test_cartpole_diffrax_euler_equals_the_default_update():
    default, euler, _, _ = _hook_rollouts(
        CartPole(), CartPole(solver=diffrax.Euler()), 30, jr.split(jr.key(0), 64)
    )
    assert float(jnp.abs(default).max()) > 0.1  # The trajectories go somewhere.
    np.testing.assert_allclose(default, euler, rtol=1e-6, atol=1e-7)


# Largest expected gap over 5 steps between Gymnasium's update and Tsit5
# (about 2.5x what is seen: Euler-type updates have O(dt) errors).
TSIT5_GAP = {
    "CartPole-v1": 0.05,
    "Acrobot-v1": 0.005,
    "MountainCar-v0": 0.01,
    "MountainCarContinuous-v0": 0.01,
    "Pendulum-v1": 0.3,
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_diffrax_solver_integrates_the_same_ode(case: Case):
    env, tsit5 = case.cls(), case.cls(solver=diffrax.Tsit5())
    default, ode, y0, action = _hook_rollouts(env, tsit5, 5, jr.split(jr.key(0), 32))

    # Over a few steps the two paths stay close (but are not the same).
    gap = np.abs(np.asarray(ode - default)).max()
    assert 1e-6 < gap < TSIT5_GAP[case.gym_id], gap

    # Gymnasium's update with a 200 times smaller step converges to the ODE,
    # which the solver's single step follows far more closely.
    fine = eqx.tree_at(lambda e: e.dt, env, env.dt / 200)
    reference = jax.jit(
        jax.vmap(
            lambda y, a: jax.lax.fori_loop(
                0, 200, lambda _, y: fine.explicit_update(y, a), y
            )
        )
    )(y0, action)
    ode_error = np.abs(np.asarray(ode[:, 0] - reference)).max()
    default_error = np.abs(np.asarray(default[:, 0] - reference)).max()
    assert ode_error < 0.1 * default_error, (ode_error, default_error)


def test_diffrax_solver_through_make():
    """`solver=` reaches the env through `make`, and `step` (time limit,
    auto-reset, torque noise) jits and vmaps with it."""
    env = lerax.env.make("Acrobot-v1", solver=diffrax.Tsit5(), torque_noise_max=0.1)
    assert env.unwrapped.solver == diffrax.Tsit5()
    assert env.unwrapped.torque_noise_max == 0.1
    obs, rewards, terminated, truncated = _batched_rollout(
        env, 4, jr.split(jr.key(0), 8)
    )
    space = env.observation_space
    assert obs.shape == (8, 4, *space.shape) and obs.dtype == jnp.float32
    assert rewards.shape == terminated.shape == truncated.shape == (8, 4)
    assert np.all((np.asarray(obs) >= space.low) & (np.asarray(obs) <= space.high))
    np.testing.assert_array_equal(rewards, -1.0)  # Far from the goal.
    assert len(np.unique(np.asarray(obs[:, -1, 4]))) == 8


@pytest.mark.parametrize(
    ("cls", "argument", "value"),
    [
        (CartPole, "pole_mass", -0.1),
        (CartPole, "cart_mass", 0.0),
        (Acrobot, "link_mass_1", -1.0),
        (Acrobot, "link_mass_2", -1.0),
        (Acrobot, "link_moi", 0.0),
        (Acrobot, "torque_noise_max", -0.1),
        (Acrobot, "book_or_nips", "paper"),
        (Pendulum, "mass", -1.0),
        (Pendulum, "length", 0.0),
        (Pendulum, "dt", -0.05),
        (MountainCar, "max_speed", -0.07),
        (ContinuousMountainCar, "dt", 0.0),
    ],
)
def test_bad_constants_raise(cls, argument, value):
    with pytest.raises(ValueError, match=argument):
        cls(**{argument: value})


@pytest.mark.parametrize("case", CASES, ids=str)
def test_observations_keep_the_space_dtype_under_x64(case: Case):
    # with `jax_enable_x64` the observations were float64 while the
    # observation space (as Gymnasium's) says float32; the physical state
    # stays float64, and `step` rewards stay float32 as documented
    with jax.enable_x64(True):
        env = lerax.env.make(case.gym_id)
        space = env.observation_space
        assert space.dtype == np.float32
        state, obs, _ = env.reset(key=jr.key(0))
        assert obs.dtype == space.dtype
        assert state.unwrapped.y.dtype == np.float64
        action = env.action_space.sample(key=jr.key(1))
        state, obs, reward, _, _, info = env.step(state, action, key=jr.key(2))
        assert obs.dtype == space.dtype
        assert info["final_observation"].dtype == space.dtype
        assert reward.dtype == np.float32
        assert state.unwrapped.y.dtype == np.float64
        assert bool(space.contains(obs))
        y = np.asarray(state.unwrapped.y)
        if obs.shape == y.shape:  # the state itself (cart pole, mountain cars)
            np.testing.assert_array_equal(obs, y.astype(np.float32))
