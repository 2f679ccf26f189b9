"""MJX step throughput against Gymnasium's C MuJoCo.

For Ant, HalfCheetah and Humanoid (v5): lerax env steps per second at 1, 64
and 1024 envs (one compiled `lax.scan` of vmapped `env.step`, random actions;
about 2000 env steps per row, at least 2 scan steps; compiled ahead of time,
run once to warm up, then timed on a second call) against Gymnasium's env
(one env, and a synchronous vector env of 8), each env step being
`frame_skip` physics steps on both sides. Prints a table with the ratio of
each lerax row to the single C env, and each lerax row's compile time.

    python bench/mujoco_throughput.py [--envs Ant,HalfCheetah] [--sizes 1,64]
"""

import argparse
import time
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import lerax.env


def lerax_rate(name: str, num_envs: int, steps: int) -> tuple[float, float]:
    """(env steps per second, seconds to compile) of `steps` vmapped steps."""
    env = lerax.env.make(f"{name}-v5")

    def run(env, key):
        states, _, _ = jax.vmap(lambda k: env.reset(key=k))(jr.split(key, num_envs))

        def body(states, key):
            keys = jr.split(key, num_envs)
            actions = jax.vmap(lambda k: env.action_space.sample(key=k))(keys)
            step = jax.vmap(lambda s, a, k: env.step(s, a, key=k, check=False))
            states = step(states, actions, keys)[0]
            return states, None

        states, _ = jax.lax.scan(body, states, jr.split(key, steps))
        return states

    start = time.perf_counter()
    compiled = eqx.filter_jit(run).lower(env, jr.key(0)).compile()
    compile_s = time.perf_counter() - start
    jax.block_until_ready(compiled(env, jr.key(0)))  # warm-up run
    start = time.perf_counter()
    jax.block_until_ready(compiled(env, jr.key(1)))
    return num_envs * steps / (time.perf_counter() - start), compile_s


def gym_rate(name: str, num_envs: int, steps: int) -> float:
    import gymnasium

    if num_envs == 1:
        env = gymnasium.make(f"{name}-v5")
    else:
        env = gymnasium.make_vec(f"{name}-v5", num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    env.action_space.seed(0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if num_envs == 1 and (terminated or truncated):
            env.reset()
    rate = num_envs * steps / (time.perf_counter() - start)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="Ant,HalfCheetah,Humanoid")
    parser.add_argument("--sizes", default="1,64,1024")
    parser.add_argument("--steps", type=int, default=0, help="scan length (0: auto)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*is deprecated")
    print(
        f"{'env':<12} {'engine':<22} {'steps/s':>10} {'vs C x1':>8} {'compile s':>10}"
    )
    for name in args.envs.split(","):
        single = gym_rate(name, 1, 2000)
        rows = [
            ("gymnasium C x1", single, None),
            ("gymnasium C sync x8", gym_rate(name, 8, 250), None),
        ]
        for size in (int(s) for s in args.sizes.split(",")):
            steps = args.steps or max(2, min(100, 2_000 // size))
            rows.append((f"lerax MJX x{size}", *lerax_rate(name, size, steps)))
        for engine, rate, compile_s in rows:
            compiled = "" if compile_s is None else f"{compile_s:.1f}"
            print(
                f"{name:<12} {engine:<22} {rate:>10.0f} {rate / single:>8.2f} "
                f"{compiled:>10}",
                flush=True,
            )


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    jnp.zeros(())
    main()
