"""`lerax train`: train, evaluate, and write policy, config, metrics and plot."""

import argparse
import csv
import dataclasses
import io
import platform
import sys
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..utils import atomic_write
from . import _callbacks, _toml
from ._config import Setup, build, build_config, check_seed, training_eval_key
from ._errors import CLIError
from ._plot import learning_curve


def run_train(args: argparse.Namespace, console: Any) -> int:
    """Runs `lerax train` with parsed arguments; returns the exit status.

    Bad arguments and settings are refused before the output folder is
    created or the run is announced."""
    from rich.markup import escape

    from ..callback._host import format_fixed

    fixed_devices = None
    if args.devices is not None:
        if args.devices < 1:
            raise CLIError(
                f"--devices must be >= 1 (the number of devices to train on), "
                f"got {args.devices}."
            )
        fixed_devices = _make_cpu_devices(args.devices)
    config_file = args.config
    resume = None
    if args.resume is not None:
        resume = _callbacks.latest_checkpoint(Path(args.resume))
        if config_file is None:
            config_file = _run_config_near(Path(args.resume))
    config = build_config(
        algorithm=args.algorithm,
        env_id=args.env_id,
        file=config_file,
        assignments=args.set or [],
        overrides={
            "total_timesteps": args.total_timesteps,
            "seed": args.seed,
            "num_seeds": args.num_seeds,
        },
    )
    run = config["run"]
    # checked when training only: runs trained before the check still load
    check_seed(run["seed"], "run.seed (--seed)", run["num_seeds"])
    resumed_config = None if resume is None else _run_config_near(Path(args.resume))
    if resumed_config is not None:
        _check_resumed_config(config, resumed_config)
    setup = build(config)
    algo = setup.algorithm
    try:
        iterations = algo.num_iterations(run["total_timesteps"])
    except (TypeError, ValueError) as error:
        raise CLIError(str(error)) from None
    num_seeds = run["num_seeds"]
    if resume is not None and num_seeds != 1:
        raise CLIError("`--resume` works with one seed (`--num-seeds 1`).")
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise CLIError(
            f"--checkpoint-every must be >= 1 env steps, got {args.checkpoint_every}."
        )
    if args.checkpoint_every and num_seeds != 1:
        raise CLIError(
            "`--checkpoint-every` works with one seed: a checkpoint holds one "
            "training state. Drop it, or train the seeds one by one (`--seed`)."
        )
    checkpoint_every = args.checkpoint_every
    if checkpoint_every is None and resumed_config is not None:
        # a resumed run goes on checkpointing as it did
        checkpoint_every = _recorded_checkpoint_every(resumed_config)
    mesh = None
    if args.devices is not None:
        mesh = _mesh(args.devices, algo.num_envs, num_seeds, fixed_devices)
    _check_trainable(setup, run)
    _callbacks.check_logger(args.logger, config)
    if args.out or resumed_config is not None:
        # the run resumed goes on in its folder unless --out is given
        out = Path(args.out) if args.out else resumed_config.parent
        if out.exists() and not out.is_dir():
            raise CLIError(f"--out {str(out)!r} is a file; pass a folder.")
        _check_no_other_checkpoints(out, resume)
        out.mkdir(parents=True, exist_ok=True)
    else:
        out = _new_default_out(run)
    spi = algo.steps_per_iteration

    description = f"{run['algorithm']} on {run['env']}"
    bar = _callbacks.progress_bar(iterations * spi, description, console)
    callbacks = [bar]
    log = None
    if args.logger:
        log = _callbacks.logger(args.logger, out, config, max(10, iterations // 100))
        callbacks.append(log)
    if checkpoint_every:
        callbacks.append(_callbacks.checkpoint(out / "checkpoints", checkpoint_every))
    # what config.toml records besides the settings (`--resume` reads it)
    record = {"versions": _versions()}
    if checkpoint_every:
        record["checkpointing"] = {"every": checkpoint_every}
    callback = callbacks or None

    console.print(
        f"[bold]{run['algorithm']}[/] on [bold]{run['env']}[/]: "
        f"{iterations * spi:,} steps ({iterations} "
        f"{'iteration' if iterations == 1 else 'iterations'} of {spi}), "
        f"seed {run['seed']}"
        + (f" (+{num_seeds - 1} more, vmapped)" if num_seeds > 1 else "")
        + f" -> {escape(str(out))}"
    )
    seeds = [run["seed"] + i for i in range(num_seeds)]
    if mesh is not None:
        spread = "seeds" in mesh.axis_names
        console.print(
            f"On {mesh.size} {mesh.devices.flat[0].platform} device(s): "
            + ("the seeds are spread over them." if spread else "the envs are split.")
        )
    state = _initial_state(setup, run, seeds, callback, resume)
    if mesh is not None and "seeds" in mesh.axis_names:
        from ..algorithm import shard_seeds

        state = shard_seeds(state, mesh)
    done = int(np.max(np.asarray(state.iteration)))
    if resume is not None:
        if done >= iterations:
            raise CLIError(
                f"The checkpoint {str(resume)!r} is at {done * spi:,} steps, and "
                f"--total-timesteps {run['total_timesteps']:,} leaves nothing to "
                f"train: pass a larger budget (more than {done * spi:,}) to continue."
            )
        console.print(f"Resuming from {resume} at iteration {done}.", markup=False)
    own_folder = resumed_config is not None and (
        out.resolve() == resumed_config.parent.resolve()
    )
    if not own_folder:  # a new run, or a run resumed into another folder
        _clear_earlier_outputs(out)
    # written now, so a run that crashes can be resumed with its settings
    # (`--resume` reads it); rewritten with the results at the end
    _toml.write(
        out / "config.toml",
        {**config, **record},
        header="lerax train configuration; rerun with `lerax train --config THIS`.",
    )

    start = time.perf_counter()
    try:
        state, metrics = _train(algo, state, done, iterations, callback, mesh)
        jax.block_until_ready(jax.tree.leaves(eqx.filter(state, eqx.is_array)))
    finally:
        if log is not None:
            log.close()
    seconds = time.perf_counter() - start

    # the policies, metrics and plot before the evaluation: an evaluation
    # that fails (e.g. out of memory with many eval_episodes) keeps them
    if num_seeds == 1:
        policies, env_states = [state.policy], [state.actors.env_state]
    else:
        policies = [_index(state.policy, i) for i in range(num_seeds)]
        env_states = [_index(state.actors.env_state, i) for i in range(num_seeds)]

    def save(policy: Any, env_state: Any, path: Path) -> tuple[Path, Path | None]:
        path = policy.serialize(path)
        if not setup.normalizes_observations:
            return path, None
        return path, setup.save_statistics(path, env_state)

    if num_seeds == 1:
        policy_path, statistics = save(policies[0], env_states[0], out / "policy.eqx")
    else:
        for seed, policy, env_state in zip(seeds, policies, env_states):
            save(policy, env_state, out / "policies" / f"seed_{seed}.eqx")
    first = done
    if resume is not None:  # keep the history of the run resumed
        earlier = _earlier_metrics(out / "metrics.csv", metrics, done)
        if earlier is not None:
            first, earlier = earlier
            metrics = {k: np.concatenate([earlier[k], metrics[k]]) for k in metrics}
    _write_csv(out / "metrics.csv", metrics, seeds, first, spi)
    plot = learning_curve(
        out / "learning_curve.png",
        metrics,
        first,
        spi,
        title=f"{run['algorithm']} on {run['env']}",
    )
    trained = (iterations - done) * spi
    console.print(
        f"Trained {trained:,} steps"
        + (f" x {num_seeds} seeds" if num_seeds > 1 else "")
        + f" in {seconds:.1f} s ({trained * num_seeds / max(seconds, 1e-9):,.0f} "
        "steps/s, compilation included)."
    )

    returns = _evaluate(setup, state, run, num_seeds)
    means = returns.mean(axis=-1)
    best = int(np.argmax(means))
    if num_seeds > 1:  # policy.eqx: the best seed's
        policy_path, statistics = save(
            policies[best], env_states[best], out / "policy.eqx"
        )
    written = [] if statistics is None else [statistics.name]
    if num_seeds > 1:
        written.append("policies/seed_*.eqx")
    written += ["config.toml", "metrics.csv"]
    result = {
        "timesteps": iterations * spi,
        "train_seconds": round(seconds, 3),
        "eval_episodes": run["eval_episodes"],
        "mean_return": float(means[best]),
        "std_return": float(returns[best].std()),
        "best_seed": seeds[best],
    }
    if num_seeds > 1:
        result["mean_return_over_seeds"] = float(means.mean())
    _toml.write(
        out / "config.toml",
        {**config, **record, "result": result},
        header="lerax train configuration; rerun with `lerax train --config THIS`.",
    )

    fixed = lambda x: format_fixed(x, 1)  # never "-0.0"
    episodes = run["eval_episodes"]
    if num_seeds > 1:
        for seed, mean, row in zip(seeds, means, returns):
            console.print(f"  seed {seed}: return {fixed(mean)} ± {fixed(row.std())}")
        console.print(
            f"Mean over {num_seeds} seeds: {fixed(means.mean())} "
            f"(min {fixed(means.min())}, max {fixed(means.max())}); "
            f"policy.eqx is seed {seeds[best]}'s."
        )
    console.print(
        f"[bold green]Evaluation: return {fixed(means[best])} ± "
        f"{fixed(returns[best].std())}[/] ({episodes} deterministic "
        + ("episode)" if episodes == 1 else "episodes)")
    )
    console.print(
        f"Wrote {policy_path}, "
        + ", ".join(written)
        + (", learning_curve.png" if plot else " (no plot: matplotlib missing)"),
        markup=False,
    )
    return 0


def _check_resumed_config(config: dict, saved_file: Path) -> None:
    """A resumed run continues the run in its folder: refuses settings that
    differ from the ones it was started with (the budget may grow)."""
    saved = build_config(file=saved_file)
    changed = [
        f"{section}.{key} = {config[section].get(key)!r} (the run has {value!r})"
        for section, values in saved.items()
        for key, value in values.items()
        if (section, key) not in (("run", "total_timesteps"), ("run", "eval_episodes"))
        and config.get(section, {}).get(key) != value
    ]
    changed += [
        f"{section}.{key} = {value!r} (not set in the run)"
        for section, values in config.items()
        for key, value in values.items()
        if key not in saved.get(section, {})
    ]
    if changed:
        raise CLIError(
            f"`--resume` continues the run configured in {str(saved_file)!r}, but "
            + "; ".join(changed)
            + ". Drop those settings (only --total-timesteps and "
            "eval_episodes may change), or start a new run."
        )


def _earlier_metrics(path: Path, metrics: dict, done: int) -> tuple[int, dict] | None:
    """`(first, earlier)`: the metrics of iterations `first + 1`..`done` from
    a run's `metrics.csv`, when it holds all of them with the same columns
    (None otherwise). `first` is 0 unless the run was itself resumed into
    its folder (its history starts at the checkpoint it resumed from)."""
    if not path.is_file() or done == 0:
        return None
    try:
        with open(path, newline="") as file:
            rows = [r for r in csv.DictReader(file) if int(r["iteration"]) <= done]
    except (KeyError, TypeError, ValueError, UnicodeDecodeError):
        return None  # not a metrics.csv of `lerax train`
    if not rows:
        return None
    first = int(rows[0]["iteration"]) - 1
    if [int(r["iteration"]) for r in rows] != list(range(first + 1, done + 1)):
        return None
    if set(rows[0]) != {"seed", "iteration", "timesteps", *metrics}:
        return None
    return first, {
        k: np.asarray([float(r[k]) for r in rows], np.asarray(v).dtype)
        for k, v in metrics.items()
    }


def _check_trainable(setup: Setup, run: dict) -> None:
    """Raises a `CLIError` when the algorithm cannot train the policy on the
    env (e.g. PPO with a Q policy): traces the initial state, computes nothing."""
    algo = setup.algorithm

    def init(key):
        policy_key, train_key = jr.split(key)
        policy = setup.make_policy(policy_key)
        total = run["total_timesteps"]
        return algo.init(setup.env, policy, key=train_key, total_timesteps=total)

    try:
        eqx.filter_eval_shape(init, jr.key(run["seed"]))
    except TypeError as error:
        raise CLIError(
            f"{run['algorithm']} cannot train on {run['env']}: {error}"
        ) from None


def _check_no_other_checkpoints(out: Path, resume: Path | None) -> None:
    """Refuses to train into a folder that holds the checkpoints of another
    run: they would outlive this run and `--resume` would continue them under
    this run's settings. Resuming one of them continues their run."""
    folder = out / "checkpoints"
    found = _callbacks.checkpoints_in(folder)
    if not found:
        return
    if resume is not None and resume.resolve() in {p.resolve() for p in found}:
        return
    raise CLIError(
        f"--out {str(out)!r} holds the checkpoints of an earlier run in "
        f"{str(folder)!r}, which `--resume` would mix with this run. Continue "
        f"that run with `lerax train --resume {out}`, train into a new --out "
        f"folder, or delete {str(folder)!r} first."
    )


# what `lerax train` (and `lerax export` by default) writes about a policy
OUTPUTS = ("policy.eqx", "metrics.csv", "learning_curve.png", "policy.onnx")


def _clear_earlier_outputs(out: Path) -> None:
    """Deletes the outputs an earlier run left in `out` (its policy, its
    observation statistics, its seeds' policies, metrics, plot and ONNX
    model) when a new run starts there, or a run is resumed there from
    another folder: until this run writes its own, a crash would leave them
    next to the new config.toml (`lerax evaluate` would report the earlier
    policy under the new settings), and a resumed run would take the
    earlier run's metrics.csv for its own history. Nothing else in the
    folder is touched."""
    from ..wrapper import normalization_path

    stale = [out / name for name in OUTPUTS]
    stale.append(normalization_path(out / "policy.eqx"))
    seeds = out / "policies"
    if seeds.is_dir():
        stale += seeds.glob("seed_*.eqx")
    for path in stale:
        if path.is_file() or path.is_symlink():
            path.unlink()
    if seeds.is_dir() and not any(seeds.iterdir()):
        seeds.rmdir()


def _recorded_checkpoint_every(config_file: Path) -> int | None:
    """The `--checkpoint-every` a run was trained with, as its config.toml
    records it (None when it did not checkpoint, or predates the record)."""
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    every = data.get("checkpointing", {}).get("every")
    valid = isinstance(every, int) and not isinstance(every, bool) and every >= 1
    return every if valid else None


def _run_config_near(path: Path) -> Path | None:
    for folder in (path, path.parent, path.parent.parent):
        if (folder / "config.toml").is_file():
            return folder / "config.toml"
    return None


def _new_default_out(run: dict) -> Path:
    """A new folder `runs/<algorithm>-<env>-<date>-<time>`, made for this
    run; `_2`, `_3`, ... are appended when another run (started within the
    same second, in this process or another) holds the name, so that runs
    never write into each other's folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{run['algorithm'].lower()}-{run['env']}-{stamp}"
    if base.parent.exists() and not base.parent.is_dir():
        raise CLIError(
            f"{str(base.parent)!r} is a file, so the run cannot go to its default "
            "folder there; pass --out DIR."
        )
    base.parent.mkdir(parents=True, exist_ok=True)
    out, count = base, 1
    while True:
        try:
            out.mkdir()  # atomic: one process gets each name
            return out
        except FileExistsError:
            count += 1
            out = base.with_name(f"{base.name}_{count}")


def _initial_state(
    setup: Setup, run: dict, seeds: list[int], callback: Any, resume: Path | None
) -> Any:
    algo, env = setup.algorithm, setup.env

    def init(key, callback=callback):
        policy_key, train_key = jr.split(key)
        return algo.init(
            env,
            setup.make_policy(policy_key),
            key=train_key,
            total_timesteps=run["total_timesteps"],
            callback=callback,
        )

    def like(callback):
        return eqx.filter_eval_shape(lambda k: init(k, callback), jr.key(seeds[0]))

    try:
        if resume is not None:
            return _load_resumed(resume, callback, like)
        if len(seeds) == 1:
            return eqx.filter_jit(init)(jr.key(seeds[0]))
        # uint32: seeds up to `MAX_SEED`, the keys `jr.key(seed)` makes
        keys = jax.vmap(jr.key)(jnp.asarray(seeds, dtype=jnp.uint32))
        return eqx.filter_jit(eqx.filter_vmap(init))(keys)
    except TypeError as error:
        raise CLIError(
            f"{run['algorithm']} cannot train on {run['env']}: {error}"
        ) from None


def _load_resumed(resume: Path, callback: Any, like: Any) -> Any:
    """The training state of the checkpoint `resume`. The callbacks' states
    are in it: a run resumed with another `--logger` than it was started
    with loads it as written and starts its callbacks afresh (they log and
    show progress; training itself does not depend on them)."""
    try:
        return _callbacks.load_checkpoint(resume, like(callback))
    except CLIError as error:
        for other in _callbacks.other_loggers(callback):
            try:
                state = _callbacks.load_checkpoint(resume, like(other))
            except CLIError:
                continue
            actors = dataclasses.replace(state.actors, callback_state=None)
            return dataclasses.replace(state, callback_state=None, actors=actors)
        raise error


def _make_cpu_devices(count: int) -> str | None:
    """On a CPU-only machine JAX makes one CPU device unless told otherwise:
    make `count` of them, unless their number is fixed already. Returns what
    fixed it (None when nothing did)."""
    import os

    from jax._src import xla_bridge

    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return "XLA_FLAGS (--xla_force_host_platform_device_count)"
    if jax.config.jax_num_cpu_devices >= 0:
        return "the jax_num_cpu_devices setting"
    if xla_bridge.backends_are_initialized():
        return "JAX, started before this command"
    if count > 1:
        jax.config.update("jax_num_cpu_devices", count)
    return None


def _mesh(count: int, num_envs: int, num_seeds: int, fixed: str | None) -> Any:
    """The mesh of `--devices count` (checked before anything compiles): the
    seeds are spread over it when they divide evenly, otherwise the envs.
    `fixed` names what fixed the number of CPU devices (None: the command
    made `count` of them)."""
    from ..algorithm import env_mesh, seed_mesh

    devices = jax.devices()
    available, platform = len(devices), devices[0].platform
    if count > available:
        if platform == "cpu" and fixed is not None:
            where = f"there are {available} cpu device(s), a number fixed by {fixed}"
        else:
            where = f"this machine has {available} {platform} device(s)"
        raise CLIError(f"--devices {count}: {where}; use 1 to {available}.")
    if num_seeds > 1 and num_seeds % count == 0:
        return seed_mesh(devices[:count])
    if num_envs % count:
        raise CLIError(
            f"--devices {count}: {num_envs} envs cannot be split evenly over the "
            f"{count} devices; use a multiple of {count} for num_envs "
            f"(`--set num_envs=...`) or a --devices that divides {num_envs}."
            + (
                f" Or spread the seeds: --num-seeds a multiple of {count}."
                if num_seeds > 1
                else ""
            )
        )
    return env_mesh(devices[:count])


def _train(algo, state, done, iterations, callback, mesh):
    remaining = iterations - done
    if remaining <= 0:
        return state, {}
    fn = lambda s: algo.train(s, remaining, callback=callback, mesh=mesh)
    if np.ndim(state.iteration):  # seeds
        fn = eqx.filter_vmap(fn)
    state, metrics = eqx.filter_jit(fn)(state)
    return state, jax.tree.map(np.asarray, metrics)


def _evaluate(setup: Setup, state: Any, run: dict, num_seeds: int) -> np.ndarray:
    """Each seed's evaluation returns, behind its training statistics."""
    from ..algorithm import evaluate_policy

    key = training_eval_key(run["seed"])

    def evaluate(policy, env_state):
        returns, _ = evaluate_policy(
            setup.evaluation_env(env_state),
            policy,
            key=key,
            num_episodes=run["eval_episodes"],
        )
        return returns

    args = (state.policy, state.actors.env_state)
    if num_seeds > 1:
        returns = eqx.filter_jit(eqx.filter_vmap(evaluate))(*args)
    else:
        returns = eqx.filter_jit(evaluate)(*args)[None]
    return np.asarray(returns, dtype=np.float64)


def _index(tree: Any, i: int) -> Any:
    return jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, tree)


def _versions() -> dict[str, str]:
    import lerax

    return {
        "lerax": lerax.__version__,
        "jax": jax.__version__,
        "equinox": eqx.__version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform} {jax.default_backend()}",
    }


def _write_csv(
    path: Path, metrics: dict, seeds: list[int], done: int, spi: int
) -> None:
    names = sorted(metrics)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["seed", "iteration", "timesteps", *names])
    columns = {
        k: np.asarray(v).reshape(len(seeds), -1)
        if len(seeds) > 1
        else np.asarray(v)[None]
        for k, v in metrics.items()
    }
    length = next(iter(columns.values())).shape[1] if columns else 0
    for s, seed in enumerate(seeds):
        for i in range(length):
            iteration = done + i + 1
            row = [seed, iteration, iteration * spi]
            row += [_number(columns[k][s, i]) for k in names]
            writer.writerow(row)
    data = buffer.getvalue().encode("utf-8")
    atomic_write(path, lambda file: file.write(data))


def _number(x: Any) -> str:
    """A metric as CSV text: the shortest decimal that reads back as the
    same value in its own precision (a float32 learning rate of 1e-3 is
    `0.001`, not `0.0010000000474974513`)."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        return str(int(x))
    if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize < 8:
        # NumPy's str of a float32 is its shortest round-trip form
        return repr(float(str(x[()])))
    return repr(float(x))
