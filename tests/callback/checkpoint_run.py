"""Run by test_checkpoint.py in a separate process: trains with checkpoints,
slowed down by a host callback so the test can kill it part-way."""

import sys
import time

import jax
import jax.random as jr

from lerax.callback import AbstractCallback, CheckpointCallback
from tests.callback.test_checkpoint import ALGO, TOTAL, setup


class Slow(AbstractCallback):
    def on_iteration(self, ctx, *, key):
        jax.debug.callback(lambda: time.sleep(0.25))
        return ctx.callback_state


if __name__ == "__main__":
    directory = sys.argv[1]
    env, policy = setup()
    callback = [
        CheckpointCallback(directory, save_freq=ALGO.steps_per_iteration, keep=2)
    ]
    ALGO.learn(env, policy, TOTAL, key=jr.key(7), callback=callback + [Slow()])
    print("finished", flush=True)
