"""Curriculum: PPO on Pendulum with a pendulum that grows heavier and longer.

The first half of training ramps Pendulum's mass from 0.3 to 1.0 (a light
pendulum is easy to swing up) and switches its length from 0.7 to 1.0 half
way; the second half trains on the standard Pendulum-v1, on which the
policy is then evaluated. Training runs in chunks (one compiled call each,
compiled once) so the current constants and return can be printed.

    python examples/curriculum_pendulum.py [total_timesteps]
"""

import sys

import jax.random as jr
import numpy as np

import lerax.env
from lerax.algorithm import PPO, evaluate_policy
from lerax.curriculum import ScheduledCurriculum, linear_schedule, step_schedule
from lerax.policy import MLPActorCriticPolicy


def main(total_timesteps: int = 300_000, chunks: int = 10) -> float:
    env = lerax.env.make("Pendulum-v1")  # TimeLimit(Pendulum(), 200)
    algo = PPO(
        num_envs=8,
        num_steps=256,
        num_epochs=10,
        num_batches=8,
        gamma=0.9,
        learning_rate=1e-3,
    )
    iterations = algo.num_iterations(total_timesteps)
    ramp = max(iterations // 2, 1)  # schedules count iterations
    curriculum = [
        ScheduledCurriculum(
            lambda env: env.env.mass, linear_schedule(0.3, 1.0, total=ramp)
        ),
        ScheduledCurriculum(
            lambda env: env.env.length,
            step_schedule([0.7, 1.0], boundaries=[max(ramp // 2, 1)]),
        ),
    ]
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(1), callback=curriculum)

    chunk = max(iterations // chunks, 1)
    done = 0
    while done < iterations:
        n = min(chunk, iterations - done)
        state, metrics = algo.train(state, n, callback=curriculum)
        done += n
        ret = np.nanmean(np.asarray(metrics["episode_return"]))
        print(
            f"{done * algo.steps_per_iteration:>8,} steps  "
            f"mass {float(state.env.env.mass):.2f}  "
            f"length {float(state.env.env.length):.2f}  return {ret:8.1f}"
        )

    returns, _ = evaluate_policy(env, state.policy, key=jr.key(2), num_episodes=16)
    mean = float(np.mean(returns))
    print(f"Standard Pendulum-v1, 16 greedy episodes: return {mean:.1f}")
    return mean


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
