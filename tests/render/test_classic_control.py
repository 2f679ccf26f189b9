"""Classic-control envs draw Gymnasium's pictures."""

import math

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.env.classic_control import (
    Acrobot,
    CartPole,
    ClassicControlState,
    ContinuousMountainCar,
    MountainCar,
    Pendulum,
)
from lerax.render import render_rgb

pytest.importorskip("pygame")

# Gymnasium id, our env, a state, and the default picture size (height, width).
CASES = [
    ("CartPole-v1", CartPole(), [0.5, 0.1, 0.2, -0.3], (400, 600)),
    ("Acrobot-v1", Acrobot(), [0.5, 0.8, 0.1, -0.2], (500, 500)),
    ("MountainCar-v0", MountainCar(), [-0.5, 0.01], (400, 600)),
    ("MountainCarContinuous-v0", ContinuousMountainCar(), [0.2, 0.01], (400, 600)),
    ("Pendulum-v1", Pendulum(), [0.7, 0.5], (500, 500)),
]
IDS = [case[0] for case in CASES]
POLE = np.array([202, 152, 101])


def state_of(y):
    return ClassicControlState(jnp.asarray(y, jnp.float32))


def gymnasium_frame(gym_id, y):
    gym = pytest.importorskip("gymnasium")
    env = gym.make(gym_id, render_mode="rgb_array")
    env.reset(seed=0)
    env.unwrapped.state = np.asarray(y, dtype=env.unwrapped.state.dtype)
    try:
        return env.render()
    finally:
        env.close()


@pytest.mark.parametrize(("gym_id", "env", "y", "size"), CASES, ids=IDS)
def test_frame_is_drawn_at_gymnasium_size(gym_id, env, y, size):
    frame = render_rgb(env, state_of(y))
    assert frame.shape == (*size, 3) and frame.dtype == np.uint8
    non_white = np.any(frame != 255, axis=-1).mean()
    assert 0.002 < non_white < 0.5  # something is drawn, on a white background


@pytest.mark.parametrize(("gym_id", "env", "y", "size"), CASES, ids=IDS)
def test_frames_change_between_steps(gym_id, env, y, size, getkey):
    state = state_of(y)
    action = env.action_space.sample(key=getkey())

    # A few steps, so even a slow system moves by a visible amount.
    @eqx.filter_jit
    def five_steps(state, key):
        for step_key in jr.split(key, 5):
            state = env.transition(state, action, key=step_key)
        return state

    later = five_steps(state, getkey())
    before, after = render_rgb(env, state), render_rgb(env, later)
    assert np.any(before != after, axis=-1).sum() > 20


@pytest.mark.parametrize(("gym_id", "env", "y", "size"), CASES, ids=IDS)
def test_matches_gymnasium_rgb_array(gym_id, env, y, size):
    ours = render_rgb(env, state_of(y))
    theirs = gymnasium_frame(gym_id, y)
    assert ours.shape == theirs.shape
    close = np.abs(ours.astype(int) - theirs.astype(int)).max(axis=-1) <= 8
    assert close.mean() > 0.999
    # The drawn (non-white) pixels agree too, not just the background.
    drawn = np.any(theirs != 255, axis=-1)
    assert close[drawn].mean() > 0.97


@pytest.mark.parametrize(
    ("gym_id", "env"),
    [
        ("MountainCar-v0", MountainCar()),
        ("MountainCarContinuous-v0", ContinuousMountainCar()),
    ],
)
@pytest.mark.parametrize("y", [[-1.2, 0.0], [-1.2, 0.05], [0.6, 0.0]])
def test_mountain_car_at_the_walls_is_gymnasiums_picture(gym_id, env, y):
    # at the left wall the back wheel's centre has a negative pixel x
    ours = render_rgb(env, state_of(y))
    np.testing.assert_array_equal(ours, gymnasium_frame(gym_id, y))


def test_cartpole_pole_leans_where_the_angle_says():
    env = CartPole()

    def pole_columns(theta):
        frame = render_rgb(env, state_of([0.0, 0.0, theta, 0.0]))
        pole = np.all(np.abs(frame.astype(int) - POLE) <= 8, axis=-1)
        return np.nonzero(pole)[1], np.nonzero(pole)[0]

    centre = 300  # the cart sits at x = 0, mid-image
    right_cols, right_rows = pole_columns(0.2)
    left_cols, _ = pole_columns(-0.2)
    assert (right_cols > centre).sum() > 10 * max((right_cols < centre).sum(), 1)
    assert (left_cols < centre).sum() > 10 * max((left_cols > centre).sum(), 1)
    # The pole stands up from the cart: its pixels are above the track (row 300).
    assert right_rows.max() <= 300 and right_rows.min() < 200
    # Its length and lean: the top sits near 2 * half_length * sin(0.2) * 125 px.
    expected_dx = 2 * env.half_length * math.sin(0.2) * 125
    assert abs(right_cols.max() - centre - expected_dx) < 8
    upright_cols, _ = pole_columns(0.0)
    assert abs(upright_cols.mean() - centre) < 2


def test_cartpole_cart_follows_position():
    env = CartPole()
    for x in (-1.5, 0.0, 1.5):
        frame = render_rgb(env, state_of([x, 0.0, 0.0, 0.0]))
        black = np.all(frame < 30, axis=-1)
        black[299:302] = False  # ignore the track line
        cols = np.nonzero(black)[1]
        assert abs(cols.mean() - (300 + 125 * x)) < 2


def test_custom_size_keeps_aspect_ratio():
    env = CartPole()
    assert render_rgb(env, env.initial(key=jr.key(0)), width=300).shape == (200, 300, 3)
    assert render_rgb(env, env.initial(key=jr.key(0)), height=100).shape == (
        100,
        150,
        3,
    )
    frame = render_rgb(env, env.initial(key=jr.key(0)), width=320, height=320)
    assert frame.shape == (320, 320, 3)


def test_batched_state_is_rejected():
    env = Pendulum()
    batched = ClassicControlState(jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="render_stacked"):
        render_rgb(env, batched)
