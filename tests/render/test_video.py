"""Videos, stacked rollouts and wrappers."""

import subprocess
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
import lerax.render._video as video_module
from lerax.env.classic_control import CartPole, ClassicControlState, Pendulum
from lerax.render import VideoRenderer, record_video, render_rgb, write_video
from lerax.wrapper import ClipAction, NormalizeObservation, RescaleAction, TimeLimit

pytest.importorskip("pygame")
pytest.importorskip("imageio")

ROOT = Path(__file__).resolve().parents[2]


def rollout(env, num_steps, key):
    """States visited under random actions, stacked along time (one scan)."""

    @eqx.filter_jit
    def run(key):
        reset_key, scan_key = jr.split(key)
        state, _, _ = env.reset(key=reset_key)

        def one_step(state, step_key):
            action_key, env_key = jr.split(step_key)
            action = env.action_space.sample(key=action_key)
            next_state, *_ = env.step(state, action, key=env_key)
            return next_state, state

        return jax.lax.scan(one_step, state, jr.split(scan_key, num_steps))[1]

    return run(key)


def count_mp4_frames(path):
    import imageio.v2 as imageio

    reader = imageio.get_reader(path, format="FFMPEG")
    try:
        return reader.count_frames(), reader.get_meta_data()["size"]
    finally:
        reader.close()


@pytest.fixture(scope="module")
def cartpole_states():
    env = lerax.env.make("CartPole-v1")
    return env, rollout(env, 12, jr.key(0))


def test_mp4_reads_back_with_every_frame(cartpole_states, tmp_path):
    env, states = cartpole_states
    path = record_video(env, states, tmp_path / "cartpole.mp4", fps=50)
    assert path == tmp_path / "cartpole.mp4"
    assert count_mp4_frames(path) == (12, (600, 400))
    assert [p.name for p in tmp_path.iterdir()] == ["cartpole.mp4"]  # no leftovers


def test_odd_frame_size_is_padded_for_h264(cartpole_states, tmp_path):
    env, states = cartpole_states
    path = record_video(env, states, tmp_path / "odd", width=101, height=75)
    assert path.suffix == ".mp4"
    assert count_mp4_frames(path) == (12, (102, 76))


def test_gif_by_suffix(tmp_path):
    import imageio.v3 as iio

    frames = np.zeros((5, 30, 40, 3), np.uint8)
    for t in range(5):
        frames[t, :, 8 * t : 8 * t + 8] = (255, 0, 0)
    path = write_video(list(frames), tmp_path / "moving.gif", fps=25)
    back = iio.imread(path, index=None)
    assert back.shape[:3] == (5, 30, 40)
    np.testing.assert_array_equal(back[..., :3], frames)


def test_gif_fallback_without_ffmpeg(cartpole_states, tmp_path, monkeypatch):
    import imageio.v3 as iio

    real_require = video_module.require

    def no_ffmpeg(module, extra):
        if module == "imageio_ffmpeg":
            raise ImportError(
                '`imageio_ffmpeg` is missing: pip install "lerax[render]"'
            )
        return real_require(module, extra)

    monkeypatch.setattr(video_module, "require", no_ffmpeg)
    env, states = cartpole_states
    with pytest.warns(RuntimeWarning, match="GIF"):
        path = record_video(env, states, tmp_path / "cartpole.mp4")
    assert path == tmp_path / "cartpole.gif"
    # Pillow merges pixel-identical consecutive frames (adding their durations).
    assert 2 <= iio.imread(path, index=None).shape[0] <= 12
    assert not (tmp_path / "cartpole.mp4").exists()


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "video.gif"
    target.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    import imageio.v3 as iio

    monkeypatch.setattr(iio, "imwrite", broken)
    with pytest.raises(OSError, match="disk full"):
        write_video([np.zeros((4, 4, 3), np.uint8)], target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["video.gif"]


def test_write_video_checks_its_input(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        write_video([], tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="same shape"):
        write_video(
            [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)],
            tmp_path / "a.gif",
        )
    with pytest.raises(ValueError, match=r"\.mp4 or \.gif"):
        write_video([np.zeros((4, 4, 3), np.uint8)], tmp_path / "a.webm")


def test_render_stacked_draws_each_state_of_a_scan(cartpole_states, tmp_path):
    env, states = cartpole_states
    video = VideoRenderer(env.default_renderer(headless=True), tmp_path / "v.mp4")
    env.render_stacked(states, renderer=video, dt=0.001)
    assert len(video.frames) == 12
    assert video.written_path == tmp_path / "v.mp4"
    for t in (0, 7):
        one = jax.tree.map(lambda x: x[t], states)
        np.testing.assert_array_equal(video.frames[t], render_rgb(env, one))
    # The pole moves during the rollout.
    assert np.any(video.frames[0] != video.frames[-1])


def test_render_stacked_rejects_unstacked_states():
    env = CartPole()
    with pytest.raises(ValueError, match="leading time axis"):
        env.render_stacked(ClassicControlState(jnp.array(0.0)), renderer=None)
    with pytest.raises(ValueError, match="empty"):
        record_video(env, ClassicControlState(jnp.zeros((0, 4))), "unused.mp4")


def test_wrappers_delegate_to_the_inner_env(getkey):
    base = Pendulum()
    inner = base.initial(key=getkey())
    expected = render_rgb(base, inner)
    stateless = RescaleAction(ClipAction(base))
    stateful = TimeLimit(NormalizeObservation(stateless), 200)
    state = stateful.initial(key=getkey())
    state = eqx.tree_at(lambda s: s.env_state.env_state, state, inner)
    np.testing.assert_array_equal(render_rgb(stateless, inner), expected)
    np.testing.assert_array_equal(render_rgb(stateful, state), expected)
    renderer = stateful.default_renderer(headless=True, width=250)
    assert (renderer.width, renderer.height) == (250, 250)


def test_example_records_a_video(tmp_path):
    out = tmp_path / "cartpole.mp4"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "render_cartpole.py"),
            "--steps",
            "15",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr
    assert count_mp4_frames(out)[0] == 15
