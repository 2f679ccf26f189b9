"""Space conversion between lerax and Gymnasium: round trips both ways."""

from collections import OrderedDict

import gymnasium
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lerax.compatibility import (
    GymToLeraxEnv,
    gym_space_to_lerax_space,
    lerax_to_gym_space,
    to_gym_value,
    to_lerax_value,
)
from lerax.space import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple

from ..space.strategies import spaces

gspaces = gymnasium.spaces


def _leaves_equal(a, b):
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _leaves_equal(a[k], b[k])
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _leaves_equal(x, y)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@settings(max_examples=60, deadline=None)
@given(space=spaces, seed=st.integers(0, 2**16))
def test_lerax_to_gym_round_trip_and_values(space, seed):
    gym_space = lerax_to_gym_space(space)
    assert gym_space_to_lerax_space(gym_space) == space
    sample = space.sample(key=jr.key(seed))
    gym_sample = to_gym_value(space, sample)
    assert gym_space.contains(gym_sample), (space, gym_space, gym_sample)
    back = to_lerax_value(space, gym_sample)
    assert bool(space.contains(back))
    _leaves_equal(back, sample)


GYM_SPACES = [
    gspaces.Discrete(5),
    gspaces.Discrete(3, start=-2),
    gspaces.Box(-1.0, 2.0, (), np.float32),
    gspaces.Box(-np.inf, np.inf, (2, 3), np.float32),
    gspaces.Box(np.array([0, -5]), np.array([10, 5]), (2,), np.int32),
    gspaces.Box(0, 255, (4, 4, 3), np.uint8),
    gspaces.MultiDiscrete([3, 4, 5]),
    gspaces.MultiDiscrete(
        np.array([[2, 3], [4, 5]]), start=np.array([[0, 1], [-1, 2]])
    ),
    gspaces.MultiBinary(4),
    gspaces.MultiBinary([2, 3]),
    gspaces.Dict({"b": gspaces.Discrete(2), "a": gspaces.Box(0.0, 1.0, (2,))}),
    gspaces.Dict(OrderedDict(z=gspaces.Discrete(2), a=gspaces.MultiBinary(1))),
    gspaces.Tuple((gspaces.Discrete(2), gspaces.Tuple((gspaces.MultiDiscrete([2]),)))),
]


@pytest.mark.parametrize("gym_space", GYM_SPACES, ids=repr)
def test_gym_to_lerax_round_trip(gym_space):
    space = gym_space_to_lerax_space(gym_space)
    back = lerax_to_gym_space(space)
    assert back == gym_space
    gym_space.seed(0)
    for _ in range(5):
        value = gym_space.sample()
        assert bool(space.contains(to_lerax_value(space, value))), (space, value)


def test_discrete_keeps_start_and_dict_keeps_order():
    space = gym_space_to_lerax_space(gspaces.Discrete(4, start=3))
    assert space == Discrete(4, start=3)
    gym_dict = gspaces.Dict(OrderedDict(z=gspaces.Discrete(2), a=gspaces.Discrete(3)))
    assert list(gym_space_to_lerax_space(gym_dict).keys()) == ["z", "a"]
    ordered = Dict(OrderedDict(z=Discrete(2), a=Discrete(3)))
    assert list(lerax_to_gym_space(ordered).keys()) == ["z", "a"]


def test_float64_box_becomes_float32():
    gym_space = gspaces.Box(-1.0, 1.0, (3,), np.float64)
    space = gym_space_to_lerax_space(gym_space)
    assert space == Box(-1.0, 1.0, (3,))
    assert space.dtype == np.float32


def test_int64_values_that_int32_cannot_hold_are_refused():
    # the space's int32 (no x64) used to wrap them: 2**35 became 0
    space = gym_space_to_lerax_space(gspaces.Box(0, 2**40, (2,), np.int64))
    assert space.dtype == np.int32
    np.testing.assert_array_equal(
        to_lerax_value(space, np.array([7, 5], np.int64)), [7, 5]
    )
    with pytest.raises(
        ValueError, match=r"int64 in \[5, 34359738368\].*jax_enable_x64"
    ):
        to_lerax_value(space, np.array([2**35, 5], np.int64))
    discrete = gym_space_to_lerax_space(gspaces.Discrete(3))
    with pytest.raises(ValueError, match="does not fit"):
        to_lerax_value(discrete, np.int64(-(2**40)))


