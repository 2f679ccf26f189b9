"""`ConsoleBackend`: metrics on the terminal with Rich."""

import math
from collections import deque
from typing import Any, final

import numpy as np

from ._backend import AbstractLoggingBackend
from ._host import format_fixed, format_number

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Any) -> str:
    """A one-line chart of `values` (`▁▃▅█`)."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(
        _BLOCKS[int((v - low) / span * (len(_BLOCKS) - 1)) if span > 0 else 0]
        for v in values
    )


@final
class ConsoleBackend(AbstractLoggingBackend):
    """Prints metrics to the console.

    On a terminal: a live Rich table of the latest metrics with a chart of
    the recent episode returns. Otherwise (CI, pipes): one plain line per
    log. Hyper-parameters are printed once as a table. Videos are ignored.

    Args:
        console: A `rich.console.Console` (default: stdout).
        chart_length: Returns kept for the chart.
    """

    def __init__(self, console: Any = None, *, chart_length: int = 60):
        self._console = console
        self._returns: deque[float] = deque(maxlen=chart_length)
        self._live: Any = None
        self._name: str | None = None

    @property
    def is_open(self) -> bool:
        return self._name is not None

    def _get_console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    @property
    def _interactive(self) -> bool:
        console = self._get_console()
        return console.is_interactive or console.is_jupyter

    def open(self, name: str) -> None:
        if self.is_open:
            return
        self._name = name
        self._returns.clear()
        self._get_console().print(f"Run {name}", markup=False, highlight=False)

    def log_hparams(self, hparams: dict[str, Any]) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Hyper-parameters", show_header=False)
        for key, value in hparams.items():
            # plain text: a value such as "[/]" or "[red]" is not Rich markup
            table.add_row(Text(str(key)), Text(str(value)))
        self._get_console().print(table)

    def _table(self, scalars: dict[str, float], step: int) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(f"{self._name}  step {step:,}"), show_header=False)
        for key in sorted(scalars):
            table.add_row(Text(key), format_number(scalars[key]))
        chart = sparkline(self._returns)
        if not chart:
            return table
        last = self._returns[-1]
        return Group(table, Text(f"episode/return  {chart}  {format_fixed(last, 2)}"))

    def log_scalars(self, scalars: dict[str, float], step: int) -> None:
        if "episode/return" in scalars:
            self._returns.append(scalars["episode/return"])
        console = self._get_console()
        if not self._interactive:
            fields = " | ".join(
                f"{k} {format_number(scalars[k])}" for k in sorted(scalars)
            )
            console.print(
                f"step {step:,} | {fields}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            return
        renderable = self._table(scalars, step)
        if self._live is None:
            from rich.errors import LiveError
            from rich.live import Live

            live = Live(renderable, console=console, auto_refresh=False)
            try:
                live.start()
            except LiveError:  # another live display (a progress bar) is active
                console.print(renderable)
                return
            self._live = live
        self._live.update(renderable, refresh=True)

    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: float) -> None:
        del tag, frames, step, fps

    def flush(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def close(self) -> None:
        self.flush()
        self._name = None
