import io

import equinox as eqx
import jax
import jax.random as jr
import pytest
from rich.console import Console

from lerax.callback import ProgressBarCallback

from .helpers import ALGO, CARTPOLE, STEPS, policy, train


def plain_bar(**kwargs):
    buffer = io.StringIO()
    return ProgressBarCallback(
        console=Console(file=buffer, width=200), **kwargs
    ), buffer


def test_plain_output_reaches_100_percent_once():
    bar, buffer = plain_bar(interval=1)
    train(bar, 20)
    lines = buffer.getvalue().strip().splitlines()
    assert 2 <= len(lines) <= 11
    final = [line for line in lines if "100%" in line]
    assert final == [lines[-1]]
    assert f"{20 * STEPS:,}/{20 * STEPS:,} steps" in lines[-1]
    assert "steps/s" in lines[-1] and "elapsed" in lines[-1]
    assert "return -" not in lines[-1]  # a mean return is shown
    assert "PPO on CartPole" in lines[-1]


def test_two_runs_with_one_bar_object():
    bar, buffer = plain_bar(interval=4)
    train(bar, 4)
    train(bar, 4)
    assert buffer.getvalue().count("100%") == 2


def test_vmap_over_seeds_draws_one_bar():
    bar, buffer = plain_bar(interval=2)
    n = 10 * STEPS

    def run(key):
        return eqx.filter(
            ALGO.learn(CARTPOLE, policy(), n, key=key, callback=bar), eqx.is_array
        )

    jax.jit(jax.vmap(run))(jr.split(jr.key(0), 2))
    lines = buffer.getvalue().strip().splitlines()
    assert sum("100%" in line for line in lines) == 1
    assert len(lines) <= 11
    assert f"{n:,}/{n:,}" in lines[-1]


def test_terminal_bar_finishes():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160)
    train(ProgressBarCallback(console=console, description="demo"), 5)
    assert "demo" in buffer.getvalue() and "100%" in buffer.getvalue()


def test_bad_arguments():
    with pytest.raises(ValueError, match="interval"):
        ProgressBarCallback(interval=0)
