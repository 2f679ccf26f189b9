"""`lerax evaluate`, `lerax record`, `lerax list` and `lerax benchmark`."""

import argparse
import time
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ._config import (
    ALGORITHMS,
    DEFAULT_ENV,
    DEFAULT_POLICY,
    Setup,
    build,
    build_config,
)
from ._errors import CLIError


def load_run(directory: str | Path) -> tuple[dict, Setup, Any, Any]:
    """The configuration, setup, trained policy and evaluation env (frozen at
    the saved observation statistics when the run normalises them) of a
    `lerax train` folder."""
    directory = Path(directory)
    config_path = directory / "config.toml"
    if not config_path.is_file():
        raise CLIError(
            f"{str(directory)!r} is not a `lerax train` output folder (no config.toml)."
        )
    config = build_config(file=config_path)
    setup = build(config)
    policy_path = directory / "policy.eqx"
    policy = setup.load_policy(policy_path)
    return config, setup, policy, setup.load_eval_env(policy_path)


def run_evaluate(args: argparse.Namespace, console: Any) -> int:
    """`lerax evaluate DIR [--episodes N]`."""
    from ..algorithm import evaluate_policy

    config, _, policy, env = load_run(args.directory)
    if args.episodes < 1:
        raise CLIError(f"--episodes must be >= 1, got {args.episodes}.")
    returns, lengths = evaluate_policy(
        env,
        policy,
        key=jr.key(args.seed),
        num_episodes=args.episodes,
        deterministic=not args.stochastic,
    )
    returns, lengths = np.asarray(returns), np.asarray(lengths)
    mode = "stochastic" if args.stochastic else "deterministic"
    run = config["run"]
    console.print(
        f"{run['algorithm']} on {run['env']}: return {returns.mean():.1f} ± "
        f"{returns.std():.1f} (min {returns.min():.1f}, max {returns.max():.1f}), "
        f"length {lengths.mean():.1f}, over {args.episodes} {mode} episodes"
    )
    return 0


def rollout(env: Any, policy: Any, *, key: Any, max_steps: int) -> tuple[Any, int]:
    """One deterministic episode: the env states stacked over time (leading
    axis `max_steps`) and the episode's length."""

    @eqx.filter_jit
    def run(key):
        reset_key, policy_key, run_key = jr.split(key, 3)
        state, observation, _ = env.reset(key=reset_key)
        carry = (state, observation, policy.reset(key=policy_key), jnp.array(False))

        def step(carry, key):
            state, observation, policy_state, ended = carry
            mask_key, env_key = jr.split(key)
            mask = env.action_mask(state, key=mask_key)
            policy_state, action = policy(
                policy_state, observation, key=None, action_mask=mask
            )
            next_state, observation, _, terminated, truncated, _ = env.step(
                state, action, key=env_key
            )
            ended_now = ended | terminated | truncated
            return (next_state, observation, policy_state, ended_now), (state, ended)

        _, (states, ended) = jax.lax.scan(step, carry, jr.split(run_key, max_steps))
        return states, jnp.sum(~ended)

    states, length = run(key)
    length = int(length)
    return jax.tree.map(lambda x: x[:length] if eqx.is_array(x) else x, states), length


def run_record(args: argparse.Namespace, console: Any) -> int:
    """`lerax record DIR --out video.mp4`."""
    try:
        import lerax.render as render

        record_video = render.record_video
    except (ImportError, AttributeError) as error:
        raise CLIError(
            f"`lerax record` needs lerax's rendering ({error}). Install it with "
            '`pip install "lerax[render]"`.',
            1,
        ) from None
    if args.fps is not None and args.fps < 1:
        raise CLIError(f"--fps must be >= 1, got {args.fps}.")
    if args.max_steps < 1:
        raise CLIError(f"--max-steps must be >= 1, got {args.max_steps}.")
    from ..render._video import resolve_fps, video_path

    try:
        video_path(args.out)
    except ValueError as error:
        raise CLIError(f"--out: {error}") from None
    _, _, policy, env = load_run(args.directory)
    try:  # without --fps: the env's real-time rate (its `render_fps`)
        fps = resolve_fps(env, args.fps, "record_video")
    except ValueError as error:
        raise CLIError(f"{error} (With `lerax record`: pass --fps N.)") from None
    states, length = rollout(
        env, policy, key=jr.key(args.seed), max_steps=args.max_steps
    )
    try:
        path = record_video(env, states, args.out, fps=fps)
    except ImportError as error:
        raise CLIError(str(error), 1) from None
    console.print(f"Recorded {length} steps to {path or args.out} at {fps:g} fps")
    return 0


def run_list(args: argparse.Namespace, console: Any) -> int:
    """`lerax list`: algorithms (with default policy and env) and env ids."""
    import lerax.env

    del args
    console.print("[bold]Algorithms[/] (default policy, default env):")
    for name in ALGORITHMS:
        console.print(f"  {name:<12} {DEFAULT_POLICY[name]:<22} {DEFAULT_ENV[name]}")
    console.print("[bold]Environments[/]:")
    for env_id in lerax.env.registered():
        console.print(f"  {env_id}")
    return 0


def run_benchmark(args: argparse.Namespace, console: Any) -> int:
    """`lerax benchmark`: env steps per second of PPO on an env."""
    config = build_config(
        algorithm="PPO",
        env_id=args.env_id,
        assignments=[
            f"num_envs={args.num_envs}",
            f"num_steps={args.num_steps}",
            "num_epochs=4",
            "num_batches=4",
            'lr_schedule="constant"',
        ],
        overrides={"total_timesteps": args.total_timesteps},
    )
    setup = build(config)
    algo, env = setup.algorithm, setup.env
    try:
        iterations = algo.num_iterations(config["run"]["total_timesteps"])
    except ValueError as error:
        raise CLIError(str(error)) from None
    state = algo.init(env, setup.make_policy(jr.key(0)), key=jr.key(1))
    start = time.perf_counter()
    compiled = eqx.filter_jit(lambda s: algo.train(s, iterations)).lower(state)
    compiled = compiled.compile()
    compile_s = time.perf_counter() - start
    jax.block_until_ready(eqx.filter(state, eqx.is_array))
    start = time.perf_counter()
    state, _ = compiled(state)
    jax.block_until_ready(eqx.filter(state, eqx.is_array))
    seconds = time.perf_counter() - start
    steps = iterations * algo.steps_per_iteration
    console.print(
        f"PPO on {config['run']['env']} ({jax.default_backend()}): {steps:,} steps "
        f"with {algo.num_envs} envs x {algo.num_steps} steps, 4 epochs x 4 "
        f"minibatches in {seconds:.2f} s = [bold]{steps / seconds:,.0f} steps/s[/] "
        f"(compilation {compile_s:.1f} s, not counted)"
    )
    return 0
