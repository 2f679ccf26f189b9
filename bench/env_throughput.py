"""Environment stepping throughput: lerax vs gymnax, measured in the same run.

Each library steps `width` envs with uniformly random actions inside one
`jax.jit(lax.scan(vmap(step)))`, auto-reset and time limit included. The scan
folds every observation and reward into its output so XLA cannot delete the
dynamics. Compile time is measured on its own (`lower(...).compile()`); run
time is the minimum over repeated calls of the compiled program. lerax is
measured with its default run-time action check (`step(..., check=True)`)
and without it (`check=False`, what lerax's own rollouts use); gymnax does
not check actions.

Usage: ``python bench/env_throughput.py [--widths 1 64 1024 8192] [--repeats 5]``
"""

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import jax.random as jr

import lerax.env

ENVS = {"CartPole-v1": "CartPole-v1", "Pendulum-v1": "Pendulum-v1"}
STEPS_PER_WIDTH = {1: 20_000, 64: 4_000, 1024: 1_000, 8192: 250}


def lerax_program(env_id: str, width: int, num_steps: int, check: bool = True):
    env = lerax.env.make(env_id)

    def run(key):
        reset_key, run_key = jr.split(key)
        states, _, _ = jax.vmap(lambda k: env.reset(key=k))(jr.split(reset_key, width))

        def body(carry, key):
            states, total = carry
            action_key, step_key = jr.split(key)
            actions = jax.vmap(lambda k: env.action_space.sample(key=k))(
                jr.split(action_key, width)
            )
            states, obs, reward, _, _, _ = jax.vmap(
                lambda s, a, k: env.step(s, a, key=k, check=check)
            )(states, actions, jr.split(step_key, width))
            return (states, total + jnp.sum(obs) + jnp.sum(reward)), None

        (_, total), _ = jax.lax.scan(
            body, (states, jnp.float32(0)), jr.split(run_key, num_steps)
        )
        return total

    return run


def gymnax_program(env_id: str, width: int, num_steps: int):
    import gymnax

    env, params = gymnax.make(env_id)
    space = env.action_space(params)

    def run(key):
        reset_key, run_key = jr.split(key)
        _, states = jax.vmap(lambda k: env.reset(k, params))(jr.split(reset_key, width))

        def body(carry, key):
            states, total = carry
            action_key, step_key = jr.split(key)
            actions = jax.vmap(space.sample)(jr.split(action_key, width))
            obs, states, reward, _, _, _ = jax.vmap(
                lambda k, s, a: env.step(k, s, a, params)
            )(jr.split(step_key, width), states, actions)
            return (states, total + jnp.sum(obs) + jnp.sum(reward)), None

        (_, total), _ = jax.lax.scan(
            body, (states, jnp.float32(0)), jr.split(run_key, num_steps)
        )
        return total

    return run


def measure(program, repeats: int):
    key = jr.key(0)
    start = time.perf_counter()
    compiled = jax.jit(program).lower(key).compile()
    compile_s = time.perf_counter() - start
    compiled(key).block_until_ready()  # warm-up
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        compiled(jr.key(i + 1)).block_until_ready()
        times.append(time.perf_counter() - start)
    return compile_s, min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=list(STEPS_PER_WIDTH))
    parser.add_argument("--envs", nargs="+", default=list(ENVS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(
        f"jax {jax.__version__} on {jax.devices()[0].platform}, {args.repeats} repeats"
    )
    header = (
        "| env | envs | lerax steps/s | lerax, check=False | gymnax steps/s "
        "| ratio | ratio, check=False | lerax compile s | gymnax compile s |"
    )
    print(header)
    print("|" + "---|" * 9)
    for env_id in args.envs:
        for width in args.widths:
            num_steps = STEPS_PER_WIDTH.get(width, max(250, 1_000_000 // width))
            total = width * num_steps
            lx = measure(lerax_program(env_id, width, num_steps), args.repeats)
            lu = measure(lerax_program(env_id, width, num_steps, False), args.repeats)
            gx = measure(gymnax_program(ENVS[env_id], width, num_steps), args.repeats)
            print(
                f"| {env_id} | {width} | {total / lx[1]:,.0f} | {total / lu[1]:,.0f} "
                f"| {total / gx[1]:,.0f} | {gx[1] / lx[1]:.2f} | {gx[1] / lu[1]:.2f} "
                f"| {lx[0]:.2f} | {gx[0]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
