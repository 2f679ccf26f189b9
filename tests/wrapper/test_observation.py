"""`TransformObservation`, `ClipObservation`, `RescaleObservation`,
`FlattenObservation`."""

import jax.numpy as jnp
import numpy as np
import pytest

from lerax.space import Box, Discrete
from lerax.wrapper import (
    ClipObservation,
    FlattenObservation,
    RescaleObservation,
    TransformObservation,
)

from .toy_envs import BoxActionEnv, DictObsEnv, MaskedDiscreteEnv, reset_and_run

ACTIONS = jnp.array([[2.0, 5.0, -7.0], [-1.0, 10.0, 30.0], [0.5, 0.0, 0.0]])


def discrete_obs_env():
    """An env whose observation space is `Discrete(3)` (`t % 3`)."""
    return TransformObservation(
        MaskedDiscreteEnv(length=100),
        lambda obs: (obs[0].astype(jnp.int32)) % 3,
        Discrete(3),
    )


def test_transform_observation(getkey):
    space = Box(-4.0, 20.0, (3,))
    env = TransformObservation(BoxActionEnv(), lambda obs: 2 * obs, space)
    assert env.observation_space == space
    assert env.action_space == env.env.action_space
    reset_obs, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(reset_obs, [0.0, 10.0, 0.0])
    np.testing.assert_array_equal(out["obs"], 2 * np.asarray(ACTIONS))
    np.testing.assert_array_equal(out["info"]["final_observation"], out["obs"])
    np.testing.assert_array_equal(out["reward"], np.sum(ACTIONS, axis=1))


def test_clip_observation_defaults_to_the_inner_bounds(getkey):
    env = ClipObservation(BoxActionEnv())
    assert env.observation_space == BoxActionEnv().observation_space
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["obs"], ACTIONS)


