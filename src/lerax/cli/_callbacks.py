"""The one place where the command line picks its training callbacks.

Callbacks are imported lazily: the progress bar and the logging backends
live in `lerax.callback`, checkpoints in `lerax.callback` as well. When a
callback is not available, the command line either falls back (the progress
bar: a host-side bar between compiled chunks of iterations) or stops with a
clear message (an explicit `--logger`/`--checkpoint-every`).
"""

from pathlib import Path
from typing import Any

from ._errors import CLIError

LOGGERS = ("console", "tensorboard", "wandb")


def _callback_module() -> Any:
    import lerax.callback

    return lerax.callback


def progress_bar(total_timesteps: int, description: str, console: Any) -> Any | None:
    """A `ProgressBarCallback` spanning the whole run, or None when this
    lerax has none (the caller then drives a host-side bar)."""
    cls = getattr(_callback_module(), "ProgressBarCallback", None)
    if cls is None:
        return None
    return cls(total_timesteps, description=description, console=console)


def logger(kind: str, out: Path, config: dict, log_interval: int = 1) -> Any:
    """A `LoggingCallback` with the backend `kind` writing under `out`."""
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
    run = config["run"]
    return module.LoggingCallback(
        backend,
        log_interval=log_interval,
        name=out.name,
        hparams={"seed": run["seed"], "num_seeds": run["num_seeds"], "env": run["env"]},
    )


def checkpoint(directory: Path, every: int, keep: int = 3) -> Any:
    """A `CheckpointCallback` writing every `every` env steps into `directory`."""
    module = _callback_module()
    if not hasattr(module, "CheckpointCallback"):
        raise CLIError(
            "`--checkpoint-every` needs `lerax.callback.CheckpointCallback`, which "
            "this version of lerax does not have.",
            1,
        )
    return module.CheckpointCallback(str(directory), every=every, keep=keep)


def load_checkpoint(path: Path, like: Any) -> Any:
    """The training state saved at `path`, shaped like `like`."""
    module = _callback_module()
    load = getattr(module, "load_checkpoint", None)
    if load is None:
        try:
            from lerax.callback._checkpoint import load_checkpoint as load
        except ImportError:
            raise CLIError(
                "`--resume` needs `lerax.callback.load_checkpoint`, which this "
                "version of lerax does not have.",
                1,
            ) from None
    try:
        return load(path, like)
    except (ValueError, TypeError) as error:
        raise CLIError(f"Cannot resume from {str(path)!r}: {error}", 1) from None


def latest_checkpoint(path: Path) -> Path:
    """`path` itself, or the newest checkpoint file inside the folder `path`
    (or its `checkpoints/` subfolder)."""
    if path.is_file():
        return path
    for folder in (path / "checkpoints", path):
        if folder.is_dir():
            files = [p for p in folder.iterdir() if p.is_file() and _is_ckpt(p)]
            if files:
                return max(files, key=lambda p: (p.stat().st_mtime, p.name))
    raise CLIError(f"No checkpoint at {str(path)!r}.", 1)


def _is_ckpt(path: Path) -> bool:
    return not path.name.startswith(".") and path.suffix in (".eqx", ".ckpt")


def flat_config(config: dict) -> dict[str, Any]:
    """`{"section.key": value}` for loggers that take flat hyper-parameters."""
    return {f"{s}.{k}": v for s, values in config.items() for k, v in values.items()}
