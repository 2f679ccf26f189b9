"""Constructor checks of the classic-control envs: bad constants, bounds and
Gymnasium keywords are refused by name when the env is built, while traced
constants (an env built under `jit`/`vmap`) pass unchecked."""

import dataclasses
import inspect

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

CLASSES = [CartPole, Acrobot, MountainCar, ContinuousMountainCar, Pendulum]


def float_fields(cls):
    return [f.name for f in dataclasses.fields(cls) if f.type is float]


@pytest.mark.parametrize(
    ("env", "y"),
    [
        (MountainCar(), [-0.5, 0.0]),
        (CartPole(), [0.0, 0.0, 0.05, 0.0]),
        (Acrobot(), [0.1, -0.1, 0.0, 0.0]),
    ],
    ids=lambda x: type(x).__name__,
)
@pytest.mark.parametrize("dtype", [jnp.uint8, jnp.uint32, np.uint8])
def test_unsigned_discrete_actions_act_as_signed_ones(env, y, dtype):
    state = ClassicControlState(jnp.array(y, jnp.float32))
    for action in range(env.action_space.n):
        want = env.step(state, jnp.int32(action), key=jr.key(0), autoreset=False)
        unsigned = dtype(action) if dtype is np.uint8 else jnp.array(action, dtype)
        got = env.step(state, unsigned, key=jr.key(0), autoreset=False)
        np.testing.assert_array_equal(got[0].y, want[0].y)


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (CartPole, "initial_bound"),
        (Acrobot, "initial_bound"),
        (Acrobot, "torque_noise_max"),
        (Pendulum, "initial_theta_bound"),
        (Pendulum, "initial_theta_dot_bound"),
    ],
)
@pytest.mark.parametrize("value", [-0.05, np.float32(-0.05), jnp.array(-0.05)])
def test_negative_uniform_half_widths_are_refused(cls, name, value):
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}\({name}=\.\.\.\)` must be >= 0"
    ):
        cls(**{name: value})
    assert getattr(cls(**{name: 0.0}), name) == 0.0  # a fixed start is fine


@pytest.mark.parametrize("cls", [MountainCar, ContinuousMountainCar])
def test_inverted_initial_range_is_refused(cls):
    with pytest.raises(ValueError, match="initial_low <= initial_high"):
        cls(initial_low=-0.4, initial_high=-0.6)
    with pytest.raises(ValueError, match="initial_low <= initial_high"):
        cls(initial_low=np.float32(0.1), initial_high=jnp.array(0.0))
    env = cls(initial_low=-0.5, initial_high=-0.5)
    np.testing.assert_allclose(env.reset(key=jr.key(0))[0].y, [-0.5, 0.0])


def test_traced_bounds_and_constants_pass_unchecked():
    def first_state(bound, mass):
        env = CartPole(initial_bound=bound, pole_mass=mass)
        return env.initial(key=jr.key(0)).y

    ys = jax.vmap(first_state)(jnp.array([0.0, 0.05]), jnp.array([0.1, 0.2]))
    np.testing.assert_array_equal(ys[0], 0.0)
    assert jax.jit(first_state)(0.05, 0.1).shape == (4,)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_constants_must_be_numbers(cls):
    names = float_fields(cls)
    assert "dt" in names
    for name in names:
        for bad in ("0.1", None, True):
            with pytest.raises(
                TypeError, match=rf"{cls.__name__}\({name}=\.\.\.\)` must be a number"
            ):
                cls(**{name: bad})
        with pytest.raises(ValueError, match=rf"{name}=\.\.\.\)` must be finite"):
            cls(**{name: float("nan")})


@pytest.mark.parametrize("value", [np.float32(-1.0), np.int64(0), jnp.array(-1.0)])
def test_numpy_and_jax_scalars_are_checked_like_python_numbers(value):
    with pytest.raises(ValueError, match=r"CartPole\(pole_mass=\.\.\.\)` must be > 0"):
        CartPole(pole_mass=value)
    assert CartPole(pole_mass=np.float32(0.2)).pole_mass == np.float32(0.2)


