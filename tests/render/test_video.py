"""Videos, stacked rollouts and wrappers."""

import subprocess
import sys
import warnings
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
import lerax.render._video as video_module
from lerax.env.classic_control import Acrobot, CartPole, ClassicControlState, Pendulum
from lerax.render import (
    DEFAULT_FPS,
    VideoRenderer,
    record_video,
    render_rgb,
    write_video,
)
from lerax.wrapper import (
    AbstractRewardWrapper,
    ClipAction,
    Identity,
    NormalizeObservation,
    RescaleAction,
    TimeLimit,
)

from .helpers import mp4_fps

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


# Frame rates: the env's real-time rate unless `fps` is given.


class ForgetRate(AbstractRewardWrapper):
    """Hides the wrapped env's frame rate (as a user env without one)."""

    env: lerax.env.AbstractEnvLike
    rate: float | None = None

    @property
    def render_fps(self):
        return self.rate

    def map_reward(self, reward):
        return reward


def still_states(env, num_states=3):
    """`num_states` copies of a classic-control env's initial state, stacked
    (drawing needs no rollout)."""
    state = env.initial(key=jr.key(0))
    return jax.tree.map(lambda x: jnp.stack([x] * num_states), state)


def test_video_plays_at_the_envs_rate_by_default(cartpole_states, tmp_path):
    env, states = cartpole_states
    assert env.render_fps == 50  # Gymnasium's CartPole-v1
    path = record_video(env, states, tmp_path / "cartpole.mp4")
    assert mp4_fps(path) == 50
    acrobot = Identity(Acrobot())  # read through a wrapper: 15, Gymnasium's
    path = record_video(acrobot, still_states(Acrobot()), tmp_path / "acrobot.mp4")
    assert mp4_fps(path) == 15


def test_given_fps_overrides_the_envs_rate(cartpole_states, tmp_path):
    env, states = cartpole_states
    path = record_video(env, states, tmp_path / "slow.mp4", fps=20)
    assert mp4_fps(path) == 20


def test_env_without_a_rate_plays_at_the_default(tmp_path):
    env = ForgetRate(Pendulum())
    assert env.render_fps is None and DEFAULT_FPS == 30
    path = record_video(env, still_states(Pendulum()), tmp_path / "pendulum.mp4")
    assert mp4_fps(path) == DEFAULT_FPS


@pytest.mark.parametrize("rate", [0, -1.0, float("nan"), "50"])
def test_bad_env_rate_is_an_error_naming_it(rate, tmp_path):
    env = ForgetRate(Pendulum(), rate)
    with pytest.raises(ValueError, match=r"Pendulum.* render_fps=.*pass `fps=\.\.\.`"):
        record_video(env, still_states(Pendulum()), tmp_path / "a.mp4")
    # a given rate does not read the env's
    path = record_video(env, still_states(Pendulum()), tmp_path / "a.mp4", fps=10)
    assert mp4_fps(path) == 10


def test_video_renderer_alone_keeps_its_default(tmp_path):
    renderer = CartPole().default_renderer(headless=True)
    assert VideoRenderer(renderer, tmp_path / "a.mp4").fps == DEFAULT_FPS
    env = lerax.env.make("CartPole-v1")
    video = VideoRenderer(renderer, tmp_path / "a.mp4", fps=env.render_fps)
    env.unwrapped.render_stacked(still_states(env.unwrapped), renderer=video)
    assert video.fps == 50.0 and mp4_fps(video.written_path) == 50


# A recording that fails writes nothing: the video already there is kept.


@pytest.fixture
def good_video(cartpole_states, tmp_path):
    env, states = cartpole_states
    path = record_video(env, states, tmp_path / "good.mp4", fps=25)
    return env, states, path, path.read_bytes()


def test_failed_rollout_keeps_the_existing_video(good_video, tmp_path):
    env, states, path, before = good_video
    # CartPole cannot draw a NaN position: the 6th frame fails
    bad = ClassicControlState(states.env_state.y.at[5, 0].set(jnp.nan))
    with pytest.raises(ValueError):
        record_video(env.unwrapped, bad, path, fps=25)
    assert path.read_bytes() == before
    assert count_mp4_frames(path)[0] == 12
    assert [p.name for p in tmp_path.iterdir()] == ["good.mp4"]


def test_interrupted_render_states_writes_nothing(good_video, tmp_path):
    env, states, path, before = good_video

    def five_then_interrupt():
        for t in range(5):
            yield jax.tree.map(lambda x: x[t], states)
        raise KeyboardInterrupt

    video = VideoRenderer(env.default_renderer(headless=True), path)
    with pytest.raises(KeyboardInterrupt):
        env.render_states(five_then_interrupt(), renderer=video)
    assert path.read_bytes() == before
    assert video.written_path is None and len(video.frames) == 5
    assert not video.renderer.is_open
    assert [p.name for p in tmp_path.iterdir()] == ["good.mp4"]


