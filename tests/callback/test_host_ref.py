"""A new callback with the same settings runs the training program compiled
for an earlier one, and reports to its own host side (bar, backends)."""

import gc
import io

import equinox as eqx
import jax
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
    # runs that start within the same second still get names of their own
    assert first[1].names != second[1].names
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


def test_host_refs_differ_only_in_their_numbers():
    hosts = [Host(), Host()]
    refs = [HostRef(host) for host in hosts]
    assert [ref.host for ref in refs] == hosts
    assert refs[0].number.dtype == np.int32 and refs[0].number != refs[1].number
    # the same static part: programs built for one serve the other
    assert jax.tree.structure(refs[0]) == jax.tree.structure(refs[1])


def test_a_callback_built_inside_a_jitted_function_reports_when_it_is_gone():
    # the callback lives only while `run` is traced; the compiled program
    # (run again from JAX's cache) still reaches its host side. An equal
    # callback trained first leaves JAX's caches holding its parts, not these
    ALGO.learn(
        CARTPOLE,
        policy(),
        STEPS,
        key=jr.key(0),
        callback=LoggingCallback(Recorder(), log_interval=1),
    )
    logs = Recorder()

    @jax.jit
    def run(key):
        callback = LoggingCallback(logs, log_interval=1)
        trained = ALGO.learn(CARTPOLE, policy(), STEPS, key=key, callback=callback)
        return eqx.filter(trained, eqx.is_array)

    jax.block_until_ready(run(jr.key(0)))
    gc.collect()
    jax.block_until_ready(run(jr.key(1)))
    assert [step for step, _ in logs.scalars] == [STEPS, STEPS]
