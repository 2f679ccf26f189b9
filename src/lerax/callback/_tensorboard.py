"""`TensorBoardBackend`: TensorBoard event files via tensorboardX."""

from pathlib import Path
from typing import Any, final

import numpy as np

from .._extras import require
from ._backend import AbstractLoggingBackend


@final
class TensorBoardBackend(AbstractLoggingBackend):
    """Writes TensorBoard event files to `log_dir/<run name>` (needs the
    `logging` extra: `pip install "lerax[logging]"`).

    Hyper-parameters go to a text summary `hparams` (a Markdown table).

    Args:
        log_dir: The folder holding one sub-folder per run.
    """

    def __init__(self, log_dir: str | Path = "runs"):
        require("tensorboardX", "logging")
        self.log_dir = Path(log_dir)
        self._writer: Any = None
        self.run_dir: Path | None = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    def open(self, name: str) -> None:
        """Opens `log_dir/name`, or `log_dir/name_1`, `name_2`, ... when a
        run of that name already wrote there (runs never share a folder:
        tensorboardX names its event files by the second, so two writers in
        one folder could overwrite each other)."""
        if self.is_open:
            return
        from tensorboardX import SummaryWriter

        run_dir, count = self.log_dir / name, 0
        while run_dir.exists() and any(run_dir.iterdir()):
            count += 1
            run_dir = self.log_dir / f"{name}_{count}"
        self.run_dir = run_dir
        self._writer = SummaryWriter(logdir=str(self.run_dir))

    def log_hparams(self, hparams: dict[str, Any]) -> None:
        rows = "\n".join(f"| {k} | {v} |" for k, v in hparams.items())
        self._writer.add_text("hparams", f"| name | value |\n|---|---|\n{rows}", 0)

    def log_scalars(self, scalars: dict[str, float], step: int) -> None:
        for tag, value in scalars.items():
            self._writer.add_scalar(tag, value, step)

    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: float) -> None:
        # tensorboardX wants [N, T, C, H, W].
        video = np.transpose(np.asarray(frames), (0, 3, 1, 2))[None]
        self._writer.add_video(tag, video, step, fps=int(round(fps)))

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
