"""Wrapper base classes: forwarding, state unwrapping and deep composition."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.space import Box, Discrete
from lerax.wrapper import (
    AbstractPassThroughWrapper,
    AbstractStatefulWrapper,
    AbstractWrapper,
    AbstractWrapperState,
    ClipReward,
    EpisodeStatistics,
    Identity,
    NormalizeObservation,
    TimeLimit,
    TransformAction,
    TransformReward,
)
from lerax.wrapper._base import require_box

from .toy_envs import BoxActionEnv, MaskedDiscreteEnv, ToyState


def odd_action(a):
    return 2 * a + 1


def odd_mask(mask):
    return mask[1::2]


def double(r):
    return 2 * r


def deep_stack(base):
    """Six wrappers, pass-through and stateful alternating."""
    env = TransformAction(base, odd_action, Discrete(2), mask_func=odd_mask)
    env = NormalizeObservation(env)
    env = TransformReward(env, double)
    env = TimeLimit(env, 4)
    env = ClipReward(env, -100.0, 100.0)
    return EpisodeStatistics(env)


def test_deep_composition(getkey):
    base = MaskedDiscreteEnv(length=1000)
    env = deep_stack(base)
    assert isinstance(env, AbstractWrapper)
    assert env.unwrapped is base
    assert env.name == "MaskedDiscrete"
    assert env.action_space == Discrete(2)
    assert env.observation_space == Box(-10.0, 10.0, (2,))
    state, obs, info = env.reset(key=getkey())
    assert isinstance(state, AbstractWrapperState)
    assert isinstance(state.unwrapped, ToyState)
    assert state.unwrapped is state.env_state.env_state.env_state
    assert int(info["t"]) == 0 and obs.shape == (2,)

    actions = [1, 0, 1, 1, 0, 1]
    masks, rewards, ts, infos, truncs = [], [], [], [], []
    for action in actions:
        masks.append(np.asarray(env.action_mask(state, key=getkey())))
        state, obs, reward, terminated, truncated, info = env.step(
            state, action, key=getkey()
        )
        assert not terminated
        rewards.append(float(reward))
        truncs.append(bool(truncated))
        ts.append(int(state.unwrapped.t))
        infos.append(info)
    # Outer action a is inner 2a + 1; the mask of the inner env (actions
    # <= t % 4) is mapped through `odd_mask`.
    np.testing.assert_array_equal(
        masks, [[0, 0], [1, 0], [1, 0], [1, 1], [0, 0], [1, 0]]
    )
    assert [int(i["action"]) for i in infos] == [3, 1, 3, 3, 1, 3]
    assert rewards == [6.0, 2.0, 6.0, 6.0, 2.0, 6.0]
    assert truncs == [False, False, False, True, False, False]
    assert ts == [1, 2, 3, 0, 1, 2]
    assert float(infos[3]["episode"]["return"]) == 20.0
    assert int(infos[3]["episode"]["length"]) == 4
    assert int(infos[5]["episode"]["length"]) == 2
    # The raw next-state observation (before the auto-reset) is in the info.
    np.testing.assert_array_equal(infos[3]["x"], [3.0])
    # The normalisation statistics survived the truncation.
    normalize_state = state.env_state.env_state
    np.testing.assert_allclose(normalize_state.statistics.count, 1e-4 + 1 + 6 + 1)


def test_deep_composition_under_vmap(getkey):
    env = deep_stack(MaskedDiscreteEnv(length=1000))
    keys = jr.split(getkey(), 3)
    states, _, _ = jax.vmap(lambda k: env.reset(key=k))(keys)
    step = jax.vmap(env.step)
    actions = jnp.array([0, 1, 1], jnp.int32)
    for _ in range(4):
        masks = jax.vmap(lambda s, k: env.action_mask(s, key=k))(states, keys)
        states, _, reward, _, truncated, info = step(states, actions, key=keys)
    np.testing.assert_array_equal(masks, [[1, 1], [1, 1], [1, 1]])
    np.testing.assert_array_equal(reward, [2.0, 6.0, 6.0])
    assert truncated.all()
    np.testing.assert_array_equal(info["episode"]["return"], [8.0, 24.0, 24.0])
    np.testing.assert_array_equal(states.unwrapped.t, [0, 0, 0])


def test_pass_through_stack_keeps_the_inner_state(getkey):
    base = BoxActionEnv()
    env = base
    for _ in range(5):
        env = Identity(env)
    assert isinstance(env, AbstractPassThroughWrapper)
    assert env.unwrapped is base and env.name == "BoxAction"
    assert env.env.env.env.env.env is base
    state, obs, _ = env.reset(key=getkey())
    assert isinstance(state, ToyState) and state.unwrapped is state
    assert env.action_mask(state, key=getkey()) is None
    state, obs, *_ = env.step(state, jnp.array([1.0, 2.0, 3.0]), key=getkey())
    np.testing.assert_array_equal(obs, [1.0, 2.0, 3.0])


def test_stateful_wrapper_state_unwraps_through_nesting(getkey):
    base = MaskedDiscreteEnv()
    env = TimeLimit(TimeLimit(EpisodeStatistics(base), 5), 6)
    assert isinstance(env, AbstractStatefulWrapper)
    state, _, _ = env.reset(key=getkey())
    assert state.unwrapped is state.env_state.env_state.env_state
    assert isinstance(state.unwrapped, ToyState)


def test_require_box():
    require_box(BoxActionEnv(), "Test", "action")
    require_box(BoxActionEnv(), "Test", "observation")
    with pytest.raises(
        TypeError,
        match=r"`MyWrapper` needs an env whose action space is a `Box`, but "
        r"'MaskedDiscrete' has Discrete\(4\)",
    ):
        require_box(MaskedDiscreteEnv(), "MyWrapper", "action")
