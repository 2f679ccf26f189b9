"""The `make demo` script: random-policy CartPole-v1 rollouts, compiled and vectorised.

Until the training algorithms land, the demo shows the environment stack: 64
CartPole-v1 envs (with the standard 500-step limit and episode statistics)
stepped 1,000 times under uniformly random actions inside one
`jax.jit(lax.scan(vmap(step)))`, and prints the finished episodes' statistics.
"""

import time

import jax
import jax.numpy as jnp
import jax.random as jr
from rich.console import Console
from rich.table import Table

import lerax.env
from lerax.wrapper import EpisodeStatistics

NUM_ENVS = 64
NUM_STEPS = 1_000


def rollout(env, key):
    reset_key, run_key = jr.split(key)
    states, _, _ = jax.vmap(lambda k: env.reset(key=k))(jr.split(reset_key, NUM_ENVS))

    def body(states, key):
        action_key, step_key = jr.split(key)
        actions = jax.vmap(lambda k: env.action_space.sample(key=k))(
            jr.split(action_key, NUM_ENVS)
        )
        states, _, _, terminated, truncated, info = jax.vmap(
            lambda s, a, k: env.step(s, a, key=k)
        )(states, actions, jr.split(step_key, NUM_ENVS))
        done = terminated | truncated
        return states, (done, info["episode"]["return"], info["episode"]["length"])

    _, (done, returns, lengths) = jax.lax.scan(body, states, jr.split(run_key, NUM_STEPS))
    return done, returns, lengths


def main() -> None:
    console = Console()
    env = EpisodeStatistics(lerax.env.make("CartPole-v1"))
    program = jax.jit(lambda key: rollout(env, key))
    with console.status("Compiling the rollout..."):
        start = time.perf_counter()
        compiled = program.lower(jr.key(0)).compile()
        compile_s = time.perf_counter() - start
    start = time.perf_counter()
    done, returns, lengths = jax.block_until_ready(compiled(jr.key(0)))
    run_s = time.perf_counter() - start

    finished = returns[done]
    table = Table(title="Random policy on CartPole-v1 (finished episodes)")
    for column in ("episodes", "mean return", "std", "min", "max", "mean length"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{int(done.sum())}",
        f"{float(jnp.mean(finished)):.1f}",
        f"{float(jnp.std(finished)):.1f}",
        f"{float(jnp.min(finished)):.0f}",
        f"{float(jnp.max(finished)):.0f}",
        f"{float(jnp.mean(lengths[done])):.1f}",
    )
    console.print(table)
    steps = NUM_ENVS * NUM_STEPS
    console.print(
        f"{steps:,} steps in {run_s * 1e3:.1f} ms ({steps / run_s:,.0f} steps/s), "
        f"compiled in {compile_s:.2f} s."
    )


if __name__ == "__main__":
    main()
