"""rejax PPO on gymnax CartPole-v1, for `bench/train_ppo.py` (run in the peers venv).

Prints one JSON line: compile and run seconds for the throughput run, the
8-seed vmapped run, and the time to reach a mean evaluation return of 475.
"""

import argparse
import json
import time

import jax
import numpy as np
from rejax import PPO

CONFIG = dict(
    env="CartPole-v1",
    num_envs=4,
    num_steps=128,
    num_epochs=4,
    num_minibatches=4,
    learning_rate=2.5e-4,
    gamma=0.99,
    gae_lambda=0.95,
    clip_eps=0.2,
    ent_coef=0.01,
    vf_coef=0.5,
    max_grad_norm=0.5,
    agent_kwargs={"activation": "tanh", "hidden_layer_sizes": (64, 64)},
)


def timed(fn, *args, repeats=1):
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - start
    run_s = float("inf")
    for _ in range(repeats):  # minimum over repeats (the machine is shared)
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(*args))
        run_s = min(run_s, time.perf_counter() - start)
    return compile_s, run_s, out


def solve_runs(total: int, seeds: str) -> list[dict]:
    """Time to reach a mean evaluation return of 475, per training seed."""
    freq = 8192
    algo = PPO.create(
        total_timesteps=total, eval_freq=freq, skip_initial_evaluation=True, **CONFIG
    )
    runs = []
    for seed in (int(x) for x in seeds.split(",")):
        # compiled afresh per seed, as a user's run would be
        compile_s, run_s, (_, evaluation) = timed(algo.train, jax.random.key(seed))
        means = np.asarray(evaluation[1]).mean(axis=-1)
        solved = np.nonzero(means >= 475)[0]
        if solved.size:
            fraction = (solved[0] + 1) / len(means)
            runs.append(
                {
                    "seconds": compile_s + run_s * fraction,
                    "steps": int((solved[0] + 1) * freq),
                }
            )
        else:
            runs.append({"seconds": None, "steps": None})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=500_000)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--solve-seeds", default="2")
    parser.add_argument(
        "--spread-over",
        type=int,
        help="only the vmapped seeds, spread over this many CPU devices",
    )
    parser.add_argument(
        "--solve-only",
        action="store_true",
        help="only the time-to-solve runs (for re-runs on a warm "
        "JAX_COMPILATION_CACHE_DIR)",
    )
    args = parser.parse_args()
    total = args.timesteps
    result = {}

    if args.spread_over:
        jax.config.update("jax_num_cpu_devices", args.spread_over)
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        algo = PPO.create(
            total_timesteps=total,
            eval_freq=total,
            skip_initial_evaluation=True,
            **CONFIG,
        )
        mesh = Mesh(np.asarray(jax.devices()), ("seeds",))
        keys = jax.device_put(
            jax.random.split(jax.random.key(1), args.seeds),
            NamedSharding(mesh, PartitionSpec("seeds")),
        )
        compile_s, run_s, _ = timed(jax.vmap(algo.train), keys, repeats=2)
        result["spread"] = {
            "compile_s": compile_s,
            "run_s": run_s,
            "steps": total * args.seeds,
        }
        print(json.dumps(result))
        return

    if args.solve_only:
        result["solve_runs"] = solve_runs(total, args.solve_seeds)
        print(json.dumps(result))
        return

    algo = PPO.create(
        total_timesteps=total, eval_freq=total, skip_initial_evaluation=True, **CONFIG
    )
    compile_s, run_s, (_, evaluation) = timed(algo.train, jax.random.key(0), repeats=3)
    result["throughput"] = {
        "compile_s": compile_s,
        "run_s": run_s,
        "steps": total,
        "final_return": float(np.mean(evaluation[1][-1])),
    }

    keys = jax.random.split(jax.random.key(1), args.seeds)
    compile_s, run_s, _ = timed(jax.vmap(algo.train), keys)
    result["seeds"] = {
        "compile_s": compile_s,
        "run_s": run_s,
        "steps": total * args.seeds,
    }

    result["solve_runs"] = solve_runs(total, args.solve_seeds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
