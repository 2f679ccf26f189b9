"""EvalCallback's video option: one MP4 per evaluation of a real episode."""

import jax
import jax.random as jr
import pytest

from lerax.callback import EvalCallback

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
    # one episode: at most max_steps frames, ending where the episode ended
    assert 1 < frames <= 60
    assert first.ndim == 3 and first.shape[-1] == 3 and first.std() > 0
