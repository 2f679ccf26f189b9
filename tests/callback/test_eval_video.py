"""EvalCallback's video option: one MP4 per evaluation of a real episode."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.callback import EvalCallback
from lerax.callback._evaluation import EvalHost
from lerax.render import DEFAULT_FPS
from lerax.wrapper import NormalizeObservation

from ..algorithm.envs import Counter
from ..render.helpers import mp4_fps, mp4_frame_count
from .helpers import ALGO, CARTPOLE, STEPS, policy

imageio = pytest.importorskip("imageio")
pytest.importorskip("pygame")


def test_eval_callback_records_one_video_per_evaluation(tmp_path):
    evaluator = EvalCallback(
        CARTPOLE,
        eval_freq=2 * STEPS,
        num_episodes=2,
        max_steps=60,
        video_dir=tmp_path,
        video_fps=25,
    )
    state = ALGO.init(CARTPOLE, policy(), key=jr.key(0), callback=evaluator)
    state, _ = ALGO.train(state, 4, callback=evaluator)
    jax.effects_barrier()
    videos = sorted(tmp_path.glob("eval_*.mp4"))
    assert [v.name for v in videos] == [
        f"eval_{2 * STEPS:012d}.mp4",
        f"eval_{4 * STEPS:012d}.mp4",
    ]
    reader = imageio.get_reader(videos[-1], format="FFMPEG")
    try:
        frames = reader.count_frames()
        first = reader.get_data(0)
    finally:
        reader.close()
    assert mp4_fps(videos[-1]) == 25  # as given
    # one episode: at most max_steps frames, ending where the episode ended
    assert 1 < frames <= 60
    assert first.ndim == 3 and first.shape[-1] == 3 and first.std() > 0


@pytest.mark.parametrize("fps", [0, -5, float("nan"), float("inf"), True, "30", [25]])
def test_bad_video_fps_is_refused_at_construction(fps, tmp_path):
    with pytest.raises(ValueError, match=r"EvalCallback\(video_fps=\.\.\.\).*finite"):
        EvalCallback(CARTPOLE, eval_freq=STEPS, video_dir=tmp_path, video_fps=fps)


def test_videos_play_at_the_envs_rate_by_default(tmp_path):
    evaluator = EvalCallback(CARTPOLE, eval_freq=STEPS, video_dir=tmp_path)
    assert CARTPOLE.render_fps == 50  # Gymnasium's CartPole-v1
    assert evaluator.video_fps == 50.0 and type(evaluator.video_fps) is float
    assert evaluator.host.video_fps == 50.0
    evaluator.host.video(CARTPOLE, 100, *three_states())
    video = tmp_path / f"eval_{100:012d}.mp4"
    assert mp4_fps(video) == 50 and mp4_frame_count(video) == 3


def test_default_video_fps_follows_the_env():
    pendulum = lerax.env.make("Pendulum-v1")
    assert EvalCallback(pendulum, eval_freq=STEPS).video_fps == 30.0
    acrobot = NormalizeObservation(lerax.env.make("Acrobot-v1"))
    assert EvalCallback(acrobot, eval_freq=STEPS).video_fps == 15.0
    # an env without a rate: `lerax.render.DEFAULT_FPS`
    assert EvalCallback(Counter(), eval_freq=STEPS).video_fps == DEFAULT_FPS


def test_an_env_rate_that_is_no_number_matters_only_for_videos(tmp_path):
    # a rate that is not a number (0 here) refused the callback even without
    # videos; with videos it is still named
    class Frozen(Counter):
        render_fps = 0

    assert EvalCallback(Frozen(), eval_freq=STEPS).video_fps == DEFAULT_FPS
    with pytest.raises(ValueError, match="render_fps=0"):
        EvalCallback(Frozen(), eval_freq=STEPS, video_dir=tmp_path)


@pytest.mark.parametrize("fps", [np.float32(24), np.int32(24), jnp.array(24), 24])
def test_video_fps_of_any_numeric_type(fps, tmp_path):
    evaluator = EvalCallback(
        CARTPOLE, eval_freq=STEPS, video_dir=tmp_path, video_fps=fps
    )
    assert evaluator.video_fps == 24.0 and type(evaluator.video_fps) is float
    assert evaluator.host.video_fps == 24.0


def three_states():
    state, _, _ = CARTPOLE.reset(key=jr.key(0))
    return jax.tree.map(lambda x: jnp.stack([x] * 3), state), np.array([0, 0, 1], bool)


def test_video_error_is_reported_as_itself(tmp_path):
    (tmp_path / "notes").write_text("a file, not a folder")
    host = EvalHost(None, None, str(tmp_path / "notes"), 30.0)
    with pytest.warns(UserWarning, match="could not record") as caught:
        host.video(CARTPOLE, 100, *three_states())
    message = str(caught[0].message)
    assert "NotADirectoryError" in message and "notes" in message
    assert "pip install" not in message and "extra" not in message
    host.video(CARTPOLE, 200, *three_states())  # videos are off: no new warning


def test_missing_extra_gets_the_install_hint(tmp_path, monkeypatch):
    import lerax.render

    def missing(*args, **kwargs):
        raise ImportError('`pygame` is missing: pip install "lerax[render]"')

    monkeypatch.setattr(lerax.render, "record_video", missing)
    host = EvalHost(None, None, str(tmp_path), 30.0)
    with pytest.warns(UserWarning, match=r"pip install \"lerax\[render\]\"`\)"):
        host.video(CARTPOLE, 100, *three_states())
