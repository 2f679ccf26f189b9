"""Callback arguments read as `learn` reads its own: NumPy integer scalars
for intervals and counts, NumPy reals for thresholds, whole floats for a
step budget; bools, fractions, NaN and non-positive values still refused."""

import io

import numpy as np
import pytest
from rich.console import Console

from lerax.callback import (
    CheckpointCallback,
    EvalCallback,
    LoggingCallback,
    ProgressBarCallback,
    list_checkpoints,
)

from .helpers import CARTPOLE, STEPS, Recorder, train


def test_numpy_intervals_and_counts_are_used_as_ints(tmp_path):
    recorder = Recorder()
    logger = LoggingCallback(recorder, log_interval=np.int64(2), name="numpy")
    evaluation = EvalCallback(
        CARTPOLE,
        eval_freq=np.int64(2 * STEPS),
        num_episodes=np.int32(2),
        max_steps=np.int64(50),
        stop_at_return=np.float32(400.0),
    )
    checkpoints = CheckpointCallback(
        str(tmp_path), save_freq=np.int64(STEPS), keep=np.int16(2)
    )
    for value in (
        logger.log_interval,
        evaluation.eval_freq,
        evaluation.num_episodes,
        evaluation.max_steps,
        checkpoints.save_freq,
        checkpoints.keep,
    ):
        assert type(value) is int
    assert type(evaluation.stop_at_return) is float
    assert evaluation.stop_at_return == 400.0
    state, _ = train([logger, evaluation, checkpoints], 4)
    assert [step for step, _ in recorder.scalars] == [2 * STEPS, 4 * STEPS]
    assert int(state.callback_state[1].num_evals) == 2
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        f"checkpoint_{3 * STEPS:012d}.ckpt",
        f"checkpoint_{4 * STEPS:012d}.ckpt",
    ]
    logger.close()


@pytest.mark.parametrize("total", [4.0 * STEPS, np.int64(4 * STEPS), np.float64(512)])
def test_a_progress_bar_total_may_be_a_whole_float_or_numpy_int(total):
    buffer = io.StringIO()
    bar = ProgressBarCallback(
        total, interval=1, console=Console(file=buffer, width=200)
    )
    assert type(bar.total_timesteps) is int and bar.total_timesteps == 4 * STEPS
    train(bar, 2)
    assert f"{2 * STEPS:,}/{4 * STEPS:,} steps" in buffer.getvalue()


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda v: LoggingCallback(Recorder(), log_interval=v), "log_interval"),
        (lambda v: EvalCallback(CARTPOLE, eval_freq=v), "eval_freq"),
        (lambda v: EvalCallback(CARTPOLE, eval_freq=1, num_episodes=v), "num_episodes"),
        (lambda v: CheckpointCallback("unused", save_freq=v), "save_freq"),
        (lambda v: CheckpointCallback("unused", save_freq=1, keep=v), "keep"),
        (lambda v: ProgressBarCallback(interval=v), "interval"),
    ],
)
@pytest.mark.parametrize(
    "value", [True, np.bool_(True), 2.0, 1.5, np.float32(2), 0, np.int64(0), -3]
)
def test_intervals_refuse_what_is_not_a_positive_int(build, name, value):
    with pytest.raises(
        ValueError, match=rf"`\w+\({name}=\.\.\.\)` must be an int >= 1"
    ):
        build(value)


@pytest.mark.parametrize(
    "value", [True, np.bool_(True), 1.5, float("nan"), float("inf"), 0, 0.0, -5, "1e5"]
)
def test_a_progress_bar_total_refuses_what_is_not_a_step_count(value):
    with pytest.raises(
        ValueError, match=r"`ProgressBarCallback\(total_timesteps=\.\.\.\)` must be"
    ):
        ProgressBarCallback(value)


@pytest.mark.parametrize(
    "value", [True, np.bool_(True), float("nan"), np.float32("nan"), np.inf, "400"]
)
def test_a_return_threshold_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(ValueError, match="stop_at_return=...\\)` must be a finite"):
        EvalCallback(CARTPOLE, eval_freq=1, stop_at_return=value)
