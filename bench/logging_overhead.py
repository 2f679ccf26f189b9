"""Logging overhead: PPO on CartPole-v1, 100k steps, with no callback, with a
`LoggingCallback` (TensorBoard + plain console) logging every iteration or
every 10, and with a `ProgressBarCallback`. Run times exclude compilation
and of process CPU time (less sensitive to other load on the machine)
(each variant is compiled first, then the variants are timed in turn,
`REPEATS` rounds, best time kept, so background load hits all alike).

    PYTHONPATH=src python bench/logging_overhead.py [--demo]
"""

import io
import sys
import tempfile
import time

import jax
import jax.random as jr
from rich.console import Console

import lerax.env
from lerax.algorithm import PPO
from lerax.callback import (
    ConsoleBackend,
    LoggingCallback,
    ProgressBarCallback,
    TensorBoardBackend,
)
from lerax.policy import MLPActorCriticPolicy

STEPS, REPEATS = 100_000, 7
env = lerax.env.make("CartPole-v1")
policy = MLPActorCriticPolicy(env, key=jr.key(0))
# `--demo`: the `lerax train` default (8 envs x 32 steps, 20 full-batch epochs:
# ~20 ms per iteration) instead of the light 4 x 128, 4 x 4 minibatches
# (~3.5 ms per iteration).
if "--demo" in sys.argv:
    algo = PPO(num_envs=8, num_steps=32, num_batches=1, num_epochs=20)
else:
    algo = PPO(num_envs=4, num_steps=128, num_batches=4, num_epochs=4)


def runner(callback):
    def run(seed):
        out = algo.learn(env, policy, STEPS, key=jr.key(seed), callback=callback)
        jax.block_until_ready(jax.tree.leaves(out))

    run(0)  # compile
    return run


with tempfile.TemporaryDirectory() as tmp:
    quiet = Console(file=io.StringIO())
    variants = {
        "no callback": None,
        "log every iteration": LoggingCallback(
            [TensorBoardBackend(tmp), ConsoleBackend(quiet)], log_interval=1
        ),
        "log every 10 iterations": LoggingCallback(
            [TensorBoardBackend(tmp + "/b"), ConsoleBackend(quiet)], log_interval=10
        ),
        "progress bar (auto interval)": ProgressBarCallback(console=quiet),
    }
    print(f"iterations: {algo.num_iterations(STEPS)}")
    runs = {name: runner(callback) for name, callback in variants.items()}
    wall = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for seed in range(1, REPEATS + 1):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(seed)
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    for name in runs:
        print(
            f"{name:30s} wall {wall[name]:6.3f} s ({wall[name] / wall['no callback'] - 1:+6.1%})"
            f"  cpu {cpu[name]:6.3f} s ({cpu[name] / cpu['no callback'] - 1:+6.1%})"
        )
    for callback in variants.values():
        if isinstance(callback, LoggingCallback):
            callback.close()