def test_every_type_converts():
    space = Tuple(
        [
            Discrete(3, start=1),
            Box(0, 3, (), dtype=np.int32),
            MultiDiscrete([2, 3], start=[1, -1]),
            MultiBinary((2, 2)),
            Dict(a=Box(-1.0, 1.0, (2,))),
        ]
    )
    gym_space = lerax_to_gym_space(space)
    assert isinstance(gym_space[0], gspaces.Discrete) and gym_space[0].start == 1
    assert gym_space[1].shape == () and gym_space[1].dtype == np.int32
    np.testing.assert_array_equal(gym_space[2].start, [1, -1])
    assert gym_space[3].shape == (2, 2)
    assert gym_space_to_lerax_space(gym_space) == space


def test_unsupported_spaces_raise():
    with pytest.raises(TypeError, match="Text"):
        gym_space_to_lerax_space(gspaces.Text(5))
    with pytest.raises(TypeError, match="lerax_to_gym_space"):
        lerax_to_gym_space(gspaces.Discrete(2))


def test_a_bool_box_becomes_multi_binary():
    # It used to fail inside lerax's `Box` ("must be a floating or integer
    # dtype"), though Gymnasium's bool Box is a MultiBinary by another name.
    gym_space = gspaces.Box(0, 1, (2, 3), np.bool_)
    space = gym_space_to_lerax_space(gym_space)
    assert space == MultiBinary((2, 3))
    gym_space.seed(0)
    for _ in range(5):
        value = to_lerax_value(space, gym_space.sample())
        assert bool(space.contains(value))
    for key in range(5):
        assert gym_space.contains(np.asarray(space.sample(key=jr.key(key))))
    for fixed in (
        gspaces.Box(1, 1, (2,), np.bool_),  # a bit that is always on
        gspaces.Box(0, 1, (), np.bool_),  # scalar
    ):
        with pytest.raises(TypeError, match="gym_space_to_lerax_space.*bool `Box`"):
            gym_space_to_lerax_space(fixed)


def test_observations_and_actions_of_a_bool_box_env():
    class Bits(gymnasium.Env):
        observation_space = gspaces.Box(0, 1, (3,), np.bool_)
        action_space = gspaces.Box(0, 1, (2,), np.bool_)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return np.array([True, False, True]), {}

        def step(self, action):
            assert self.action_space.contains(action), action
            return np.array([*action, True]), 1.0, False, False, {}

    env = GymToLeraxEnv(Bits())
    state, obs, _ = env.reset(key=jr.key(0))
    np.testing.assert_array_equal(obs, [True, False, True])
    _, obs, *_ = env.step(state, np.array([False, True]), key=jr.key(1))
    np.testing.assert_array_equal(obs, [False, True, True])


def test_float64_values_beyond_float32_become_its_largest_values():
    # They used to become infinities (with a NumPy overflow warning), outside
    # the converted space, whose bounds are float32's largest values.
    gym_space = gspaces.Box(-1e300, 1e300, (3,), np.float64)
    space = gym_space_to_lerax_space(gym_space)
    value = to_lerax_value(space, np.array([1e300, -1e200, 0.5]))
    big = np.finfo(np.float32).max
    np.testing.assert_array_equal(value, np.array([big, -big, 0.5], np.float32))
    assert bool(space.contains(value))
    # true infinities (of an unbounded box) stay infinite
    unbounded = gym_space_to_lerax_space(gspaces.Box(-np.inf, np.inf, (2,)))
    value = to_lerax_value(unbounded, np.array([np.inf, 1e300]))
    np.testing.assert_array_equal(value, np.array([np.inf, big], np.float32))


def test_value_converters_reject_a_wrong_space_or_tuple_length():
    # A Gymnasium space used to fail with "'Dict' object has no attribute
    # 'items'"-style errors (or pass by accident), and a short tuple value
    # was cut down silently by `zip`.
    pair = Tuple([Discrete(2), Discrete(3)])
    for convert in (to_gym_value, to_lerax_value):
        with pytest.raises(TypeError, match="gym_space_to_lerax_space"):
            convert(gspaces.Dict({"a": gspaces.Discrete(2)}), {"a": 1})
        with pytest.raises(TypeError, match="needs the lerax space"):
            convert("Discrete(2)", 1)
        with pytest.raises(ValueError, match="sequence of 2 items"):
            convert(pair, (1,))
        assert len(convert(pair, (1, 2))) == 2
