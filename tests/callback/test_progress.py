import io
import re

import jax
import jax.random as jr
import numpy as np
import pytest
from rich.console import Console

from lerax.callback import (
    CallbackList,
    ConsoleBackend,
    LoggingCallback,
    ProgressBarCallback,
)

from .helpers import ALGO, CARTPOLE, STEPS, Recorder, policy, train


def plain_bar(**kwargs):
    buffer = io.StringIO()
    return ProgressBarCallback(
        console=Console(file=buffer, width=200), **kwargs
    ), buffer


def test_plain_output_reaches_100_percent_once_per_run():
    bar, buffer = plain_bar(interval=1)
    for _ in range(2):  # the same bar object serves two runs
        buffer.seek(0)
        buffer.truncate()
        train(bar, 20)
        lines = buffer.getvalue().strip().splitlines()
        assert 2 <= len(lines) <= 11
        final = [line for line in lines if "100%" in line]
        assert final == [lines[-1]]
        assert f"{20 * STEPS:,}/{20 * STEPS:,} steps" in lines[-1]
        assert "steps/s" in lines[-1] and "elapsed" in lines[-1]
        assert "return -" not in lines[-1]  # a mean return is shown
        assert "PPO on CartPole" in lines[-1]


def test_vmap_over_seeds_one_bar_and_pooled_logs():
    bar, buffer = plain_bar(interval=2)
    recorder = Recorder()
    logger = LoggingCallback(recorder, log_interval=2, name="vmapped")
    callback = CallbackList([bar, logger])
    iterations = 6

    def run(key):
        state = ALGO.init(CARTPOLE, policy(), key=key, callback=callback)
        return ALGO.train(state, iterations, callback=callback)[1]

    metrics = jax.jit(jax.vmap(run))(jr.split(jr.key(0), 2))
    n = iterations * STEPS
    lines = buffer.getvalue().strip().splitlines()
    assert sum("100%" in line for line in lines) == 1
    assert len(lines) <= 11
    assert f"{n:,}/{n:,}" in lines[-1]
    # one log per interval (not one per seed), pooled over both seeds
    assert [step for step, _ in recorder.scalars] == [2 * STEPS, 4 * STEPS, 6 * STEPS]
    assert len(recorder.hparams) == 1
    count = np.asarray(metrics["episodes"])
    returns = np.nan_to_num(np.asarray(metrics["episode_return"]))
    for step, scalars in recorder.scalars:
        stop = step // STEPS
        window = slice(stop - 2, stop)
        expected = np.sum(returns[:, window] * count[:, window]) / np.sum(
            count[:, window]
        )
        np.testing.assert_allclose(scalars["episode/return"], expected, rtol=1e-5)
        np.testing.assert_allclose(
            scalars["train/value_loss"],
            np.mean(metrics["value_loss"][:, stop - 1]),
            rtol=1e-5,
        )
    logger.close()


def pack(step, return_sum, episodes):
    return np.array([step // 65536, step % 65536, return_sum, episodes], np.float32)


def test_terminal_bar_host_finishes_once_and_ignores_stale_updates():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160)
    host = ProgressBarCallback(console=console).host
    host.start("demo", 0, 1000)
    host.update(pack(500, 10.0, 1.0))
    host.update(pack(200, 99.0, 1.0))  # stale: ignored
    host.finish(pack(1000, 30.0, 1.0))
    host.finish(pack(1000, 30.0, 1.0))  # the other seed's end: ignored
    host.update(pack(1000, 99.0, 1.0))  # after the end: ignored
    text = buffer.getvalue()
    assert "demo" in text and "100%" in text and "30.00" in text
    assert "99.00" not in text


def test_console_backend_live_table():
    buffer = io.StringIO()
    backend = ConsoleBackend(Console(file=buffer, force_terminal=True, width=120))
    backend.open("live")
    for step in range(1, 4):
        backend.log_scalars({"episode/return": 10.0 * step, "train/loss": 0.5}, step)
    backend.close()
    text = buffer.getvalue()
    assert "train/loss" in text and "episode/return" in text and "█" in text


def test_bad_arguments():
    with pytest.raises(ValueError, match="interval"):
        ProgressBarCallback(interval=0)


@pytest.mark.parametrize("terminal", [False, True])
def test_a_zero_mean_return_is_never_printed_negative(terminal):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=200)
    host = ProgressBarCallback(console=console).host
    host.start("demo", 0, 1000)
    host.finish(pack(1000, -0.0, 2.0))  # the mean of -0.0 returns
    host.start("demo", 0, 1000)
    host.finish(pack(1000, -0.004, 2.0))  # rounds to zero
    text = buffer.getvalue()
    assert "return 0.00" in text
    assert re.search(r"return -\d", text) is None


def test_console_chart_never_shows_a_negative_zero():
    buffer = io.StringIO()
    backend = ConsoleBackend(Console(file=buffer, force_terminal=True, width=120))
    backend.open("live")
    backend.log_scalars({"episode/return": 1.0}, 1)
    backend.log_scalars({"episode/return": -0.001}, 2)
    backend.close()
    charts = [line for line in buffer.getvalue().splitlines() if "█" in line]
    assert charts[-1].endswith("  0.00")


def test_progress_bar_label_is_not_rich_markup():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200)
    host = ProgressBarCallback(console=console).host
    host.start("[/] run [red]x", 0, 10)
    host.finish(pack(10, 1.0, 1.0))
    assert "[/] run [red]x" in buffer.getvalue()


def test_the_last_line_is_printed_once_when_a_run_ends_early():
    # a run stopped early (`stop_at_return`), or a `train` call ending before
    # the bar's total, printed the line of its last step twice
    buffer = io.StringIO()
    host = ProgressBarCallback(console=Console(file=buffer, width=200)).host
    host.start("demo", 0, 1000)
    host.update(pack(500, 10.0, 1.0))  # half way: a tenth crossed, a line
    host.finish(pack(500, 0.0, 0.0))  # stopped there
    assert buffer.getvalue().count("500/1,000 steps") == 1
    # a final step not printed yet still gets its line
    buffer.seek(0)
    buffer.truncate()
    host.start("demo", 0, 1000)
    host.update(pack(500, 10.0, 1.0))
    host.finish(pack(550, 20.0, 1.0))
    text = buffer.getvalue()
    assert text.count("500/1,000 steps") == 1 and text.count("550/1,000 steps") == 1
    assert text.strip().splitlines()[-1].endswith("return 20.00")


def test_chunks_of_one_bar_print_each_step_once():
    bar, buffer = plain_bar(total_timesteps=10 * STEPS, interval=1)
    state = ALGO.init(CARTPOLE, policy(), key=jr.key(0), callback=bar)
    for _ in range(2):
        state, _ = ALGO.train(state, 5, callback=bar)
    lines = buffer.getvalue().strip().splitlines()
    steps = [int(re.search(r"([\d,]+)/", line)[1].replace(",", "")) for line in lines]
    assert steps == sorted(set(steps))  # no step twice
    assert steps[-1] == 10 * STEPS and 5 * STEPS in steps