def test_sutton_barto_reward_matches_gymnasium():
    theirs = gymnasium.make("CartPole-v1", sutton_barto_reward=True).unwrapped
    env = lerax.env.make("CartPole-v1", sutton_barto_reward=True)
    assert env.unwrapped.sutton_barto_reward is True
    assert CartPole().sutton_barto_reward is False
    theirs.reset(seed=0)
    y = np.array([0.0, 0.0, 0.05, 0.0], np.float32)
    theirs.state = y.copy()
    state = eqx.tree_at(
        lambda s: s.env_state.y, env.reset(key=jr.key(0))[0], jnp.asarray(y)
    )
    rewards, ours = [], []
    for t in range(200):
        _, reward, terminated, _, _ = theirs.step(1)
        state, _, our_reward, our_terminated, _, _ = env.step(
            state, 1, key=jr.key(t), autoreset=False
        )
        rewards.append(reward)
        ours.append(float(our_reward))
        assert bool(our_terminated) == terminated
        if terminated:
            break
    assert terminated and rewards[-1] == -1.0 and set(rewards[:-1]) == {0.0}
    assert ours == rewards


def test_sutton_barto_reward_must_be_a_bool():
    with pytest.raises(TypeError, match="sutton_barto_reward=...\\)` must be True"):
        CartPole(sutton_barto_reward="yes")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("mode", ["rgb_array", "human", "rgb"])
def test_render_mode_is_refused_with_how_lerax_renders(cls, mode):
    with pytest.raises(
        TypeError,
        match=rf"{cls.__name__}\(render_mode=.*render_rgb.*record_video",
    ):
        cls(render_mode=mode)
    assert cls(render_mode=None) == cls()


def test_render_mode_none_through_make():
    assert lerax.env.make("CartPole-v1", render_mode=None).unwrapped == CartPole()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Pendulum(gravity=10.0, g=9.81), "both `gravity` and `g`"),
        (lambda: Pendulum(mass=1.0, m=2.0), "both `mass` and `m`"),
        (lambda: Pendulum(length=1.0, l=0.5), "both `length` and `l`"),
        (
            lambda: Acrobot(torque_noise_max=0.0, torque_max_noise=0.5),
            "both `torque_noise_max` and `torque_max_noise`",
        ),
    ],
)
def test_both_names_of_a_constant_are_refused_even_at_the_default(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_alias_defaults_are_kept():
    pendulum = Pendulum()
    assert (pendulum.gravity, pendulum.mass, pendulum.length) == (10.0, 1.0, 1.0)
    assert type(pendulum.gravity) is float and type(Acrobot().torque_noise_max) is float
    assert repr(inspect.signature(Pendulum).parameters["gravity"].default) == "10.0"
    assert Pendulum(g=9.81).gravity == Pendulum(gravity=9.81).gravity == 9.81
    assert Acrobot().torque_noise_max == 0.0
    assert Acrobot(torque_max_noise=0.5).torque_noise_max == 0.5


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (5.0, TypeError, "must be a flat sequence of torques"),
        ("abc", TypeError, "must be a flat sequence of torques"),  # not 'a', 'b', 'c'
        ([[-1.0, 1.0]], TypeError, "must be a flat sequence of torques"),
        (("1", 0.0), TypeError, r"must hold numbers \(N m\), got '1'"),
        ((True, False), TypeError, "must hold numbers"),
        ((), ValueError, "must name at least one torque"),
        ((float("nan"), 0.0), ValueError, "must be finite"),
        ((-np.inf, 0.0, np.inf), ValueError, "must be finite"),
    ],
)
def test_bad_acrobot_torques_are_refused(bad, error, message):
    # NaN or infinite torques were kept: the first step taking one made the
    # state NaN; a number or text failed with Python's bare messages
    with pytest.raises(error, match=r"`Acrobot\(torques=\.\.\.\)` " + message):
        Acrobot(torques=bad)


def test_acrobot_torques_of_any_numeric_sequence_are_kept():
    want = (-1.0, 0.0, 1.0)
    for torques in ([-1, 0, 1], np.array(want), jnp.array(want), np.float32(want)):
        assert Acrobot(torques=torques).torques == want


@pytest.mark.parametrize(
    ("cls", "low", "high"),
    [
        (MountainCar, "min_position", "max_position"),
        (ContinuousMountainCar, "min_position", "max_position"),
        (ContinuousMountainCar, "min_action", "max_action"),
    ],
)
def test_inverted_position_and_action_ranges_are_refused_by_name(cls, low, high):
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}\({low}=\.\.\., {high}=\.\.\.\)` must have"
    ):
        cls(**{low: 1.0, high: -1.0})
