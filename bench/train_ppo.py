"""PPO training on CartPole-v1: lerax vs rejax vs Stable-Baselines3, same run.

All three use the same hyper-parameters: 4 envs x 128 steps, 4 epochs of 4
minibatches, 64x64 tanh networks, Adam 2.5e-4, gamma 0.99, GAE 0.95, clip
0.2, entropy 0.01, value 0.5, gradient clip 0.5. Measured:

1. throughput over 500k steps (compile time reported separately);
2. time to solve: wall clock until the mean return of a periodic
   evaluation (32 episodes every 8192 steps) reaches 475, the median over
   the training seeds 0, 1, 2 (`--solve-seeds`; one seed's figure is
   mostly luck: the steps to solve vary 3x between seeds), each lerax run in
   a fresh process, counting everything a user waits for: for lerax one compiled program that
   builds the policy and trains with the evaluation inside (an `EvalCallback`
   with `stop_at_return`); for rejax compiling its training (which builds its
   networks) plus the run up to that evaluation; for SB3 building the model
   and training with its `StopTrainingOnRewardThreshold`;
   and again on a re-run, each library in fresh processes that find their
   program in JAX's persistent compilation cache (`JAX_COMPILATION_CACHE_DIR`,
   filled by one earlier run): tracing, lowering and loading the cached
   executable instead of compiling;
3. eight seeds in one `vmap`: aggregate steps/s over single-seed steps/s,
   on one device, and spread over one CPU device per core (`shard_seeds`;
   each library in a fresh process that makes those devices with
   `jax_num_cpu_devices`), as each library's users can do.

rejax and SB3 run in a separate environment (`.venv-peers`, made by
`make bench`) because rejax needs gymnax < 1.0 and SB3 needs torch.

Usage: ``python bench/train_ppo.py [--timesteps 500000] [--solve-seeds 0,1,2]
[--skip-peers]``
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import lerax.env
from lerax.algorithm import PPO, evaluate_policy, seed_mesh, shard_seeds
from lerax.callback import EvalCallback
from lerax.policy import MLPActorCriticPolicy

PEERS = Path(__file__).resolve().parent / "peers"
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
PEER_PYTHON = Path(__file__).resolve().parent.parent / ".venv-peers" / "bin" / "python"

ALGO = PPO(
    num_envs=4,
    num_steps=128,
    num_epochs=4,
    num_batches=4,
    learning_rate=2.5e-4,
    gamma=0.99,
    gae_lambda=0.95,
    clip_coefficient=0.2,
    entropy_loss_coefficient=0.01,
    value_loss_coefficient=0.5,
    max_grad_norm=0.5,
)


def lerax_results(total: int, seeds: int, solve_seeds: list[int]) -> dict:
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    result = {}

    learn = eqx.filter_jit(lambda k: ALGO.learn(env, policy, total, key=k))
    start = time.perf_counter()
    compiled = learn.lower(jr.key(0)).compile()
    compile_s = time.perf_counter() - start
    run_s = float("inf")
    for repeat in range(3):  # minimum of three runs (the machine is shared)
        start = time.perf_counter()
        trained = jax.block_until_ready(compiled(jr.key(repeat)))
        run_s = min(run_s, time.perf_counter() - start)
    returns, _ = evaluate_policy(env, trained, key=jr.key(9), num_episodes=32)
    result["throughput"] = {
        "compile_s": compile_s,
        "run_s": run_s,
        "steps": total,
        "final_return": float(jnp.mean(returns)),
    }

    keys = jr.split(jr.key(1), seeds)
    many = eqx.filter_jit(
        eqx.filter_vmap(lambda k: ALGO.learn(env, policy, total, key=k))
    )
    start = time.perf_counter()
    compiled = many.lower(keys).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    jax.block_until_ready(compiled(keys))
    result["seeds"] = {
        "compile_s": compile_s,
        "run_s": time.perf_counter() - start,
        "steps": total * seeds,
    }

    result["solve"] = median_solve(
        [solve_in_fresh_process(total, seed) for seed in solve_seeds]
    )
    result["solve_warm"] = median_solve(
        warm_solves(lambda s, c: solve_in_fresh_process(total, s, c), solve_seeds)
    )
    result["spread"] = in_fresh_process(
        "--spread-only", "--timesteps", str(total), "--seeds", str(seeds)
    )
    return result


def spread(total: int, seeds: int) -> dict:
    """`seeds` seeds in one vmap, spread over the process's devices (made one
    per core by `main` before JAX starts)."""
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    keys = shard_seeds(jr.split(jr.key(1), seeds), seed_mesh())
    many = eqx.filter_jit(
        eqx.filter_vmap(lambda k: ALGO.learn(env, policy, total, key=k))
    )
    start = time.perf_counter()
    compiled = many.lower(keys).compile()
    compile_s = time.perf_counter() - start
    run_s = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        jax.block_until_ready(compiled(keys))
        run_s = min(run_s, time.perf_counter() - start)
    return {
        "compile_s": compile_s,
        "run_s": run_s,
        "steps": total * seeds,
        "devices": len(jax.devices()),
    }


def solve(total: int, seed: int) -> dict:
    """Time to solve as a user meets it, in a process that has compiled
    nothing yet: building the policy and training, with an
    `EvalCallback` (32 deterministic episodes every 8192 steps) that stops
    the run at a mean return of 475."""
    start = time.perf_counter()
    env = lerax.env.make("CartPole-v1")
    stop = EvalCallback(
        env, eval_freq=8192, num_episodes=32, seed=2, stop_at_return=475.0
    )

    @eqx.filter_jit
    def run(key):
        # the policy is built inside the compiled program (as rejax builds
        # its networks inside its compiled `train`), then what `learn`
        # compiles, keeping the final state
        policy_key, train_key = jr.split(key)
        policy = MLPActorCriticPolicy(env, key=policy_key)
        state = ALGO.init(
            env, policy, key=train_key, total_timesteps=total, callback=stop
        )
        return ALGO.train(state, ALGO.num_iterations(total), callback=stop)[0]

    state = jax.block_until_ready(run(jr.key(seed)))
    seconds = time.perf_counter() - start
    solved = bool(state.stopped)
    return {
        "seconds": seconds if solved else None,
        "steps": int(state.callback_state.best_step) if solved else None,
    }


def solve_in_fresh_process(total: int, seed: int, cache: str | None = None) -> dict:
    out = in_fresh_process(
        "--solve-only",
        "--timesteps",
        str(total),
        "--solve-seeds",
        str(seed),
        env=cached(cache),
    )
    return out or {"seconds": None, "steps": None}


def cached(cache: str | None) -> dict | None:
    """The environment of a process that uses JAX's persistent compilation
    cache in `cache` (None: the cache stays off, as by default)."""
    if cache is None:
        return None
    return {**os.environ, "JAX_COMPILATION_CACHE_DIR": cache}


def warm_solves(run, seeds: list[int]) -> list[dict]:
    """Time to solve on a re-run: one run fills a fresh persistent
    compilation cache, then each seed runs in a fresh process that finds
    its program there (the seed is an argument of the program, so every seed
    shares it). `run(seed, cache)` returns one seed's result."""
    with tempfile.TemporaryDirectory() as cache:
        run(seeds[0], cache)
        return [run(seed, cache) for seed in seeds]


