"""Off-policy training: lerax vs Stable-Baselines3, sbx and rejax, same run.

SAC on Pendulum-v1 for 20k steps (learning rate 1e-3, 64x64 networks, batch
256, and again with batch 64 for every library) and DQN on CartPole-v1 for 100k steps (the RL Zoo configuration,
256x256). Wall time covers building the policy and `learn` (compilation
included), as the peers' covers building and training their models; returns
are the mean of 32 greedy episodes. Peers run in `.venv-peers` (see `bench/train_ppo.py`).

Usage: ``python bench/off_policy.py``
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr

import lerax.env
from lerax.algorithm import DQN, SAC, evaluate_policy
from lerax.policy import MLPQPolicy, MLPSACPolicy

HERE = Path(__file__).resolve().parent
# the shared configuration (batch 256) and a lighter one (batch 64), run by
# every library
SAC_BATCHES = {"sac_pendulum": 256, "sac_pendulum_b64": 64}
PEER_PYTHON = HERE.parent / ".venv-peers" / "bin" / "python"


def timed(algo, env, make_policy, total):
    """Policy construction plus `learn` (one compiled program), as a user runs
    it; the peers' figures likewise include building their models."""
    start = time.perf_counter()
    policy = make_policy()
    trained = jax.block_until_ready(algo.learn(env, policy, total, key=jr.key(1)))
    seconds = time.perf_counter() - start
    returns, _ = evaluate_policy(env, trained, key=jr.key(1234), num_episodes=32)
    return {"seconds": seconds, "return": float(jnp.mean(returns))}


def task_runs() -> dict:
    """Each lerax run: (algorithm, env, policy builder, budget)."""
    pendulum = lerax.env.make("Pendulum-v1")
    cartpole = lerax.env.make("CartPole-v1")
    runs = {
        task: (
            SAC(
                policy_lr=1e-3,
                q_lr=1e-3,
                buffer_size=20_000,
                q_width_size=64,
                batch_size=batch_size,
            ),
            pendulum,
            lambda: MLPSACPolicy(
                pendulum, feature_size=64, width_size=64, key=jr.key(0)
            ),
            20_000,
        )
        for task, batch_size in SAC_BATCHES.items()
    }
    runs["dqn_cartpole"] = (
        DQN(
            learning_rate=2.3e-3,
            batch_size=64,
            buffer_size=100_000,
            learning_starts=1000,
            target_update_interval=10,
            num_steps=256,
            gradient_steps=128,
            exploration_fraction=0.16,
            exploration_final_eps=0.04,
        ),
        cartpole,
        lambda: MLPQPolicy(cartpole, width_size=256, key=jr.key(0)),
        100_000,
    )
    return runs


def in_fresh_process(task: str) -> dict:
    """One lerax run in a new process, so nothing is compiled beforehand (the
    peers likewise build and compile each model from scratch)."""
    out = subprocess.run(
        [sys.executable, __file__, "--task", task],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:
        algo, env, make_policy, total = task_runs()[args.task]
        print(json.dumps(timed(algo, env, make_policy, total)))
        return
    ours = {task: in_fresh_process(task) for task in (*SAC_BATCHES, "dqn_cartpole")}
    peers = {}
    if PEER_PYTHON.exists():
        out = subprocess.run(
            [str(PEER_PYTHON), str(HERE / "peers" / "off_policy.py")],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode == 0:
            peers = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            print(out.stderr[-2000:])
    print("| task | library | wall time s (incl. compile) | greedy return |")
    print("|---|---|---|---|")
    for task in (*SAC_BATCHES, "dqn_cartpole"):
        rows = [("lerax", ours[task])] + [
            (k, (v or {}).get(task)) for k, v in peers.items()
        ]
        for name, r in rows:
            if not r or r.get("seconds") is None:
                print(f"| {task} | {name} | n/a | n/a |")
            else:
                print(f"| {task} | {name} | {r['seconds']:.1f} | {r['return']:.1f} |")


if __name__ == "__main__":
    main()
