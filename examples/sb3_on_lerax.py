"""Stable-Baselines3's PPO on a lerax env, through `LeraxToGymEnv`.

`LeraxToGymEnv` makes any lerax env a `gymnasium.Env` (jitted reset and
step, Gymnasium's episode semantics), so SB3 trains on it unchanged. The
hyper-parameters are the RL Zoo's for CartPole-v1.

    python examples/sb3_on_lerax.py                  # 100k steps, ~1-2 min CPU
    python examples/sb3_on_lerax.py --timesteps 2000 # a quick smoke run

Needs `pip install "lerax[gym]" stable-baselines3`.
"""

import argparse

import lerax.env
from lerax.compatibility import LeraxToGymEnv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    torch.set_num_threads(1)  # a tiny MLP: threads only add overhead

    def make():
        return LeraxToGymEnv(lerax.env.make("CartPole-v1"))

    venv = make_vec_env(make, n_envs=8, seed=args.seed)

    def linear(start: float):
        return lambda progress_remaining: progress_remaining * start

    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=32,
        batch_size=256,
        n_epochs=20,
        gamma=0.98,
        gae_lambda=0.8,
        ent_coef=0.0,
        learning_rate=linear(1e-3),
        clip_range=linear(0.2),
        seed=args.seed,
        device="cpu",
    )
    model.learn(total_timesteps=args.timesteps)
    mean, std = evaluate_policy(
        model, Monitor(make()), n_eval_episodes=10, deterministic=True
    )
    print(f"SB3 PPO on lerax CartPole-v1: mean return {mean:.1f} +- {std:.1f}")


if __name__ == "__main__":
    main()
