"""`lerax evaluate`, `lerax record`, `lerax export`, `lerax list` and `lerax benchmark`."""

import argparse
import time
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..utils import atomic_write
from ._config import (
    ALGORITHMS,
    DEFAULT_ENV,
    DEFAULT_POLICY,
    POLICIES,
    Setup,
    build,
    build_config,
    check_seed,
    policy_class,
    training_eval_key,
)
from ._errors import CLIError

# counts JAX holds in int32 (episodes run at once, steps of a recording)
MAX_COUNT = 2**31 - 1


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
    if not policy_path.exists() and not _finished(config_path):
        raise CLIError(
            f"The run in {str(directory)!r} has not finished: there is no "
            f"policy.eqx yet (config.toml has no [result]). Continue it with "
            f"`lerax train --resume {directory}` if it wrote checkpoints, or "
            "train it again.",
            1,
        )
    policy = setup.load_policy(policy_path)
    return config, setup, policy, setup.load_eval_env(policy_path)


def _finished(config_path: Path) -> bool:
    """Whether the run of `config_path` finished (it then records its
    [result])."""
    import tomllib

    try:
        return "result" in tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def run_evaluate(args: argparse.Namespace, console: Any) -> int:
    """`lerax evaluate DIR [--episodes N]`."""
    from ..algorithm import evaluate_policy
    from ..callback._host import format_fixed

    if args.episodes is not None and not 1 <= args.episodes <= MAX_COUNT:
        raise CLIError(f"--episodes must be 1 to {MAX_COUNT:,}, got {args.episodes}.")
    if args.seed is not None:
        check_seed(args.seed, "--seed")
    config, _, policy, env = load_run(args.directory)
    run = config["run"]
    # by default the evaluation `lerax train` ran at the end: its episodes
    # and its key, so the same return is printed again
    episodes = run["eval_episodes"] if args.episodes is None else args.episodes
    key = training_eval_key(run["seed"]) if args.seed is None else jr.key(args.seed)
    returns, lengths = evaluate_policy(
        env,
        policy,
        key=key,
        num_episodes=episodes,
        deterministic=not args.stochastic,
    )
    returns, lengths = np.asarray(returns), np.asarray(lengths)
    mode = "stochastic" if args.stochastic else "deterministic"
    fixed = lambda x: format_fixed(x, 1)
    console.print(
        f"{run['algorithm']} on {run['env']}: return {fixed(returns.mean())} ± "
        f"{fixed(returns.std())} (min {fixed(returns.min())}, max "
        f"{fixed(returns.max())}), length {fixed(lengths.mean())}, over "
        f"{episodes} {mode} episode{'s' if episodes != 1 else ''}",
        markup=False,
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
    if not 1 <= args.max_steps <= MAX_COUNT:
        raise CLIError(f"--max-steps must be 1 to {MAX_COUNT:,}, got {args.max_steps}.")
    check_seed(args.seed, "--seed")
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
    console.print(
        f"Recorded {length} steps to {path or args.out} at {fps:g} fps", markup=False
    )
    return 0


def run_export(args: argparse.Namespace, console: Any) -> int:
    """`lerax export DIR [--out policy.onnx]`: the trained policy as an ONNX
    model, with the run's observation normalisation baked in, checked
    against JAX under onnxruntime."""
    from .._extras import require

    try:
        require("jax2onnx", "onnx")
        require("onnxruntime", "onnx")
    except ImportError as error:
        raise CLIError(str(error), 1) from None
    from ..export import MIN_OPSET, onnx_policy_fn, to_onnx
    from ..export._normalization import inner_normalizer
    from ..export._onnx import _mask_spec as mask_spec

    directory = Path(args.directory)
    out = Path(args.out) if args.out is not None else directory / "policy.onnx"
    if out.suffix != ".onnx":
        raise CLIError(f"--out must name an .onnx file, got {str(out)!r}.")
    if out.is_dir():
        raise CLIError(
            f"--out {str(out)!r} is a folder; give a file path such as "
            f"{str(out / 'policy.onnx')!r}."
        )
    blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise CLIError(
            f"--out {str(out)!r} cannot be written: {str(blocking)!r} is a file, "
            "not a folder. Choose another path."
        )
    if args.opset is not None and args.opset < MIN_OPSET:
        raise CLIError(f"--opset must be >= {MIN_OPSET}, got {args.opset}.")
    config, _, policy, env = load_run(directory)
    # the CLI's env chains put nothing that changes observations above it
    normalizer = inner_normalizer(env)
    options = {} if args.opset is None else {"opset": args.opset}
    try:
        model = to_onnx(  # written once checked, below
            policy,
            model_name=f"{config['run']['algorithm']}_{config['run']['env']}",
            action_mask=args.action_mask,
            normalization=normalizer,
            **options,
        )
    except ValueError as error:  # the options asked for (opset, masks)
        raise CLIError(f"Cannot export the policy: {error}") from None
    except TypeError as error:  # the run's policy
        raise CLIError(f"Cannot export the policy: {error}", 1) from None

    # the model against JAX on raw observations the env emits
    raw_env = env if normalizer is None else normalizer.env
    observations = _sample_observations(raw_env, key=jr.key(0))
    count = len(jax.tree.leaves(observations)[0])
    state = jax.vmap(lambda k: policy.reset(key=k))(jr.split(jr.key(1), count))
    seen = observations
    if normalizer is not None:
        statistics = normalizer.initial_statistics
        seen = jax.vmap(lambda o: normalizer.normalize(o, statistics))(observations)
    inputs: dict[str, Any] = {} if state is None else {"state": state}
    masks = None
    if args.action_mask:  # every action allowed: the unmasked choice
        spec = mask_spec(policy.action_space)
        masks = jnp.ones((count, *spec.shape), bool)
        inputs["action_mask"] = masks
    _, actions = jax.vmap(lambda s, o, m: policy(s, o, action_mask=m))(
        state, seen, masks
    )
    ours = onnx_policy_fn(model)(observations, **inputs)["action"]
    theirs = np.asarray(actions)
    agree = (
        np.allclose(ours, theirs, rtol=1e-4, atol=1e-5)
        if np.issubdtype(theirs.dtype, np.floating)
        else np.array_equal(ours, theirs)
    )
    if not agree:
        raise CLIError(
            f"The ONNX model and the JAX policy choose different actions on "
            f"sampled observations, so {str(out)!r} was not written; please "
            "report this.",
            1,
        )
    # only a model that agrees is written, atomically: a failed export keeps
    # the file already there
    data = model.SerializeToString()
    atomic_write(out, lambda file: file.write(data))
    names = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    takes = (
        "raw observations (the run's observation normalisation is in the graph)"
        if normalizer is not None
        else "observations"
    )
    console.print(
        f"Exported {config['run']['algorithm']} on {config['run']['env']} to {out}: "
        f"{names} -> {outputs}; it takes {takes}. onnxruntime and JAX agree on "
        f"{len(theirs)} sampled observations.",
        markup=False,
    )
    return 0


def _sample_observations(env: Any, *, key: Any, count: int = 64) -> Any:
    """`count` observations the env emits: one from each of `count` resets
    and a few random steps after it (the spread a deployed policy sees)."""

    @eqx.filter_jit
    def sample(key):
        def one(key):
            reset_key, run_key = jr.split(key)
            state, observation, _ = env.reset(key=reset_key)

            def step(carry, key):
                state, observation = carry
                action_key, step_key = jr.split(key)
                action = env.action_space.sample(key=action_key)
                state, observation, *_ = env.step(state, action, key=step_key)
                return (state, observation), None

            (_, observation), _ = jax.lax.scan(
                step, (state, observation), jr.split(run_key, 8)
            )
            return observation

        return jax.vmap(one)(jr.split(key, count))

    return sample(key)


def run_list(args: argparse.Namespace, console: Any) -> int:
    """`lerax list`: algorithms (with default policy and env), the policy
    classes (`--set policy.class=NAME` picks one) and env ids."""
    import lerax.env

    del args
    console.print("[bold]Algorithms[/] (default policy, default env):")
    for name in ALGORITHMS:
        console.print(f"  {name:<12} {DEFAULT_POLICY[name]:<22} {DEFAULT_ENV[name]}")
    console.print(
        "[bold]Policies[/] (--set policy.class=NAME) and the algorithms that train them:"
    )
    for name in POLICIES:
        console.print(f"  {name:<28} {', '.join(policy_algorithms(name))}")
    console.print("[bold]Environments[/]:")
    for env_id in lerax.env.registered():
        console.print(f"  {env_id}", markup=False)
    return 0


def policy_kind(cls: type) -> type | None:
    """The abstract policy family `cls` belongs to (e.g.
    `AbstractActorCriticPolicy`), or None for another policy."""
    from lerax.policy import (
        AbstractActorCriticPolicy,
        AbstractDeterministicPolicy,
        AbstractDiscreteSACPolicy,
        AbstractQPolicy,
        AbstractSACPolicy,
    )

    # the discrete SAC family before its parent: SAC and SAC-Discrete differ
    families = (
        AbstractActorCriticPolicy,
        AbstractQPolicy,
        AbstractDeterministicPolicy,
        AbstractDiscreteSACPolicy,
        AbstractSACPolicy,
    )
    return next((family for family in families if issubclass(cls, family)), None)


def policy_algorithms(name: str) -> list[str]:
    """The algorithms that train the policy class `name`: those whose default
    policy is of the same kind (the same abstract policy family, e.g.
    `AbstractActorCriticPolicy`)."""
    kind = policy_kind(policy_class(name))
    return [
        a
        for a in ALGORITHMS
        if kind is not None and policy_kind(policy_class(DEFAULT_POLICY[a])) is kind
    ]


BENCHMARK_BATCHES = 4  # PPO minibatches per epoch in `lerax benchmark`


def run_benchmark(args: argparse.Namespace, console: Any) -> int:
    """`lerax benchmark`: env steps per second of PPO on an env."""
    batch = args.num_envs * args.num_steps
    if args.num_envs >= 1 and args.num_steps >= 1 and batch % BENCHMARK_BATCHES:
        raise CLIError(
            f"--num-envs {args.num_envs} x --num-steps {args.num_steps} = {batch} "
            f"steps per iteration, which the benchmark's {BENCHMARK_BATCHES} "
            f"minibatches cannot split evenly: use a multiple of "
            f"{BENCHMARK_BATCHES} (e.g. --num-steps {args.num_steps * 4})."
        )
    config = build_config(
        algorithm="PPO",
        env_id=args.env_id,
        assignments=[
            f"num_envs={args.num_envs}",
            f"num_steps={args.num_steps}",
            "num_epochs=4",
            f"num_batches={BENCHMARK_BATCHES}",
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
