"""gymnax both ways: spaces, the adapters' contracts, and learning through
`GymnaxToLeraxEnv`."""

from collections import OrderedDict

import equinox as eqx
import gymnax
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from gymnax.environments import spaces as gspaces
from hypothesis import given, settings
from hypothesis import strategies as st

import lerax.env
from lerax.algorithm import PPO, evaluate_policy
from lerax.compatibility import (
    GymnaxToLeraxEnv,
    LeraxToGymnaxEnv,
    gymnax_space_to_lerax_space,
    lerax_to_gymnax_space,
)
from lerax.policy import MLPActorCriticPolicy
from lerax.space import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple
from lerax.wrapper import Identity, TransformAction

from ..space.strategies import spaces
from .envs import Composite


def _exact(space) -> bool:
    """Whether gymnax has this space's type (so a round trip is exact)."""
    if isinstance(space, Discrete):
        return space.start == 0
    if isinstance(space, (MultiDiscrete, MultiBinary)):
        return False
    if isinstance(space, Dict):
        return all(_exact(s) for s in space.spaces.values())
    if isinstance(space, Tuple):
        return all(_exact(s) for s in space)
    return True


def _contains(gymnax_space, value) -> bool:
    if isinstance(gymnax_space, gspaces.Dict):
        return all(_contains(s, value[k]) for k, s in gymnax_space.spaces.items())
    if isinstance(gymnax_space, gspaces.Tuple):
        return all(_contains(s, v) for s, v in zip(gymnax_space.spaces, value))
    return bool(gymnax_space.contains(value)) and jnp.shape(value) == tuple(
        gymnax_space.shape
    )


@settings(max_examples=25, deadline=None)
@given(space=spaces, seed=st.integers(0, 2**16))
def test_lerax_to_gymnax_round_trip(space, seed):
    gymnax_space = lerax_to_gymnax_space(space)
    back = gymnax_space_to_lerax_space(gymnax_space)
    if _exact(space):
        assert back == space
    sample = space.sample(key=jr.key(seed))
    assert _contains(gymnax_space, sample)
    # The converted-back space has the same elements.
    cast = jax.tree.map(
        lambda x, s: jnp.asarray(x).astype(s.dtype),
        sample,
        back.canonical(),
    )
    assert bool(back.contains(cast))


def test_spaces_gymnax_lacks_become_integer_boxes():
    box = lerax_to_gymnax_space(Discrete(3, start=-1))
    assert gymnax_space_to_lerax_space(box) == Box(-1, 1, (), dtype=jnp.int32)
    box = lerax_to_gymnax_space(MultiDiscrete([2, 3], start=[0, 5]))
    assert gymnax_space_to_lerax_space(box) == Box([0, 5], [1, 7], dtype=jnp.int32)
    box = lerax_to_gymnax_space(MultiBinary(3))
    assert gymnax_space_to_lerax_space(box) == Box(0, 1, (3,), dtype=jnp.int32)


GYMNAX_SPACES = [
    gspaces.Discrete(4),
    gspaces.Box(-1.0, 1.0, (), jnp.float32),
    gspaces.Box(jnp.zeros(3), jnp.ones(3), (3,), jnp.float32),
    gspaces.Box(0, 10, (2, 2), jnp.int32),
    gspaces.Dict(OrderedDict(z=gspaces.Discrete(2), a=gspaces.Box(0.0, 1.0, (2,)))),
    gspaces.Tuple([gspaces.Discrete(3), gspaces.Box(-2.0, 2.0, (1,))]),
]


def _same_gymnax(a, b):
    assert type(a) is type(b)
    if isinstance(a, gspaces.Discrete):
        assert a.n == b.n
    elif isinstance(a, gspaces.Box):
        assert tuple(a.shape) == tuple(b.shape)
        assert np.dtype(a.dtype) == np.dtype(b.dtype)
        np.testing.assert_array_equal(
            np.broadcast_to(a.low, a.shape), np.broadcast_to(b.low, b.shape)
        )
        np.testing.assert_array_equal(
            np.broadcast_to(a.high, a.shape), np.broadcast_to(b.high, b.shape)
        )
    elif isinstance(a, gspaces.Dict):
        assert list(a.spaces) == list(b.spaces)
        for k in a.spaces:
            _same_gymnax(a.spaces[k], b.spaces[k])
    else:
        for x, y in zip(a.spaces, b.spaces, strict=True):
            _same_gymnax(x, y)


@pytest.mark.parametrize("space", GYMNAX_SPACES, ids=repr)
def test_gymnax_to_lerax_round_trip(space):
    _same_gymnax(lerax_to_gymnax_space(gymnax_space_to_lerax_space(space)), space)


