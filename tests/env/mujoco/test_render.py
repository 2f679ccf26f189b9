"""MuJoCo rendering: off-screen frames equal Gymnasium's, and videos."""

import jax.numpy as jnp
import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
mujoco = pytest.importorskip("mujoco")

import lerax.env.mujoco as mj  # noqa: E402
from lerax.render import record_video, render_rgb  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*is deprecated:UserWarning",
    "ignore:.*np.bool8.*:DeprecationWarning",
)


def state_at(env, qpos):
    """A state with these positions, built eagerly (no compilation)."""
    from mujoco import mjx

    data = mjx.make_data(env.model).replace(qpos=jnp.asarray(qpos, jnp.float32))
    return mj.MujocoState(data)


def gl_available() -> bool:
    try:
        mujoco.Renderer(mujoco.MjModel.from_xml_string("<mujoco/>"), 8, 8).close()
    except Exception:
        return False
    return True


needs_gl = pytest.mark.skipif(not gl_available(), reason="no OpenGL backend")


@needs_gl
@pytest.mark.parametrize("name", ["InvertedPendulum", "Hopper", "Ant"])
def test_frame_matches_gymnasium(name):
    env = getattr(mj, name)()
    theirs = gymnasium.make(f"{name}-v5", render_mode="rgb_array", width=96, height=64)
    theirs.reset(seed=0)
    qpos = theirs.unwrapped.data.qpos.copy()
    image = render_rgb(env, state_at(env, qpos), width=96, height=64)
    reference = theirs.render()
    theirs.close()
    assert image.shape == (64, 96, 3) and image.dtype == np.uint8
    assert image.std() > 1.0  # not a blank frame
    difference = np.abs(image.astype(float) - reference.astype(float)).mean()
    assert difference < 2.0, difference


@needs_gl
def test_video_of_stacked_states(tmp_path):
    env = mj.InvertedPendulum()
    qpos = np.stack([np.array([0.1 * t, 0.05 * t]) for t in range(5)])
    from mujoco import mjx

    data = mjx.make_data(env.model)
    states = mj.MujocoState(
        jax_stack([data.replace(qpos=jnp.asarray(q, jnp.float32)) for q in qpos])
    )
    path = record_video(
        env, states, tmp_path / "pendulum.gif", fps=10, width=32, height=32
    )
    assert path.exists() and path.stat().st_size > 0


@needs_gl
@pytest.mark.parametrize("frame_skip", [2, 4])
def test_video_plays_at_the_envs_real_time_rate(frame_skip, tmp_path):
    from mujoco import mjx

    from ...render.helpers import mp4_fps

    env = mj.InvertedPendulum(frame_skip=frame_skip)
    theirs = gymnasium.make("InvertedPendulum-v5", frame_skip=frame_skip)
    theirs.close()
    expected = theirs.metadata["render_fps"]  # round(1 / dt): 25, then 12
    assert env.render_fps == expected
    data = mjx.make_data(env.model)
    states = mj.MujocoState(jax_stack([data] * 3))
    path = record_video(env, states, tmp_path / "pendulum.mp4", width=32, height=32)
    assert mp4_fps(path) == expected


def jax_stack(items):
    import jax

    return jax.tree.map(lambda *xs: jnp.stack(xs), *items)


def test_render_rejects_a_2d_renderer():
    from lerax.render import HeadlessPygameRenderer

    env = mj.InvertedPendulum()
    with pytest.raises(TypeError, match="MujocoRenderer"):
        env.render(state_at(env, np.zeros(2)), HeadlessPygameRenderer(8, 8))
