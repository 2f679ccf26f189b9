"""`WandbBackend`: Weights & Biases runs."""

from pathlib import Path
from typing import Any, final

import numpy as np

from .._extras import require
from ._backend import AbstractLoggingBackend


@final
class WandbBackend(AbstractLoggingBackend):
    """Logs to a Weights & Biases run (needs the `logging` extra:
    `pip install "lerax[logging]"`).

    Every metric is plotted against `global_step` (the env-step count), so
    callbacks that report at different times never trip W&B's monotonic
    step rule. Set `mode="offline"` (or `WANDB_MODE=offline`) to log
    without an account; `wandb sync` uploads later.

    Args:
        project: The W&B project.
        entity: The W&B entity (user or team).
        config: Extra configuration stored with the run.
        quiet: Keep W&B's own console output off (default True; the earlier
            lerax's `quiet` keyword, whose default was False).
        mode: `"online"`, `"offline"` or `"disabled"` (None: W&B's default).
        dir: Where W&B keeps its local files.
        tags: Run tags.
    """

    def __init__(
        self,
        project: str | None = None,
        config: dict[str, Any] | None = None,
        quiet: bool = True,
        *,
        entity: str | None = None,
        mode: str | None = None,
        dir: str | Path | None = None,
        tags: list[str] | None = None,
    ):
        require("wandb", "logging")
        self.project = project
        self.entity = entity
        self.config = dict(config or {})
        self.mode = mode
        self.dir = None if dir is None else str(dir)
        self.tags = tags
        self.quiet = bool(quiet)
        self.run: Any = None

    @property
    def is_open(self) -> bool:
        return self.run is not None

    def open(self, name: str) -> None:
        if self.is_open:
            return
        import wandb

        self.run = wandb.init(
            project=self.project,
            entity=self.entity,
            name=name,
            config=self.config,
            mode=self.mode,
            dir=self.dir,
            tags=self.tags,
            reinit="create_new",
            settings=wandb.Settings(
                console="off" if self.quiet else "auto", silent=self.quiet
            ),
        )
        self.run.define_metric("global_step")
        self.run.define_metric("*", step_metric="global_step")

    def log_hparams(self, hparams: dict[str, Any]) -> None:
        self.run.config.update(hparams, allow_val_change=True)

    def log_scalars(self, scalars: dict[str, float], step: int) -> None:
        self.run.log({**scalars, "global_step": step})

    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: float) -> None:
        import wandb

        video = np.transpose(np.asarray(frames), (0, 3, 1, 2))
        self.run.log(
            {
                tag: wandb.Video(video, fps=int(round(fps)), format="mp4"),
                "global_step": step,
            }
        )

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None
