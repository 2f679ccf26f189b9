"""`TensorBoardBackend`: TensorBoard event files via tensorboardX."""

from pathlib import Path
from typing import Any, final

import numpy as np

from .._extras import require
from ._backend import AbstractLoggingBackend

# Characters with a meaning inside a Markdown table cell: escaped with a
# backslash (`|` would end the cell, `*`/`_`/backticks/brackets format).
_MARKDOWN_SPECIAL = frozenset("\\|`*_[]")


def markdown_cell(value: Any) -> str:
    """`str(value)` as the text of one Markdown table cell, shown as written:
    Markdown's special characters escaped, `&` and `<` as HTML entities (no
    HTML reaches the page), line breaks as `<br>` (a table row is one line)."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    text = "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)
    return "<br>".join(text.splitlines())


def hparams_markdown(hparams: dict[str, Any]) -> str:
    """The hyper-parameters as a two-column Markdown table."""
    rows = "".join(
        f"\n| {markdown_cell(k)} | {markdown_cell(v)} |" for k, v in hparams.items()
    )
    return "| name | value |\n|---|---|" + rows


@final
class TensorBoardBackend(AbstractLoggingBackend):
    """Writes TensorBoard event files to `log_dir/<run name>` (needs the
    `logging` extra: `pip install "lerax[logging]"`).

    Hyper-parameters go to a text summary `hparams` (a Markdown table).

    Args:
        log_dir: The folder holding one sub-folder per run (default `runs`,
            as PyTorch's `SummaryWriter`; the earlier lerax's default was
            `logs`: pass `log_dir="logs"` to keep that layout).
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
        run of that name already wrote there or a file holds that name (runs
        never share a folder: tensorboardX names its event files by the
        second, so two writers in one folder could overwrite each other)."""
        if self.is_open:
            return
        from tensorboardX import SummaryWriter

        run_dir, count = self.log_dir / name, 0
        while run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
            count += 1
            run_dir = self.log_dir / f"{name}_{count}"
        self.run_dir = run_dir
        self._writer = SummaryWriter(logdir=str(self.run_dir))

    def log_hparams(self, hparams: dict[str, Any]) -> None:
        self._writer.add_text("hparams", hparams_markdown(hparams), 0)

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