def test_gymnax_env_keeps_truncation_separate_and_vmaps():
    genv, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=20)
    env = GymnaxToLeraxEnv(genv, params)
    assert env.name == "GymnaxToLeraxEnv(CartPole-v1)"
    assert env.action_space == Discrete(2)

    def rollout(key):
        state, _, _ = env.reset(key=key)

        def body(state, key):
            k1, k2 = jr.split(key)
            # A balancing heuristic: CartPole lasts past the limit of 20.
            action = (state.observation[2] + 0.5 * state.observation[3] > 0).astype(
                jnp.int32
            )
            state, obs, reward, terminated, truncated, info = env.step(
                state, action, key=k2
            )
            return state, (reward, terminated, truncated, info["final_observation"])

        return jax.lax.scan(body, state, jr.split(key, 45))[1]

    rewards, terminated, truncated, _ = jax.jit(jax.vmap(rollout))(
        jr.split(jr.key(0), 3)
    )
    assert rewards.shape == (3, 45)
    assert not bool(terminated.any())
    # Truncated exactly at the gymnax time limit, every 20 steps.
    for row in np.asarray(truncated):
        np.testing.assert_array_equal(np.flatnonzero(row), [19, 39])


def test_gymnax_env_steps_like_gymnax():
    genv, params = gymnax.make("CartPole-v1")
    env = GymnaxToLeraxEnv(genv, params)
    state = env.initial(key=jr.key(0))
    obs = env.observation(state, key=jr.key(1))
    g_obs, g_state = genv.reset_env(jr.key(0), params)
    np.testing.assert_array_equal(obs, g_obs)
    for t in range(30):
        key = jr.key(t + 1)
        action = jnp.int32(t % 2)
        g_obs, g_state, g_reward, g_done, _ = genv.step_env(
            key, g_state, action, params
        )
        next_state = env.transition(state, action, key=key)
        np.testing.assert_array_equal(next_state.observation, g_obs)
        assert float(next_state.reward) == float(g_reward)
        assert bool(next_state.terminated) == bool(g_done)
        if bool(g_done):
            break
        state = next_state


