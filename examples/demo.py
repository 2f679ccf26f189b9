"""The `make demo` script: train PPO on CartPole-v1, evaluate, save, plot.

Trains in chunks of iterations (each chunk one compiled call; the first call
compiles, the rest reuse it) so a progress bar can follow, evaluates the
greedy policy on 32 episodes, saves the policy to `out/demo/` as an `.eqx`
file and the learning curve as a PNG.
"""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import lerax.env
from lerax.algorithm import PPO, evaluate_policy
from lerax.policy import MLPActorCriticPolicy

TOTAL_TIMESTEPS = 100_000
CHUNK = 20  # iterations per compiled call
OUT = Path("out/demo")


def main() -> None:
    console = Console()
    env = lerax.env.make("CartPole-v1")
    iterations = TOTAL_TIMESTEPS // (8 * 32)
    algo = PPO(
        num_envs=8,
        num_steps=32,
        num_epochs=20,
        num_batches=1,
        gamma=0.98,
        gae_lambda=0.8,
        learning_rate=optax.linear_schedule(1e-3, 0.0, 20 * iterations),
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(1))

    returns, steps = [], []
    start = time.perf_counter()
    columns = (
        TextColumn("[bold]PPO CartPole-v1"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} steps"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("return {task.fields[ret]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            "train", total=iterations * algo.steps_per_iteration, rate="", ret="-"
        )
        done = 0
        while done < iterations:
            chunk = min(CHUNK, iterations - done)
            state, metrics = algo.train(state, chunk)
            jax.block_until_ready(state)
            done += chunk
            for i, value in enumerate(np.asarray(metrics["episode_return"])):
                steps.append((done - chunk + i + 1) * algo.steps_per_iteration)
                returns.append(value)
            recent = np.nanmean(np.asarray(returns[-CHUNK:]))
            elapsed = time.perf_counter() - start
            progress.update(
                task,
                completed=done * algo.steps_per_iteration,
                rate=f"{done * algo.steps_per_iteration / elapsed:,.0f} steps/s",
                ret=f"{recent:.1f}",
            )
    train_s = time.perf_counter() - start

    eval_returns, _ = evaluate_policy(env, state.policy, key=jr.key(2), num_episodes=32)
    mean, std = float(jnp.mean(eval_returns)), float(jnp.std(eval_returns))
    console.print(
        f"Trained {iterations * algo.steps_per_iteration:,} steps in {train_s:.1f} s "
        "(compilation included)."
    )
    console.print(
        f"[bold green]Evaluated return: {mean:.1f} ± {std:.1f}[/] (32 greedy episodes)"
    )

    OUT.mkdir(parents=True, exist_ok=True)
    path = state.policy.serialize(OUT / "ppo_cartpole")
    console.print(f"Policy saved to {path}")
    loaded = MLPActorCriticPolicy.deserialize(path, env)
    assert jax.tree.all(
        jax.tree.map(
            lambda a, b: bool(jnp.all(a == b)),
            jax.tree.leaves(loaded, is_leaf=lambda x: isinstance(x, jax.Array)),
            jax.tree.leaves(state.policy, is_leaf=lambda x: isinstance(x, jax.Array)),
        )
    )
    plot = learning_curve(steps, returns, OUT / "learning_curve.png")
    if plot:
        console.print(f"Learning curve saved to {plot}")


def learning_curve(steps, returns, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            'matplotlib is missing: `pip install "lerax[plot]"` for the learning curve.'
        )
        return None
    returns = np.asarray(returns, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot(steps, returns, ".", alpha=0.3, label="mean return per iteration")
    window = 10
    valid = np.where(np.isnan(returns), np.nan, returns)
    smooth = [np.nanmean(valid[max(0, i - window) : i + 1]) for i in range(len(valid))]
    ax.plot(steps, smooth, "-", label=f"moving average ({window})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title("PPO on CartPole-v1")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