def in_fresh_process(*args: str, env: dict | None = None) -> dict | None:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if out.returncode != 0:
        print(f"({' '.join(args)} failed:\n{out.stderr[-2000:]})")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_solve(runs: list[dict]) -> dict:
    """The median over seeds of the time and steps to solve (an unsolved
    seed counts as infinitely slow), with every run kept."""
    seconds = [r["seconds"] if r["seconds"] is not None else np.inf for r in runs]
    order = np.argsort(seconds)
    middle = runs[order[len(runs) // 2]]
    return {"seconds": middle["seconds"], "steps": middle["steps"], "runs": runs}


def peer(script: str, *args: str, env: dict | None = None) -> dict | None:
    if not PEER_PYTHON.exists():
        print(f"(skipping {script}: {PEER_PYTHON} missing; `make bench` creates it)")
        return None
    out = subprocess.run(
        [str(PEER_PYTHON), str(PEERS / script), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if out.returncode != 0:
        print(f"({script} failed:\n{out.stderr[-2000:]})")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def rate(r: dict | None, key: str) -> float:
    if not r or key not in r:
        return float("nan")
    return r[key]["steps"] / r[key]["run_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=500_000)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument(
        "--solve-seeds",
        default="0,1,2",
        help="seeds of the time-to-solve runs (the median is reported)",
    )
    parser.add_argument("--solve-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spread-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    solve_seeds = [int(x) for x in args.solve_seeds.split(",")]
    if args.solve_only:
        print(json.dumps(solve(args.timesteps, solve_seeds[0])))
        return
    if args.spread_only:
        jax.config.update("jax_num_cpu_devices", CORES)
        print(json.dumps(spread(args.timesteps, args.seeds)))
        return

    ours = lerax_results(args.timesteps, args.seeds, solve_seeds)
    rejax = sb3 = None
    if not args.skip_peers:
        rejax = peer(
            "rejax_ppo.py",
            "--timesteps",
            str(args.timesteps),
            "--seeds",
            str(args.seeds),
            "--solve-seeds",
            args.solve_seeds,
        )
        rejax_spread = peer(
            "rejax_ppo.py",
            "--timesteps",
            str(args.timesteps),
            "--seeds",
            str(args.seeds),
            "--spread-over",
            str(CORES),
        )
        if rejax and rejax_spread:
            rejax["spread"] = rejax_spread["spread"]

        def rejax_solve(seed: int, cache: str) -> dict:
            out = peer(
                "rejax_ppo.py",
                "--timesteps",
                str(args.timesteps),
                "--solve-only",
                "--solve-seeds",
                str(seed),
                env=cached(cache),
            )
            return out["solve_runs"][0] if out else {"seconds": None, "steps": None}

        if rejax:
            rejax["solve_warm"] = median_solve(warm_solves(rejax_solve, solve_seeds))
        sb3 = peer(
            "sb3_ppo.py",
            "--timesteps",
            str(args.timesteps),
            "--solve-seeds",
            args.solve_seeds,
        )

    for r in (rejax, sb3):
        if r:
            r["solve"] = median_solve(r.pop("solve_runs"))

    def fmt(x, spec=",.0f"):
        return (
            "n/a"
            if x is None or (isinstance(x, float) and np.isnan(x))
            else format(x, spec)
        )

    print(
        f"\njax {jax.__version__} on {jax.devices()[0].platform}; {args.timesteps:,} steps"
    )
    print("| measure | lerax | rejax | SB3 | lerax / rejax | SB3 / lerax |")
    print("|---|---|---|---|---|---|")
    lx, r, s = (
        rate(ours, "throughput"),
        rate(rejax, "throughput"),
        rate(sb3, "throughput"),
    )
    print(
        f"| PPO steps/s (1 seed) | {fmt(lx)} | {fmt(r)} | {fmt(s)} | {fmt(lx / r, '.2f')} | {fmt(lx / s, '.1f')}x faster |"
    )
    lc = ours["throughput"]["compile_s"]
    rc = rejax["throughput"]["compile_s"] if rejax else None
    print(
        f"| compile s | {fmt(lc, '.1f')} | {fmt(rc, '.1f')} | - | {fmt(lc / rc if rc else None, '.2f')} | - |"
    )
    ls, rs, ss = (x["solve"]["seconds"] if x else None for x in (ours, rejax, sb3))
    print(
        f"| time to solve s (incl. compile; median of {len(solve_seeds)} seeds) | {fmt(ls, '.1f')} | {fmt(rs, '.1f')} | {fmt(ss, '.1f')} "
        f"| {fmt(ls / rs if ls and rs else None, '.2f')} | {fmt(ss / ls if ls and ss else None, '.1f')}x |"
    )
    lw_, rw_ = (x["solve_warm"]["seconds"] if x else None for x in (ours, rejax))
    print(
        f"| time to solve s, re-run with JAX's persistent compilation cache (median of {len(solve_seeds)} seeds) "
        f"| {fmt(lw_, '.1f')} | {fmt(rw_, '.1f')} | - | {fmt(lw_ / rw_ if lw_ and rw_ else None, '.2f')} | - |"
    )
    for name, res in (("lerax", ours), ("rejax", rejax), ("SB3", sb3)):
        if res:
            runs = ", ".join(
                f"{fmt(x['seconds'], '.1f')} s / {fmt(x['steps'])} steps"
                for x in res["solve"].get("runs", [])
            )
            print(f"|   {name} time to solve per seed ({args.solve_seeds}) | {runs} |")
    for name, res in (("lerax", ours), ("rejax", rejax)):
        if res and "solve_warm" in res:
            runs = ", ".join(
                f"{fmt(x['seconds'], '.1f')} s" for x in res["solve_warm"]["runs"]
            )
            print(
                f"|   {name} re-run time to solve per seed ({args.solve_seeds}) | {runs} |"
            )
    lv, rv = rate(ours, "seeds"), rate(rejax, "seeds")
    print(
        f"| {args.seeds} seeds vmap: aggregate steps/s | {fmt(lv)} | {fmt(rv)} | - | {fmt(lv / rv, '.2f')} | - |"
    )
    print(
        f"| {args.seeds} seeds / 1 seed throughput | {fmt(lv / lx, '.2f')} | {fmt(rv / r, '.2f')} | - | - | - |"
    )
    lw, rw = rate(ours, "spread"), rate(rejax, "spread")
    print(
        f"| {args.seeds} seeds vmap over {CORES} CPU devices: aggregate steps/s | {fmt(lw)} | {fmt(rw)} | - | {fmt(lw / rw, '.2f')} | - |"
    )
    print(
        f"| {args.seeds} seeds over {CORES} CPU devices / 1 seed throughput | {fmt(lw / lx, '.2f')} | {fmt(rw / r, '.2f')} | - | - | - |"
    )
    for name, res in (("lerax", ours), ("rejax", rejax)):
        if res and res.get("spread"):
            print(
                f"|   {name} compile s: 1 seed {fmt(res['throughput']['compile_s'], '.1f')}, "
                f"{args.seeds} seeds {fmt(res['seeds']['compile_s'], '.1f')}, "
                f"spread {fmt(res['spread']['compile_s'], '.1f')} |"
            )
    print(
        f"| final greedy return (500k) | {fmt(ours['throughput']['final_return'], '.1f')} | "
        f"{fmt(rejax['throughput']['final_return'] if rejax else None, '.1f')} | - | - | - |"
    )


if __name__ == "__main__":
    sys.exit(main())
