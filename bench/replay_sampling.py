"""Replay sampling cost at capacities 10k and 1M (it should not depend on capacity).

Usage: ``python bench/replay_sampling.py``
"""

import time

import jax
import jax.numpy as jnp
import jax.random as jr

from lerax.buffer import ReplayBuffer
from lerax.space import Box


def measure(capacity: int, batch_size: int = 256, draws: int = 2000) -> float:
    space = Box(-1.0, 1.0, (17,))
    buffer = ReplayBuffer.create(capacity, space, Box(-1.0, 1.0, (6,)))
    n = capacity
    buffer = buffer.add(
        jnp.ones((n, 17)),
        jnp.ones((n, 6)),
        jnp.ones((n,)),
        jnp.ones((n, 17)),
        jnp.zeros((n,), bool),
    )

    @jax.jit
    def run(buffer, key):
        def body(total, k):
            batch = buffer.sample(batch_size, key=k)
            return total + jnp.sum(batch["observations"]) + jnp.sum(
                batch["rewards"]
            ), None

        return jax.lax.scan(body, 0.0, jr.split(key, draws))[0]

    jax.block_until_ready(run(buffer, jr.key(0)))
    best = float("inf")
    for i in range(3):
        start = time.perf_counter()
        jax.block_until_ready(run(buffer, jr.key(i + 1)))
        best = min(best, time.perf_counter() - start)
    return best / draws * 1e6


if __name__ == "__main__":
    print("| capacity | µs per batch of 256 |")
    print("|---|---|")
    for capacity in (10_000, 1_000_000):
        print(f"| {capacity:,} | {measure(capacity):.1f} |", flush=True)
