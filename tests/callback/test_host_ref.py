"""A new callback with the same settings runs the training program compiled
for an earlier one, and reports to its own host side (bar, backends)."""

import io

import jax.random as jr
import numpy as np
from rich.console import Console

from lerax.callback import (
    CallbackList,
    EvalCallback,
    LoggingCallback,
    ProgressBarCallback,
    _logging,
)
from lerax.callback._host import HostRef

from .helpers import ALGO, CARTPOLE, STEPS, Recorder, policy


def test_new_equal_callbacks_reuse_the_program_and_report_to_their_own_hosts(
    monkeypatch,
):
    traces = []
    prefix = _logging.run_prefix

    def counting(*args):  # called while `on_training_start` is traced
        traces.append(None)
        return prefix(*args)

    monkeypatch.setattr(_logging, "run_prefix", counting)

    def run():
        screen = io.StringIO()
        logs, evals = Recorder(), Recorder()
        callback = CallbackList(
            [
                ProgressBarCallback(console=Console(file=screen, width=200)),
                LoggingCallback(logs, log_interval=1),
                EvalCallback(CARTPOLE, eval_freq=STEPS, num_episodes=2, backend=evals),
            ]
        )
        ALGO.learn(CARTPOLE, policy(), 3 * STEPS, key=jr.key(1), callback=callback)
        return screen, logs, evals

    first = run()
    assert len(traces) == 2  # the logging and the evaluation callbacks
    second = run()
    assert len(traces) == 2, "a new, equal callback recompiled the training"

    for screen, logs, evals in (first, second):
        assert "384/384" in screen.getvalue(), screen.getvalue()
        assert [step for step, _ in logs.scalars] == [STEPS, 2 * STEPS, 3 * STEPS]
        assert [step for step, _ in evals.scalars] == [STEPS, 2 * STEPS, 3 * STEPS]
        assert logs.names[0].startswith("PPO_CartPole_"), logs.names
        assert evals.names[0].startswith("PPO_CartPole_"), evals.names
    # the same program, so the same numbers, each run on its own backends
    for a, b in zip(first[1].scalars, second[1].scalars):
        assert a[1]["episode/return"] == b[1]["episode/return"]
        assert a[1]["train/policy_loss"] == b[1]["train/policy_loss"]

    # other settings: another program
    ALGO.learn(
        CARTPOLE,
        policy(),
        3 * STEPS,
        key=jr.key(1),
        callback=LoggingCallback(Recorder(), log_interval=2),
    )
    assert len(traces) == 3


class Host:
    pass


def test_a_host_ref_keeps_its_host_and_no_other():
    hosts = [Host(), Host()]
    refs = [HostRef(host) for host in hosts]
    assert [ref.host for ref in refs] == hosts
    assert refs[0].number.dtype == np.int32 and refs[0].number != refs[1].number
    # equal as static parts of a program: only the numbers tell them apart
    assert refs[0].keep == refs[1].keep and hash(refs[0].keep) == hash(refs[1].keep)
