"""Train PPO on CartPole-v1 from Python, with a progress bar, TensorBoard logs,
checkpoints and early stopping; then evaluate and save.

    python examples/train_cartpole.py [TOTAL_TIMESTEPS]

(`make demo` does the same from the command line: `lerax train`.)
"""

import sys
from pathlib import Path

import jax.numpy as jnp
import jax.random as jr

import lerax.env
from lerax.algorithm import PPO, evaluate_policy
from lerax.callback import (
    AbstractCallback,
    CheckpointCallback,
    LoggingCallback,
    ProgressBarCallback,
    TensorBoardBackend,
)
from lerax.policy import MLPActorCriticPolicy

OUT = Path("out/train_cartpole")


class StopWhenSolved(AbstractCallback):
    """Stops training once an iteration's finished episodes average >= 500."""

    def continue_training(self, ctx, *, key):
        return ~(ctx.metrics["episode_return"] >= 500.0)


def main(total_timesteps: int) -> None:
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    algo = PPO(
        num_envs=8,
        num_steps=32,
        num_epochs=20,
        num_batches=1,
        gamma=0.98,
        gae_lambda=0.8,
    )
    callbacks = [
        ProgressBarCallback(total_timesteps),
        LoggingCallback(TensorBoardBackend(log_dir=OUT / "tensorboard")),
        CheckpointCallback(str(OUT / "checkpoints"), save_freq=total_timesteps // 4),
        StopWhenSolved(),
    ]
    policy = algo.learn(env, policy, total_timesteps, key=jr.key(1), callback=callbacks)
    # `resume_from=OUT / "checkpoints"` would continue from the newest checkpoint

    returns, _ = evaluate_policy(env, policy, key=jr.key(2), num_episodes=32)
    print(f"Evaluated return: {float(jnp.mean(returns)):.1f} (32 greedy episodes)")
    print(f"Policy saved to {policy.serialize(OUT / 'ppo_cartpole')}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
