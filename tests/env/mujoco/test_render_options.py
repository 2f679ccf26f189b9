"""Gymnasium v5's rendering constructor options of the MuJoCo envs.

Every env takes them, with Gymnasium's defaults; they are static (the physics
is untouched) and the frames they give equal Gymnasium's under the same
options. Nothing here compiles MJX: states are built from `qpos` eagerly.
"""

import inspect

import jax
import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
mujoco = pytest.importorskip("mujoco")

import lerax.env  # noqa: E402
import lerax.env.mujoco as mj  # noqa: E402
from lerax.render import render_rgb  # noqa: E402

from .test_render import needs_gl, state_at  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*is deprecated:UserWarning",
    "ignore:.*np.bool8.*:DeprecationWarning",
)

NAMES = [
    "Ant",
    "HalfCheetah",
    "Hopper",
    "Humanoid",
    "HumanoidStandup",
    "InvertedDoublePendulum",
    "InvertedPendulum",
    "Pusher",
    "Reacher",
    "Swimmer",
    "Walker2d",
]

CUSTOM = {
    "render_mode": None,
    "width": 64,
    "height": 48,
    "camera_id": -1,
    "default_camera_config": {"distance": 2.5, "lookat": np.array([0.0, 0.0, 1.0])},
    "max_geom": 500,
    "visual_options": {mujoco.mjtVisFlag.mjVIS_TRANSPARENT: True},
}


def gymnasium_options(name: str) -> dict:
    """Every constructor option of Gymnasium's `{name}-v5`, at its default:
    the env's own and the rendering ones of `MujocoEnv.__init__`."""
    from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

    env_class = type(gymnasium.make(f"{name}-v5").unwrapped)
    options = {}
    for function in (MujocoEnv.__init__, env_class.__init__):
        for key, parameter in inspect.signature(function).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                options[key] = parameter.default
    return options


@pytest.mark.parametrize("name", NAMES)
def test_every_env_takes_every_gymnasium_option_with_its_default(name):
    options = gymnasium_options(name)
    assert {"render_mode", "width", "camera_id", "visual_options"} <= set(options)
    ours = getattr(mj, name)(**options)
    assert ours.render_options == getattr(mj, name)().render_options
    theirs = options["default_camera_config"]
    expected = None if theirs is None else dict(theirs)
    if expected is not None and "lookat" in expected:
        expected["lookat"] = tuple(float(x) for x in expected["lookat"])
    # Gymnasium's default camera per env: None for InvertedDoublePendulum
    # and Swimmer, a dict for the others.
    stored = ours.render_options.default_camera_config
    assert (None if stored is None else dict(stored)) == expected


@pytest.mark.parametrize("name", NAMES)
def test_rendering_options_are_stored_static_and_leave_the_physics(name):
    env = lerax.env.make(f"{name}-v5", **CUSTOM)
    options = env.unwrapped.render_options
    assert (options.width, options.height) == (64, 48)
    assert (options.camera_id, options.camera_name) == (-1, None)
    assert options.max_geom == 500
    assert options.visual_options == ((int(mujoco.mjtVisFlag.mjVIS_TRANSPARENT), True),)
    assert env.unwrapped.default_camera == {"distance": 2.5, "lookat": (0.0, 0.0, 1.0)}
    # Not traced: the leaves (the MJX model, physical constants) are the
    # default env's, so the physics and its compiled program are unchanged.
    default = getattr(mj, name)()
    ours, theirs = jax.tree.leaves(env.unwrapped), jax.tree.leaves(default)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    hash(env.unwrapped.render_options)


def rendered(name: str, options: dict, size: tuple[int, int] = (96, 64)):
    """`(ours, gymnasium's, our default env's)` frames of one state."""
    width, height = size
    sized = {"width": width, "height": height, **options}
    theirs = gymnasium.make(f"{name}-v5", render_mode="rgb_array", **sized)
    theirs.reset(seed=0)
    qpos = theirs.unwrapped.data.qpos.copy()
    reference = theirs.render()
    theirs.close()
    env = getattr(mj, name)(**sized)
    state = state_at(env, qpos)
    default = render_rgb(getattr(mj, name)(), state, width=width, height=height)
    return render_rgb(env, state), reference, default


