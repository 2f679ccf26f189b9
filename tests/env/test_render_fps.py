"""Every env's real-time frame rate (`render_fps`) and step length (`dt`),
read through wrappers, against Gymnasium's values for the same id.

Only construction is needed (no step is compiled), so the MuJoCo envs cost
a model load each.
"""

import importlib.util
from pathlib import Path

import gymnasium
import jax.numpy as jnp
import pytest

import lerax.env
from lerax.env import AbstractEnv, AbstractEnvLike
from lerax.env.classic_control import Acrobot, CartPole, Pendulum
from lerax.space import Box, Discrete
from lerax.wrapper import (
    AbstractRewardWrapper,
    Identity,
    NormalizeObservation,
    TimeLimit,
)

HAS_MUJOCO = all(
    importlib.util.find_spec(module) is not None for module in ("mujoco", "mujoco.mjx")
)
CLASSIC = (
    "Acrobot-v1",
    "CartPole-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
)
MUJOCO = tuple(i for i in lerax.env.registered() if i.endswith("-v5"))
needs_mujoco = pytest.mark.skipif(not HAS_MUJOCO, reason="needs mujoco (MJX)")

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*is deprecated:UserWarning",
    "ignore:.*np.bool8.*:DeprecationWarning",
)


def gym_env(env_id: str, **kwargs):
    env = gymnasium.make(env_id, **kwargs)
    env.close()  # only its metadata and dt are read
    return env


def views(env_id: str, **kwargs):
    """The env of `env_id` as `make` returns it (in its `TimeLimit`), inside
    two more wrappers (pass-through and stateful), and unwrapped."""
    made = lerax.env.make(env_id, **kwargs)
    return {
        "make": made,
        "wrapped": Identity(NormalizeObservation(made)),
        "unwrapped": made.unwrapped,
    }


def test_every_registered_id_is_covered():
    assert sorted(CLASSIC + MUJOCO) == sorted(lerax.env.registered())
    assert len(MUJOCO) == 11


@pytest.mark.parametrize("env_id", CLASSIC)
def test_classic_control_render_fps_is_gymnasiums(env_id):
    expected = gym_env(env_id).metadata["render_fps"]
    for where, env in views(env_id).items():
        assert env.render_fps == expected, where
        assert type(env.render_fps) is int, where


@pytest.mark.parametrize("env_id", CLASSIC)
def test_classic_control_dt_reads_through_wrappers(env_id):
    unwrapped = gym_env(env_id).unwrapped
    # Gymnasium's name for the step length: `tau` (CartPole) or `dt`; the
    # mountain cars have none (ours is 1.0: one unit of their update)
    expected = getattr(unwrapped, "dt", getattr(unwrapped, "tau", 1.0))
    for where, env in views(env_id).items():
        assert env.dt == pytest.approx(expected), where


def test_classic_control_rate_is_a_constant_as_in_gymnasium():
    # Gymnasium's classic-control rates are class constants, not 1 / dt
    assert CartPole(dt=0.01).render_fps == 50
    assert Acrobot(dt=0.1).render_fps == 15
    assert Pendulum(dt=0.01).render_fps == 30
    assert CartPole.render_fps == 50  # readable on the class too


@needs_mujoco
@pytest.mark.parametrize("env_id", MUJOCO)
def test_mujoco_render_fps_and_dt_are_gymnasiums(env_id):
    gym = gym_env(env_id)
    expected_fps, expected_dt = gym.metadata["render_fps"], gym.unwrapped.dt
    for where, env in views(env_id).items():
        assert env.render_fps == expected_fps, where
        assert type(env.render_fps) is int, where
        assert env.dt == pytest.approx(expected_dt, rel=1e-12), where


@needs_mujoco
@pytest.mark.parametrize(
    ("env_id", "frame_skip"), [("HalfCheetah-v5", 2), ("Hopper-v5", 3)]
)
def test_mujoco_rate_follows_frame_skip(env_id, frame_skip):
    gym = gym_env(env_id, frame_skip=frame_skip)
    for where, env in views(env_id, frame_skip=frame_skip).items():
        assert env.render_fps == gym.metadata["render_fps"], where
        assert env.dt == pytest.approx(gym.unwrapped.dt, rel=1e-12), where
    assert lerax.env.make(env_id).render_fps != gym.metadata["render_fps"]


@needs_mujoco
def test_mujoco_rate_follows_the_models_timestep(tmp_path):
    from lerax.env.mujoco._model import asset_dir

    xml = (tmp_path / "fast_cheetah.xml").resolve()
    text = (Path(asset_dir()) / "half_cheetah.xml").read_text()
    assert 'timestep="0.01"' in text
    xml.write_text(text.replace('timestep="0.01"', 'timestep="0.004"'))
    gym = gym_env("HalfCheetah-v5", xml_file=str(xml))
    env = lerax.env.make("HalfCheetah-v5", xml_file=str(xml))
    assert gym.metadata["render_fps"] == 50
    assert env.render_fps == 50 and env.unwrapped.render_fps == 50
    assert env.dt == pytest.approx(gym.unwrapped.dt, rel=1e-12)


