"""lerax and gymnax, both ways.

1. Train lerax's PPO on gymnax's CartPole-v1 through `GymnaxToLeraxEnv`
   (gymnax's time limit stays a truncation, so PPO bootstraps there).
2. Run a lerax env as a gymnax env (`LeraxToGymnaxEnv`) with gymnax's own
   auto-resetting `step`, vmapped over 16 copies.

    python examples/gymnax_interop.py                   # 100k steps
    python examples/gymnax_interop.py --timesteps 4096  # a quick smoke run

Needs `pip install "lerax[gym]"`.
"""

import argparse

import gymnax
import jax
import jax.numpy as jnp
import jax.random as jr
import optax

import lerax.env
from lerax.algorithm import PPO, evaluate_policy
from lerax.compatibility import GymnaxToLeraxEnv, LeraxToGymnaxEnv
from lerax.policy import MLPActorCriticPolicy


def train_on_gymnax(timesteps: int, seed: int) -> None:
    gymnax_env, params = gymnax.make("CartPole-v1")
    env = GymnaxToLeraxEnv(gymnax_env, params)
    iterations = max(1, timesteps // 256)
    algo = PPO(
        num_envs=8,
        num_steps=32,
        num_epochs=20,
        num_batches=1,
        gamma=0.98,
        gae_lambda=0.8,
        learning_rate=optax.linear_schedule(1e-3, 0.0, 20 * iterations),
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(seed))
    policy = algo.learn(env, policy, iterations * 256, key=jr.key(seed))
    returns, _ = evaluate_policy(env, policy, key=jr.key(1), num_episodes=32)
    print(f"lerax PPO on {env.name}: mean return {float(jnp.mean(returns)):.1f}")


def run_as_gymnax(steps: int) -> None:
    env = LeraxToGymnaxEnv(lerax.env.make("Pendulum-v1"))
    params = env.default_params

    def rollout(key):
        obs, state = env.reset(key, params)

        def body(state, key):
            action_key, step_key = jr.split(key)
            action = env.action_space(params).sample(action_key)
            obs, state, reward, terminated, truncated, info = env.step(
                step_key, state, action, params
            )
            return state, (reward, truncated)

        return jax.lax.scan(body, state, jr.split(key, steps))[1]

    rewards, truncated = jax.jit(jax.vmap(rollout))(jr.split(jr.key(0), 16))
    print(
        f"{env.name}: 16 x {steps} random steps, mean reward "
        f"{float(rewards.mean()):.2f}, {int(truncated.sum())} truncations"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train_on_gymnax(args.timesteps, args.seed)
    run_as_gymnax(min(1000, max(10, args.timesteps // 16)))


if __name__ == "__main__":
    main()