def test_abort_and_with_block_write_nothing(good_video, tmp_path):
    env, states, path, before = good_video
    one = jax.tree.map(lambda x: x[3], states)
    video = VideoRenderer(env.default_renderer(headless=True), path)
    video.open()
    env.render(one, video)
    video.draw()
    video.abort()
    assert path.read_bytes() == before and video.written_path is None
    with pytest.raises(RuntimeError, match="stop"):
        with video:
            env.render(one, video)
            video.draw()
            raise RuntimeError("stop")
    assert path.read_bytes() == before and video.written_path is None
    # kept in memory: written on request
    assert len(video.frames) == 1 and video.save(tmp_path / "kept.gif").exists()


def test_recording_inside_an_except_block_still_writes(cartpole_states, tmp_path):
    env, states = cartpole_states
    try:
        raise RuntimeError("handled before the recording")
    except RuntimeError:
        path = record_video(env, states, tmp_path / "inside.mp4")
    assert count_mp4_frames(path)[0] == 12


# File-system errors are reported against the requested path; only a missing
# or broken ffmpeg falls back to a GIF.


def test_folder_path_is_an_error_not_a_gif(tmp_path):
    (tmp_path / "clip.mp4").mkdir()
    frames = [np.zeros((4, 4, 3), np.uint8)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no GIF fallback warning
        with pytest.raises(IsADirectoryError, match=r"clip\.mp4.*folder"):
            write_video(frames, tmp_path / "clip.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]
    assert list((tmp_path / "clip.mp4").iterdir()) == []


def test_file_as_folder_is_an_error_naming_the_path(tmp_path):
    (tmp_path / "notes").write_text("a file")
    with pytest.raises(NotADirectoryError, match=r"notes/clip\.mp4.*not a folder"):
        write_video([np.zeros((4, 4, 3), np.uint8)], tmp_path / "notes" / "clip.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_unwritable_folder_is_an_error_naming_the_path(tmp_path, monkeypatch):
    import lerax.utils._serialization as serialization

    def unwritable(folder, prefix, suffix):
        name = f"{folder}/{prefix}0123{suffix}"
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(serialization, "_temporary_file", unwritable)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no GIF fallback warning
        with pytest.raises(PermissionError) as info:
            write_video([np.zeros((4, 4, 3), np.uint8)], tmp_path / "clip.mp4")
    message = str(info.value)
    assert "clip.mp4" in message and "Permission denied" in message
    assert ".gif" not in message and "0123" not in message
    assert list(tmp_path.iterdir()) == []


def test_broken_ffmpeg_still_falls_back_to_gif(tmp_path, monkeypatch):
    import imageio_ffmpeg._io

    not_ffmpeg = tmp_path / "ffmpeg"
    not_ffmpeg.write_text("not a program")
    monkeypatch.setattr(imageio_ffmpeg._io, "get_ffmpeg_exe", lambda: str(not_ffmpeg))
    with pytest.warns(RuntimeWarning, match="GIF"):
        path = write_video([np.zeros((4, 4, 3), np.uint8)] * 2, tmp_path / "a.mp4")
    assert path == tmp_path / "a.gif" and path.exists()
    assert not (tmp_path / "a.mp4").exists()


# Argument checks.


@pytest.mark.parametrize(
    "fps", [0, -5, float("nan"), float("inf"), -np.inf, True, "30", None, [30]]
)
def test_bad_fps_is_refused(fps, tmp_path):
    frames = [np.zeros((4, 4, 3), np.uint8)]
    for path in (tmp_path / "a.mp4", tmp_path / "a.gif"):
        with pytest.raises(ValueError, match=r"write_video\(fps=\.\.\.\).*finite"):
            write_video(frames, path, fps=fps)
    with pytest.raises(ValueError, match=r"VideoRenderer\(fps=\.\.\.\)"):
        VideoRenderer(CartPole().default_renderer(headless=True), "a.mp4", fps=fps)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "fps", [np.float32(30), np.int64(30), jnp.array(30), jnp.float32(30.0), 30.0]
)
def test_fps_of_any_numeric_type(fps, tmp_path):
    video = VideoRenderer(CartPole().default_renderer(headless=True), "a.gif", fps=fps)
    assert video.fps == 30.0 and type(video.fps) is float
    path = write_video([np.zeros((4, 4, 3), np.uint8)], tmp_path / "a.gif", fps=fps)
    assert path.exists()


def test_record_video_accepts_numpy_fps(cartpole_states, tmp_path):
    env, states = cartpole_states
    path = record_video(env, states, tmp_path / "a.mp4", fps=np.float32(25))
    assert count_mp4_frames(path)[0] == 12


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "100"])
def test_bad_sizes_name_the_argument(bad, cartpole_states, tmp_path):
    env, states = cartpole_states
    one = jax.tree.map(lambda x: x[0], states)
    with pytest.raises(ValueError, match=r"render_rgb\(width=\.\.\.\).*positive int"):
        render_rgb(env, one, width=bad)
    with pytest.raises(ValueError, match=r"record_video\(height=\.\.\.\)"):
        record_video(env, states, tmp_path / "a.mp4", height=bad)
    assert list(tmp_path.iterdir()) == []


