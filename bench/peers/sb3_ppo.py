"""Stable-Baselines3 PPO on Gymnasium CartPole-v1, for `bench/train_ppo.py`
(run in the peers venv). Prints one JSON line."""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
# SB3 makes an empty log folder in the system temp folder for every model it
# builds, logging on or off: these go in one folder, removed at exit
_SB3_LOGS = tempfile.TemporaryDirectory(prefix="sb3-logs-")
os.environ.setdefault("SB3_LOGDIR", _SB3_LOGS.name)

import torch  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.callbacks import (  # noqa: E402
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

torch.set_num_threads(1)

CONFIG = dict(
    n_steps=128,
    batch_size=128,
    n_epochs=4,
    learning_rate=2.5e-4,
    gamma=0.99,
    gae_lambda=0.95,
    clip_range=0.2,
    ent_coef=0.01,
    vf_coef=0.5,
    max_grad_norm=0.5,
    policy_kwargs={"net_arch": [64, 64]},
    device="cpu",
    verbose=0,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--throughput-steps", type=int, default=50_000)
    parser.add_argument("--timesteps", type=int, default=500_000)
    parser.add_argument("--solve-seeds", default="1")
    args = parser.parse_args()
    result = {}

    env = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    model = PPO("MlpPolicy", env, seed=0, **CONFIG)
    start = time.perf_counter()
    model.learn(args.throughput_steps)
    result["throughput"] = {
        "compile_s": 0.0,
        "run_s": time.perf_counter() - start,
        "steps": args.throughput_steps,
    }

    runs = []
    for seed in (int(x) for x in args.solve_seeds.split(",")):
        start = time.perf_counter()
        env = make_vec_env("CartPole-v1", n_envs=4, seed=seed)
        model = PPO("MlpPolicy", env, seed=seed, **CONFIG)
        stop = StopTrainingOnRewardThreshold(reward_threshold=475, verbose=0)
        evaluation = EvalCallback(
            make_vec_env("CartPole-v1", n_envs=1, seed=2),
            eval_freq=8192 // 4,
            n_eval_episodes=32,
            callback_on_new_best=stop,
            verbose=0,
        )
        model.learn(args.timesteps, callback=evaluation)
        seconds = time.perf_counter() - start
        solved = evaluation.best_mean_reward >= 475
        runs.append(
            {
                "seconds": seconds if solved else None,
                "steps": int(model.num_timesteps) if solved else None,
            }
        )
    result["solve_runs"] = runs
    print(json.dumps(result))


if __name__ == "__main__":
    main()
