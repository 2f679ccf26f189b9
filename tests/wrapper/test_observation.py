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
    # BoxActionEnv's observation space is [-2, 2] x [0, 10] x (-inf, inf):
    # a Box error used to quote the inner bound (`low=50.0 > high=2.0`)
    message = (
        r"`ClipObservation\(low=\.\.\., high=\.\.\.\)`: the clip range "
        r"\[50\.0, inf\] at index \(0,\) lies outside the observation space's "
        r"range \[-2\.0, 2\.0\].*overlap"
    )
    with pytest.raises(ValueError, match=message):
        ClipObservation(BoxActionEnv(), low=50.0)
    with pytest.raises(
        ValueError, match=r"\[-inf, -1\.0\] at index \(1,\).*\[0\.0, 10"
    ):
        ClipObservation(BoxActionEnv(), high=[5.0, -1.0, 0.0])


def test_clip_observation_range_meeting_the_space_is_intersected():
    # a range that only partly overlaps keeps the overlap (documented)
    env = ClipObservation(BoxActionEnv(), low=-5.0, high=[1.0, 20.0, 3.0])
    np.testing.assert_array_equal(env.observation_space.low, [-2.0, 0.0, -5.0])
    np.testing.assert_array_equal(env.observation_space.high, [1.0, 10.0, 3.0])
    # a degenerate range on the space's edge is allowed
    edge = ClipObservation(BoxActionEnv(), low=2.0, high=2.0)
    np.testing.assert_array_equal(edge.observation_space.low, [2.0, 2.0, 2.0])


def test_clip_observation_bad_bounds_name_the_wrapper_and_shapes():
    # a raw NumPy broadcasting error used to surface
    with pytest.raises(
        ValueError,
        match=r"`ClipObservation\(low=\.\.\.\)` must be a scalar or broadcast to "
        r"the observation space's shape \(3,\), got shape \(2,\)",
    ):
        ClipObservation(BoxActionEnv(), low=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"ClipObservation\(high=.*\(3,\).*\(2, 3\)"):
        ClipObservation(BoxActionEnv(), high=np.ones((2, 3)))
    # the user's own low above high, not the clipped one
    with pytest.raises(
        ValueError,
        match=r"`ClipObservation\(low=\.\.\., high=\.\.\.\)` needs low <= high, "
        r"but at index \(2,\) low=1\.0 > high=-1\.0.*Swap",
    ):
        ClipObservation(BoxActionEnv(), low=1.0, high=[2.0, 2.0, -1.0])
    with pytest.raises(ValueError, match=r"ClipObservation\(high=.*NaN.*None"):
        ClipObservation(BoxActionEnv(), high=float("nan"))


def test_transform_observation_needs_a_lerax_space_and_a_function():
    # a Gymnasium space or None was accepted and failed later in JAX
    gymnasium = pytest.importorskip("gymnasium")

    message = (
        r"`TransformObservation\(env, func, observation_space\)`: "
        r"`observation_space` must be a lerax space.*got {}.*gym_space_to_lerax_space"
    )
    with pytest.raises(TypeError, match=message.format("None")):
        TransformObservation(BoxActionEnv(), lambda o: o, None)
    with pytest.raises(TypeError, match=message.format(r"Box\(")):
        TransformObservation(
            BoxActionEnv(), lambda o: o, gymnasium.spaces.Box(-1, 1, (3,))
        )
    with pytest.raises(
        TypeError, match=r"`TransformObservation\(func=\.\.\.\)` must be callable"
    ):
        TransformObservation(BoxActionEnv(), None, Box(-1.0, 1.0, (3,)))


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