def test_clip_observation_clips(getkey):
    env = ClipObservation(BoxActionEnv(), low=-1.0, high=1.0)
    np.testing.assert_array_equal(env.observation_space.low, [-1.0, 0.0, -1.0])
    np.testing.assert_array_equal(env.observation_space.high, [1.0, 1.0, 1.0])
    reset_obs, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(reset_obs, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(
        out["obs"], [[1.0, 1.0, -1.0], [-1.0, 1.0, 1.0], [0.5, 0.0, 0.0]]
    )
    # Rewards are those of the unclipped inner env.
    np.testing.assert_array_equal(out["reward"], np.sum(ACTIONS, axis=1))
    only_high = ClipObservation(BoxActionEnv(), high=[1.0, 3.0, 4.0])
    np.testing.assert_array_equal(only_high.observation_space.low, [-2.0, 0.0, -np.inf])
    np.testing.assert_array_equal(only_high.observation_space.high, [1.0, 3.0, 4.0])


def test_clip_observation_bounds_outside_the_space_raise():
    with pytest.raises(ValueError):
        ClipObservation(BoxActionEnv(), low=50.0)


def test_rescale_observation(getkey):
    env = RescaleObservation(BoxActionEnv())
    space = env.observation_space
    np.testing.assert_array_equal(space.low, [-1.0, -1.0, -np.inf])
    np.testing.assert_array_equal(space.high, [1.0, 1.0, np.inf])
    reset_obs, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_allclose(reset_obs, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(
        out["obs"], [[1.0, 0.0, -7.0], [-0.5, 1.0, 30.0], [0.25, -1.0, 0.0]]
    )
    custom = RescaleObservation(BoxActionEnv(), 0.0, 1.0)
    _, _, out = reset_and_run(custom, ACTIONS, getkey())
    np.testing.assert_allclose(
        out["obs"], [[1.0, 0.5, -7.0], [0.25, 1.0, 30.0], [0.625, 0.0, 0.0]]
    )


def test_rescale_observation_with_float32_max_bounds(getkey):
    # Bounds at float32's maximum (as some envs give velocities) must neither
    # overflow nor collapse observations onto the lower bound.
    big = float(np.finfo(np.float32).max)
    base = BoxActionEnv(
        action_space=Box(-np.inf, np.inf, (3,)),
        observation_space=Box(-big, big, (3,)),
    )
    env = RescaleObservation(base)
    actions = jnp.array([[0.0, 1e30, -3.0], [big, -big, big / 2]])
    _, _, out = reset_and_run(env, actions, getkey())
    np.testing.assert_allclose(
        out["obs"], [[0.0, 1e30 / big, 0.0], [1.0, -1.0, 0.5]], rtol=1e-6, atol=1e-37
    )
    for obs in out["obs"]:
        assert obs in env.observation_space


def test_rescaled_observations_stay_in_the_space(getkey):
    env = RescaleObservation(BoxActionEnv(), 0.0, 1.0)
    actions = jnp.array([[-2.0, 0.0, 0.0], [2.0, 10.0, 0.0], [0.1, 0.1, 0.0]])
    _, _, out = reset_and_run(env, actions, getkey())
    np.testing.assert_array_equal(out["obs"][0, :2], [0.0, 0.0])
    np.testing.assert_array_equal(out["obs"][1, :2], [1.0, 1.0])
    np.testing.assert_allclose(out["obs"][2, :2], [0.525, 0.01], rtol=1e-5)
    for obs in out["obs"]:
        assert obs in env.observation_space


def test_flatten_dict_observation(getkey):
    env = FlattenObservation(DictObsEnv())
    space = env.observation_space
    # Layout: flags (MultiBinary(2)), mode (one-hot of 3), pos (Box (2,)).
    assert space.shape == (7,)
    np.testing.assert_array_equal(space.low, [0, 0, 0, 0, 0, -1, -1])
    np.testing.assert_array_equal(space.high, [1, 1, 1, 1, 1, 1, 1])
    reset_obs, _, out = reset_and_run(env, jnp.array([1, 0, 1]), getkey())
    assert reset_obs.dtype == jnp.float32
    np.testing.assert_array_equal(reset_obs, [1, 1, 1, 0, 0, 0.5, -0.25])
    np.testing.assert_array_equal(
        out["obs"],
        [
            [0, 1, 0, 1, 0, -0.5, 0.25],
            [1, 1, 0, 0, 1, -0.5, 0.25],
            [0, 1, 1, 0, 0, 0.5, -0.25],
        ],
    )
    for obs in out["obs"]:
        assert obs in space


def test_flatten_box_and_discrete_observations(getkey):
    box = FlattenObservation(BoxActionEnv())
    assert box.observation_space == BoxActionEnv().observation_space
    discrete = FlattenObservation(discrete_obs_env())
    assert discrete.observation_space == Box(0.0, 1.0, (3,))
    reset_obs, _, out = reset_and_run(discrete, jnp.zeros(4, jnp.int32), getkey())
    np.testing.assert_array_equal(reset_obs, [1, 0, 0])
    np.testing.assert_array_equal(
        out["obs"], [[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]]
    )


def test_flatten_observation_keeps_other_hooks(getkey):
    env = FlattenObservation(MaskedDiscreteEnv())
    assert env.action_space == Discrete(4)
    state, _, _ = env.reset(key=getkey())
    np.testing.assert_array_equal(env.action_mask(state, key=getkey()), [1, 0, 0, 0])


@pytest.mark.parametrize("wrapper", [ClipObservation, RescaleObservation])
def test_non_box_observation_space_raises_type_error(wrapper):
    name = wrapper.__name__
    with pytest.raises(TypeError, match=rf"`{name}`.*observation space.*Discrete\(3\)"):
        wrapper(discrete_obs_env())
    with pytest.raises(TypeError, match=rf"`{name}`.*observation space.*Dict\("):
        wrapper(DictObsEnv())


@pytest.mark.parametrize("bounds", [(1.0, 1.0), (1.0, -1.0)])
def test_rescale_observation_min_not_below_max_raises(bounds):
    with pytest.raises(ValueError, match="min < max"):
        RescaleObservation(BoxActionEnv(), *bounds)