def gif_delays(path):
    """The delay of each frame of the GIF at `path`, in milliseconds (0 for a
    frame that gives none)."""
    from PIL import Image

    delays = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            delays.append(image.info.get("duration") or 0)
    return delays


@pytest.mark.parametrize("fps", [25, 30, 50, 67, 125, 500])
def test_gif_plays_in_real_time_at_any_rate(fps, tmp_path):
    # env rates above 50 fps (Humanoid 67, Hopper and Walker2d 125) must not
    # give delays under 2 cs, which players stretch to 10 cs (or 0 cs, none)
    frames = [np.full((4, 6, 3), i, np.uint8) for i in range(120)]  # all differ
    path = write_video(frames, tmp_path / "fast.gif", fps=fps)
    delays = gif_delays(path)
    assert min(delays) >= 20 and all(d % 10 == 0 for d in delays)
    assert sum(delays) == pytest.approx(1000 * len(frames) / fps, abs=20)
    expected_frames = len(frames) if fps <= 50 else len(range(0, 120, -(-fps // 50)))
    assert len(delays) == expected_frames


# Frames must be uint8: other dtypes would wrap around or turn black.


@pytest.mark.parametrize(
    "frame",
    [
        np.full((4, 4, 3), 0.8),  # a 0-1 float image (was written black)
        np.full((4, 4, 3), 300),  # int64 (was wrapped to 44)
        np.full((4, 4, 3), -1, np.int16),  # (was wrapped to 255)
        jnp.full((4, 4, 3), 0.5, jnp.float32),
    ],
)
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_non_uint8_frames_are_refused(frame, suffix, tmp_path):
    good = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match=r"frames\[1\].*uint8.*\[0, 255\]") as info:
        write_video([good, frame], tmp_path / f"clip{suffix}")
    assert str(np.dtype(frame.dtype)) in str(info.value)
    assert "(frame * 255).round().astype(np.uint8)" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_uint8_jax_frames_are_written(tmp_path):
    frame = jnp.full((4, 4, 3), 200, jnp.uint8)
    path = write_video([frame, frame], tmp_path / "clip.gif")
    import imageio.v3 as iio

    assert iio.imread(path, index=0)[0, 0].tolist() == [200, 200, 200]


def test_video_renderer_refuses_a_renderer_with_float_frames(tmp_path):
    from lerax.render import AbstractRenderer

    class FloatFrames(AbstractRenderer):
        def open(self):
            pass

        def close(self):
            pass

        def clear(self, color=(255, 255, 255)):
            pass

        def draw(self):
            pass

        def frame(self):
            return np.full((4, 4, 3), 0.5)

    video = VideoRenderer(FloatFrames(), tmp_path / "a.gif")
    video.open()
    with pytest.raises(ValueError, match=r"FloatFrames\.frame\(\).*uint8.*float64"):
        video.draw()
    video.abort()
    assert list(tmp_path.iterdir()) == []


# `close()` writes wherever it is called; only a failing `with` body aborts.


def test_close_inside_an_except_handler_writes(cartpole_states, tmp_path):
    env, states = cartpole_states
    one = jax.tree.map(lambda x: x[0], states)
    path = tmp_path / "handled.gif"
    video = VideoRenderer(env.default_renderer(headless=True), path, fps=10)
    video.open()
    env.render(one, video)
    video.draw()
    try:
        int("not a number")  # raised and handled; the recording is complete
    except ValueError:
        video.close()
    assert video.written_path == path and path.exists()


def test_with_block_inside_an_except_handler_writes(cartpole_states, tmp_path):
    env, states = cartpole_states
    one = jax.tree.map(lambda x: x[0], states)
    path = tmp_path / "handled.gif"
    video = VideoRenderer(env.default_renderer(headless=True), path, fps=10)
    try:
        raise KeyError("handled")
    except KeyError:
        with video:
            env.render(one, video)
            video.draw()
    assert video.written_path == path and path.exists()


def test_output_path_is_the_earlier_name_of_path(tmp_path):
    inner = CartPole().default_renderer(headless=True)
    video = VideoRenderer(inner, output_path=tmp_path / "old")
    assert video.path == tmp_path / "old.mp4" and video.fps == DEFAULT_FPS
    with pytest.raises(TypeError, match=r"path=\.\.\..*output_path=\.\.\..*both"):
        VideoRenderer(inner, tmp_path / "a.gif", output_path=tmp_path / "b.gif")
    with pytest.raises(TypeError, match="neither"):
        VideoRenderer(inner)
    with video:
        video.clear()
        video.draw()
        assert video.as_array().shape == video.frames[0].shape
    assert video.written_path is not None and video.written_path.exists()