# Envs written by users.


class AbstractStill(AbstractEnv):
    """An env that stays where it starts: only its attributes matter here."""

    def initial(self, *, key):
        del key
        return jnp.zeros(())

    def transition(self, state, action, *, key):
        del action, key
        return state

    def observation(self, state, *, key):
        del key
        return jnp.reshape(state, (1,))

    def reward(self, state, action, next_state, *, key):
        del state, action, next_state, key
        return jnp.array(0.0)

    def terminal(self, state, *, key):
        del state, key
        return jnp.array(False)

    def truncate(self, state):
        del state
        return jnp.array(False)

    def action_mask(self, state, *, key):
        del state, key
        return None

    def state_info(self, state):
        del state
        return {}

    def transition_info(self, state, action, next_state):
        del state, action, next_state
        return {}


class Still(AbstractStill):
    """A user env that says nothing about its timing."""

    name: str = "Still"
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(-1.0, 1.0, (1,))


class TimedStill(AbstractStill):
    """A user env giving its rate and step length as fields."""

    name: str = "TimedStill"
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(-1.0, 1.0, (1,))
    render_fps: float = 12.5
    dt: float = 0.08


def test_a_user_env_gives_no_rate_by_default():
    env = Still()
    assert env.render_fps is None and Still.render_fps is None
    for wrapped in (TimeLimit(env, 3), Identity(TimeLimit(env, 3))):
        assert wrapped.render_fps is None
        assert not hasattr(wrapped, "dt")


def test_dt_through_a_wrapper_of_an_env_without_one_names_the_env():
    wrapped = Identity(TimeLimit(Still(), 3))
    with pytest.raises(AttributeError, match=r"Identity\.dt: .*'Still'.* no `dt`"):
        _ = wrapped.dt


def test_a_user_env_may_give_its_rate_as_fields():
    env = TimedStill()
    assert (env.render_fps, env.dt) == (12.5, 0.08)
    other = TimedStill(render_fps=24.0, dt=0.04)  # dataclass fields
    wrapped = Identity(TimeLimit(other, 3))
    assert (wrapped.render_fps, wrapped.dt) == (24.0, 0.04)


def test_a_rate_field_takes_its_place_among_fields_without_defaults():
    # `render_fps` given as a field after fields without defaults (valid
    # dataclass order) or without a default at all
    class Paced(AbstractStill):
        speed: float
        name: str = "Paced"
        action_space: Discrete = Discrete(2)
        observation_space: Box = Box(-1.0, 1.0, (1,))
        render_fps: float = 12.5

    class Required(AbstractStill):
        speed: float
        render_fps: float  # None when not given, as an env without a rate
        name: str = "Required"
        action_space: Discrete = Discrete(2)
        observation_space: Box = Box(-1.0, 1.0, (1,))

    assert Paced(2.0).render_fps == 12.5 and Paced(2.0).speed == 2.0
    assert TimeLimit(Paced(2.0, render_fps=24.0), 3).render_fps == 24.0
    assert Required(2.0, 24.0).render_fps == 24.0
    assert Required(2.0).render_fps is None
    assert Still.render_fps is None and Still().render_fps is None


class FrameSkip(AbstractRewardWrapper):
    """A user wrapper that repeats each action `skip` times (only its timing
    matters here), its rate and step length given as properties."""

    env: AbstractEnvLike
    skip: int = 4

    def map_reward(self, reward):
        return reward

    @property
    def render_fps(self):
        return self.env.render_fps / self.skip

    @property
    def dt(self):
        return self.env.dt * self.skip


class Retimed(AbstractRewardWrapper):
    """A user wrapper giving its rate and step length as fields."""

    env: AbstractEnvLike
    render_fps: float
    dt: float = 0.5

    def map_reward(self, reward):
        return reward


def test_a_user_wrapper_may_change_the_timing():
    env = TimeLimit(CartPole(), 10)
    skipping = FrameSkip(env)
    assert (skipping.render_fps, skipping.dt) == (12.5, 0.08)
    assert (Identity(skipping).render_fps, Identity(skipping).dt) == (12.5, 0.08)
    # as fields, with and without defaults, after the wrapped env
    retimed = Retimed(env, 10.0)
    assert (retimed.render_fps, retimed.dt) == (10.0, 0.5)
    assert Identity(Retimed(env, 10.0, dt=0.1)).dt == 0.1
    # a plain wrapper still forwards, and tells when there is no `dt`
    assert (Identity(env).render_fps, Identity(env).dt) == (50, 0.02)
    assert not hasattr(Identity(Still()), "dt")