@needs_gl
@pytest.mark.parametrize(
    "name, options",
    [
        (
            "InvertedPendulum",
            {"default_camera_config": {"distance": 5.0, "azimuth": 30.0}},
        ),
        ("Hopper", {"camera_id": -1}),
        (
            "Hopper",
            {"camera_id": -1, "default_camera_config": {"distance": 6.0}},
        ),
        ("Humanoid", {"camera_id": 1}),
        ("Ant", {"visual_options": {mujoco.mjtVisFlag.mjVIS_TRANSPARENT: True}}),
        ("Ant", {"max_geom": 3}),
    ],
    ids=[
        "camera-config",
        "free-camera",
        "free-camera-config",
        "camera-id",
        "vopt",
        "geoms",
    ],
)
def test_frame_follows_the_options_as_gymnasium(name, options):
    ours, theirs, default = rendered(name, options)
    assert ours.shape == (64, 96, 3) and ours.dtype == np.uint8
    assert not np.array_equal(ours, default)
    difference = np.abs(ours.astype(float) - theirs.astype(float)).mean()
    assert difference < 0.5, difference


@needs_gl
def test_width_and_height_set_the_default_frame_size():
    ours, theirs, _ = rendered("Reacher", {}, size=(40, 30))
    assert ours.shape == theirs.shape == (30, 40, 3)
    assert np.abs(ours.astype(float) - theirs.astype(float)).mean() < 0.5
    env = mj.Reacher(width=40, height=30)
    state = state_at(env, np.zeros(env.model.nq))
    assert render_rgb(env, state, width=24, height=16).shape == (16, 24, 3)
    assert render_rgb(mj.Reacher(), state).shape == (480, 480, 3)


@needs_gl
def test_camera_name_picks_the_named_camera():
    named = mj.Humanoid(camera_name="track", camera_id=None)
    by_index = mj.Humanoid(camera_id=0)
    free = mj.Humanoid(camera_id=-1)
    state = state_at(named, named.model.qpos0)
    frame = render_rgb(named, state, width=64, height=48)
    np.testing.assert_array_equal(
        frame, render_rgb(by_index, state, width=64, height=48)
    )
    assert not np.array_equal(frame, render_rgb(free, state, width=64, height=48))


@pytest.mark.parametrize("name", NAMES)
def test_camera_id_and_camera_name_together_are_refused(name):
    with pytest.raises(ValueError, match="not both"):
        getattr(mj, name)(camera_id=-1, camera_name="track")
    with pytest.raises(ValueError, match="not both"):
        lerax.env.make(f"{name}-v5", camera_id=0, camera_name="track")


def test_renderer_refuses_camera_id_and_camera_name_together():
    env = mj.Hopper()
    with pytest.raises(ValueError, match="not both"):
        mj.MujocoRenderer(env.xml_file, camera_id=0, camera_name="track")


@pytest.mark.parametrize(
    "options, match",
    [
        ({"camera_name": "nope"}, "no such camera.*track"),
        ({"camera_name": 0}, "camera_name"),
        ({"camera_id": 1}, "camera_id"),
        ({"camera_id": -2}, "camera_id"),
        ({"camera_id": True}, "camera_id"),
        ({"width": 0}, "width"),
        ({"height": 2.5}, "height"),
        ({"max_geom": -1}, "max_geom"),
        ({"default_camera_config": {"zoom": 2.0}}, "unknown camera setting 'zoom'"),
        ({"default_camera_config": {"lookat": (0.0, 1.0)}}, "lookat"),
        ({"default_camera_config": {"distance": "far"}}, "distance"),
        ({"default_camera_config": [("distance", 1.0)]}, "default_camera_config"),
        ({"visual_options": {"contacts": True}}, "mjtVisFlag"),
        ({"visual_options": {999: True}}, "mjtVisFlag"),
        ({"visual_options": {1: "yes"}}, "bools"),
    ],
)
def test_bad_rendering_options_raise(options, match):
    with pytest.raises(ValueError, match=match):
        mj.Hopper(**options)


def test_unknown_keyword_is_a_type_error_naming_the_env():
    with pytest.raises(TypeError, match="Hopper.*unexpected keyword argument 'camera'"):
        mj.Hopper(camera=0)


@pytest.mark.parametrize(
    "mode", ["rgb_array", "human", "depth_array", "rgbd_tuple", "rgb"]
)
def test_render_mode_is_refused_with_how_lerax_renders(mode):
    with pytest.raises(TypeError, match="render_rgb.*record_video.*render_stacked"):
        lerax.env.make("Hopper-v5", render_mode=mode)
    assert mj.Hopper(render_mode=None).render_options == mj.Hopper().render_options
