"""The one place where the command line picks its training callbacks.

Callbacks are imported lazily from `lerax.callback`: the progress bar, the
logging backends and checkpoints.
"""

from pathlib import Path
from typing import Any

from ._errors import CLIError

LOGGERS = ("console", "tensorboard", "wandb")


def _callback_module() -> Any:
    import lerax.callback

    return lerax.callback


def progress_bar(total_timesteps: int, description: str, console: Any) -> Any:
    """A `ProgressBarCallback` spanning the whole run."""
    from lerax.callback import ProgressBarCallback

    return ProgressBarCallback(
        total_timesteps, description=description, console=console
    )


def check_logger(kind: str | None, config: dict) -> None:
    """Raises a `CLIError` when the backend `kind` cannot be made (its extra
    is not installed): called before the output folder is created. Making a
    backend opens nothing."""
    if kind is not None:
        _backend(kind, Path("."), config)


def logger(kind: str, out: Path, config: dict, log_interval: int = 1) -> Any:
    """A `LoggingCallback` with the backend `kind` writing under `out`."""
    return _callback_module().LoggingCallback(
        _backend(kind, out, config),
        log_interval=log_interval,
        name=out.name,
        hparams=run_hparams(config),
    )


def _backend(kind: str, out: Path, config: dict) -> Any:
    """The logging backend `kind` writing under `out` (opened later)."""
    module = _callback_module()
    if not hasattr(module, "LoggingCallback"):
        raise CLIError(
            "`--logger` needs `lerax.callback.LoggingCallback`, which this "
            "version of lerax does not have.",
            1,
        )
    try:
        if kind == "console":
            backend = module.ConsoleBackend()
        elif kind == "tensorboard":
            backend = module.TensorBoardBackend(log_dir=out / "tb")
        elif kind == "wandb":
            backend = module.WandbBackend(
                project="lerax", dir=out, config=flat_config(config)
            )
        else:  # argparse restricts the choices
            raise CLIError(f"Unknown logger {kind!r}; use one of {LOGGERS}.")
    except ImportError as error:
        raise CLIError(str(error), 1) from None
    return backend


# the run settings that change what is trained (the algorithm's fields are
# recorded by `LoggingCallback` itself)
RUN_HPARAMS = (
    "env",
    "seed",
    "num_seeds",
    "total_timesteps",
    "lr_schedule",
    "normalize_observation",
    "normalize_reward",
)


def run_hparams(config: dict) -> dict[str, Any]:
    """The hyper-parameters `--logger` records besides the algorithm's
    fields: the run settings that shape training and the policy's
    constructor keywords (its widths, depths, activation: two runs that
    differ only there must not look alike)."""
    hparams = {key: config["run"][key] for key in RUN_HPARAMS}
    for key, value in config["policy"].items():
        if key != "class" and value is not None:
            hparams[f"policy.{key}"] = value
    return hparams


def checkpoint(directory: Path, every: int, keep: int = 3) -> Any:
    """A `CheckpointCallback` writing every `every` env steps into `directory`."""
    from lerax.callback import CheckpointCallback

    try:
        return CheckpointCallback(str(directory), save_freq=every, keep=keep)
    except ValueError as error:
        raise CLIError(str(error)) from None


def load_checkpoint(path: Path, like: Any) -> Any:
    """The training state saved at `path`, shaped like `like`."""
    from lerax.callback import load_checkpoint

    try:
        return load_checkpoint(path, like)
    except (ValueError, TypeError, FileNotFoundError) as error:
        raise CLIError(f"Cannot resume from {str(path)!r}: {error}", 1) from None


def latest_checkpoint(path: Path) -> Path:
    """`path` itself, or the newest checkpoint inside the folder `path` (or
    its `checkpoints/` subfolder)."""
    from lerax.callback import latest_checkpoint

    if path.is_file():
        return path
    for folder in (path / "checkpoints", path):
        newest = latest_checkpoint(folder)
        if newest is not None:
            return newest
    raise CLIError(f"No checkpoint at {str(path)!r}.")


def checkpoints_in(directory: Path) -> list[Path]:
    """The checkpoints a `CheckpointCallback` wrote into `directory`, oldest
    first (none when it does not exist)."""
    from lerax.callback import list_checkpoints

    return list_checkpoints(directory)


def flat_config(config: dict) -> dict[str, Any]:
    """`{"section.key": value}` for loggers that take flat hyper-parameters."""
    return {f"{s}.{k}": v for s, values in config.items() for k, v in values.items()}


def other_loggers(callbacks: list[Any]) -> list[list[Any]]:
    """The callback lists `lerax train` builds with the other `--logger`
    choice (none, or one: all backends keep the same state) than
    `callbacks` (progress bar first, then the logger, if any): the lists a
    run resumed with another `--logger` may have been checkpointed with."""
    module = _callback_module()
    if not hasattr(module, "LoggingCallback"):
        return []
    kept = [c for c in callbacks if not isinstance(c, module.LoggingCallback)]
    if len(kept) < len(callbacks):
        return [kept]
    stand_in = module.LoggingCallback(module.ConsoleBackend())  # opens nothing
    return [kept[:1] + [stand_in] + kept[1:]]
