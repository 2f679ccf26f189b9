"""Host-side helpers shared by the reporting callbacks.

Reports leave the compiled program through `jax.debug.callback`. Under
`jax.vmap` over seeds such a callback is unrolled: the host receives one call
per seed, one after the other, each with that seed's values and the same
step. `StepGroups` pools consecutive calls that share a step, so a report
covers all seeds (sums are added, so means are over all their episodes), and
drops calls older than the newest step it has seen.
"""

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_float(x: Any) -> float:
    """A host value (NumPy scalar or 0-d array) as a Python float."""
    return float(np.asarray(x))


def ratio(total: float, count: float) -> float:
    """`total / count`, or NaN when `count` is 0."""
    return total / count if count > 0 else math.nan


class StepGroups:
    """Pools calls that share a step; hands back a group once it is complete.

    A group is complete when a call with a larger step arrives, or on
    `flush()`. Calls with a smaller step than the current group are stale and
    ignored. Values are summed over a group (and counted in `runs`).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forgets everything (a new run starts)."""
        self._step: int | None = None
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._runs = 0
        self._time = 0.0
        self._floor: int | None = None

    @property
    def step(self) -> int | None:
        """The step of the group being filled, if any."""
        return self._step

    def add(
        self, step: int, values: Mapping[str, float]
    ) -> tuple[int, dict[str, float], int, float] | None:
        """Adds one call; returns the group it completed, if any.

        Returns:
            None, or `(step, means, runs, time)` of the completed group where
            `means` averages each value over the calls in which it was finite.
        """
        completed = None
        if self._step is not None and step < self._step:
            return None
        if self._step is None and self._floor is not None and step <= self._floor:
            return None
        if self._step is not None and step > self._step:
            completed = self.flush()
        if self._step is None:
            self._step = step
            self._time = time.perf_counter()
        self._runs += 1
        for name, value in values.items():
            if math.isfinite(value):
                self._sums[name] = self._sums.get(name, 0.0) + value
                self._counts[name] = self._counts.get(name, 0) + 1
        return completed

    def current(self) -> dict[str, float]:
        """Sums of the group being filled (finite values only)."""
        return dict(self._sums)

    def flush(self) -> tuple[int, dict[str, float], int, float] | None:
        """Completes the current group (if any) and returns it."""
        if self._step is None:
            return None
        means = {k: self._sums[k] / self._counts[k] for k in self._sums}
        out = (self._step, means, self._runs, self._time)
        step = self._step
        self.reset()
        # Remember the step so that late calls for it count as stale.
        self._floor = step
        return out


def format_number(value: float) -> str:
    """A short human-readable number (`1,234`, `0.0123`, `1.2e-05`)."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"


def format_duration(seconds: float) -> str:
    """`H:MM:SS`."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
