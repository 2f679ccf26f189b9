"""Small PPO runs on CartPole shared by the callback tests."""

import jax.random as jr

import lerax.env
from lerax.algorithm import PPO
from lerax.callback import AbstractLoggingBackend
from lerax.policy import MLPActorCriticPolicy

CARTPOLE = lerax.env.make("CartPole-v1")
ALGO = PPO(num_envs=4, num_steps=32, num_batches=2, num_epochs=1)
STEPS = ALGO.steps_per_iteration  # 128


def policy(seed: int = 0) -> MLPActorCriticPolicy:
    return MLPActorCriticPolicy(
        CARTPOLE, value_width=16, action_width=16, key=jr.key(seed)
    )


def train(callback, iterations: int, seed: int = 1):
    """Runs `iterations` iterations; returns the final training state and metrics."""
    state = ALGO.init(CARTPOLE, policy(), key=jr.key(seed), callback=callback)
    return ALGO.train(state, iterations, callback=callback)


class Recorder(AbstractLoggingBackend):
    """Keeps every call."""

    def __init__(self):
        self.names, self.hparams, self.scalars = [], [], []
        self.flushes = self.closes = 0
        self.name = None

    @property
    def is_open(self):
        return self.name is not None

    def open(self, name):
        self.name = name
        self.names.append(name)

    def log_hparams(self, hparams):
        self.hparams.append(hparams)

    def log_scalars(self, scalars, step):
        self.scalars.append((step, scalars))

    def log_video(self, tag, frames, step, fps):
        pass

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closes += 1
        self.name = None