def test_ppo_solves_gymnax_cartpole_through_the_adapter():
    # The configuration that solves lerax's CartPole in
    # tests/algorithm/test_learning.py.
    genv, params = gymnax.make("CartPole-v1")
    env = GymnaxToLeraxEnv(genv, params)
    total = 100_000
    iterations = total // 256
    algo = PPO(
        num_envs=8,
        num_steps=32,
        num_epochs=20,
        num_batches=1,
        gamma=0.98,
        gae_lambda=0.8,
        learning_rate=optax.linear_schedule(1e-3, 0.0, 20 * iterations),
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(0))
    state, _ = algo.train(state, algo.num_iterations(total))
    returns, _ = evaluate_policy(env, state.policy, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= 475


def test_lerax_env_follows_gymnax_contract():
    env = LeraxToGymnaxEnv(lerax.env.make("CartPole-v1", max_episode_steps=15))
    params = env.default_params
    assert env.name == "LeraxToGymnaxEnv(CartPole)" and env.num_actions == 2
    action_space = env.action_space(params)
    obs_space = env.observation_space(params)
    assert isinstance(action_space, gspaces.Discrete) and action_space.n == 2

    obs, state = env.reset(jr.key(0), params)
    assert obs.shape == tuple(obs_space.shape) and bool(obs_space.contains(obs))
    assert int(state.time) == 0
    with pytest.raises(NotImplementedError, match="state_space"):
        env.state_space(params)

    def body(state, key):
        k_action, k_step = jr.split(key)
        action = action_space.sample(k_action)
        obs, new_state, reward, terminated, truncated, info = env.step(
            k_step, state, action, params
        )
        return new_state, (obs, reward, terminated, truncated, info, new_state.time)

    _, (obs, rewards, terminated, truncated, info, times) = jax.lax.scan(
        body, state, jr.split(jr.key(1), 200)
    )
    terminated, truncated = np.asarray(terminated), np.asarray(truncated)
    assert rewards.dtype == jnp.float32 and np.all(np.asarray(rewards) == 1.0)
    assert terminated.any() and truncated.any()
    np.testing.assert_array_equal(info["terminated"], terminated)
    np.testing.assert_array_equal(info["truncated"], truncated)
    done = terminated | truncated
    times = np.asarray(times)
    # gymnax's auto-reset: after a done step the state is fresh (time 0) and
    # the returned observation starts the next episode; the last observation
    # of the finished episode is in info["final_observation"].
    assert np.all(times[done] == 0)
    assert np.all(times[~done] > 0)
    final = np.asarray(info["final_observation"])
    obs = np.asarray(obs)
    np.testing.assert_array_equal(final[~done], obs[~done])
    assert np.all(np.abs(obs[done]) <= 0.05)
    # Truncation comes from the lerax TimeLimit: after exactly 15 steps.
    episode_lengths = np.diff(np.flatnonzero(np.concatenate([[True], done])))
    ends = np.flatnonzero(done)
    assert np.all(episode_lengths[truncated[ends]] == 15)
    # Terminations really ended the pole's balance.
    fallen = (np.abs(final[:, 2]) > 0.2094) | (np.abs(final[:, 0]) > 2.4)
    np.testing.assert_array_equal(fallen[terminated], True)
    assert bool(obs_space.contains(obs[0]))


def test_gymnax_params_time_limit_adds_truncation_and_vmaps():
    env = LeraxToGymnaxEnv(lerax.env.make("Pendulum-v1"))
    params = env.default_params.replace(max_steps_in_episode=5)

    def rollout(key):
        obs, state = env.reset(key, params)

        def body(state, key):
            obs, state, reward, terminated, truncated, _ = env.step(
                key, state, jnp.zeros(1), params
            )
            return state, truncated

        return jax.lax.scan(body, state, jr.split(key, 12))[1]

    truncated = np.asarray(jax.vmap(rollout)(jr.split(jr.key(0), 4)))
    for row in truncated:
        np.testing.assert_array_equal(np.flatnonzero(row), [4, 9])


def test_gymnax_adapters_reject_wrong_envs():
    with pytest.raises(TypeError, match="gymnax"):
        GymnaxToLeraxEnv(lerax.env.make("CartPole-v1"))
    with pytest.raises(TypeError, match="lerax env"):
        LeraxToGymnaxEnv(gymnax.make("CartPole-v1")[0])


def _dtypes(space):
    if isinstance(space, gspaces.Dict):
        return {k: _dtypes(s) for k, s in space.spaces.items()}
    if isinstance(space, gspaces.Tuple):
        return tuple(_dtypes(s) for s in space.spaces)
    return np.dtype(space.dtype)


def test_lerax_to_gymnax_observations_have_the_spaces_dtypes():
    # MultiBinary observations (bool in lerax) used to come out as bool while
    # the gymnax space, an int32 box of 0/1, says int32.
    env = LeraxToGymnaxEnv(Composite())
    params = env.default_params
    expected = _dtypes(env.observation_space(params))
    obs, state = env.reset(jr.key(0), params)
    assert jax.tree.map(lambda x: x.dtype, obs) == expected
    action = env.action_space(params).sample(jr.key(1))
    obs, state, _, _, _, info = env.step(jr.key(2), state, action, params)
    assert jax.tree.map(lambda x: x.dtype, obs) == expected
    assert jax.tree.map(lambda x: x.dtype, info["final_observation"]) == expected
    assert jax.tree.map(lambda x: x.dtype, env.get_obs(state)) == expected
    assert _contains(env.observation_space(params), obs)


@pytest.mark.parametrize(
    "env_id",
    [
        "CartPole-v1",
        "Pendulum-v1",
        "Catch-bsuite",
        "Breakout-MinAtar",
        "FrozenLake-misc",
    ],
)
def test_gymnax_to_lerax_steps_equal_gymnaxs_own(env_id):
    """Oracle: lerax's `step` (auto-reset included) against gymnax's
    `step_env`/`reset_env` called with the keys lerax hands the hooks: a
    base env's `initial` (on reset and on restart) and `transition` get
    `fold_in(key, i)` of the step key, `initial` on `reset` the first half
    of `split(key)`."""
    genv, params = gymnax.make(env_id)
    env = GymnaxToLeraxEnv(genv, params)
    step = jax.jit(lambda state, action, key: env.step(state, action, key=key))
    g_step = jax.jit(
        lambda key, state, action: genv.step_env(key, state, action, params)
    )
    state, obs, _ = env.reset(key=jr.key(0))
    g_obs, g_state = genv.reset_env(jr.split(jr.key(0))[0], params)
    np.testing.assert_allclose(obs, g_obs, atol=1e-6)
    ends = 0
    for t in range(250):
        key = jr.key(t + 1)
        action = env.action_space.sample(key=jr.fold_in(key, 99))
        state, obs, reward, terminated, truncated, info = step(state, action, key)
        g_obs, g_state, g_reward, g_terminated, _ = g_step(
            jr.fold_in(key, 0), g_state, action
        )
        np.testing.assert_allclose(
            info["final_observation"], g_obs, rtol=1e-5, atol=1e-5
        )
        np.testing.assert_allclose(reward, g_reward, rtol=1e-5, atol=1e-5)
        assert bool(terminated) == bool(g_terminated)
        assert bool(truncated) == bool(genv.is_truncated(g_state, params))
        if bool(terminated | truncated):
            ends += 1
            g_obs, g_state = genv.reset_env(jr.fold_in(key, 4), params)
        np.testing.assert_allclose(obs, g_obs, rtol=1e-5, atol=1e-5)
        assert obs.dtype == env.observation_space.dtype
    assert ends >= 1


def test_gymnax_adapters_report_render_fps_and_dt():
    # lerax -> gymnax: the lerax env's rate and time step, through wrappers.
    cartpole = LeraxToGymnaxEnv(lerax.env.make("CartPole-v1"))
    assert (cartpole.render_fps, cartpole.dt) == (50, 0.02)
    assert LeraxToGymnaxEnv(lerax.env.make("Pendulum-v1")).render_fps == 30
    no_rate = LeraxToGymnaxEnv(Composite())
    assert no_rate.render_fps is None
    with pytest.raises(AttributeError, match="has no `dt`"):
        _ = no_rate.dt
    assert not hasattr(no_rate, "dt")
    # gymnax -> lerax: gymnax declares no frame rate; `dt` where its params
    # have one (Pendulum, Acrobot), none for CartPole (whose step is `tau`).
    pendulum = GymnaxToLeraxEnv(*gymnax.make("Pendulum-v1"))
    assert pendulum.render_fps is None and pendulum.dt == 0.05
    assert Identity(pendulum).render_fps is None and Identity(pendulum).dt == 0.05
    assert GymnaxToLeraxEnv(*gymnax.make("Acrobot-v1")).dt == 0.2
    cartpole = GymnaxToLeraxEnv(*gymnax.make("CartPole-v1"))
    assert cartpole.render_fps is None and not hasattr(cartpole, "dt")
    with pytest.raises(AttributeError, match="no `dt`"):
        _ = Identity(cartpole).dt
    # vmapped params hold no single time step
    batched = eqx.tree_at(
        lambda e: e.params,
        pendulum,
        jax.vmap(lambda dt: pendulum.params.replace(dt=dt))(jnp.array([0.05, 0.1])),
    )
    with pytest.raises(AttributeError, match="not one concrete number"):
        _ = batched.dt


def test_gymnax_to_lerax_built_from_traced_params_says_how_to_vmap_them():
    # Used to fail with a bare TracerArrayConversionError from the spaces.
    genv, params = gymnax.make("Pendulum-v1")
    batch = jax.vmap(lambda g: params.replace(g=g))(jnp.array([9.0, 10.0]))
    with pytest.raises(TypeError, match=r"traced params.*eqx\.tree_at"):
        jax.vmap(lambda p: GymnaxToLeraxEnv(genv, p).reset(key=jr.key(0))[1])(batch)
    env = GymnaxToLeraxEnv(genv, params)  # the way the message gives
    obs = jax.vmap(
        lambda p: eqx.tree_at(lambda e: e.params, env, p).reset(key=jr.key(0))[1]
    )(batch)
    assert obs.shape == (2, 3)


def test_num_actions_refuses_a_discrete_that_does_not_start_at_zero():
    # It used to return n although gymnax's action space is then a Box of
    # start, ..., start + n - 1, not 0, ..., n - 1.
    env = LeraxToGymnaxEnv(
        TransformAction(
            lerax.env.make("CartPole-v1"), lambda a: a + 1, Discrete(2, start=-1)
        )
    )
    with pytest.raises(ValueError, match="starts at -1"):
        _ = env.num_actions
    assert isinstance(env.action_space(env.default_params), gspaces.Box)


def test_a_gymnax_bool_box_becomes_multi_binary():
    # It used to fail inside lerax's `Box` ("must be a floating or integer
    # dtype").
    space = gymnax_space_to_lerax_space(gspaces.Box(0, 1, (4,), jnp.bool_))
    assert space == MultiBinary(4)
    with pytest.raises(TypeError, match="gymnax_space_to_lerax_space.*bool `Box`"):
        gymnax_space_to_lerax_space(gspaces.Box(1, 1, (4,), jnp.bool_))


def test_gymnax_to_lerax_rejects_another_envs_params():
    # Another env's params used to fail with e.g. "'EnvParams' object has no
    # attribute 'x_threshold'" from deep inside gymnax.
    cartpole = gymnax.make("CartPole-v1")[0]
    pendulum_params = gymnax.make("Pendulum-v1")[1]
    with pytest.raises(TypeError, match=r"needs that env's params \(EnvParams"):
        GymnaxToLeraxEnv(cartpole, pendulum_params)
    params = cartpole.default_params.replace(max_steps_in_episode=7)
    assert GymnaxToLeraxEnv(cartpole, params).params.max_steps_in_episode == 7
