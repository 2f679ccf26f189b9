"""The learning-curve plot (matplotlib, Agg backend, imported lazily)."""

from pathlib import Path
from typing import Any

import numpy as np

from ..utils import atomic_write

WINDOW = 10


def smooth(values: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Trailing moving average over the last `window` finite values (NaN
    where none is finite yet)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    sums = np.cumsum(np.where(finite, values, 0.0))
    counts = np.cumsum(finite)
    lag = lambda a: np.concatenate([np.zeros(window), a[:-window]])[: len(a)]
    total, count = sums - lag(sums), counts - lag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def learning_curve(
    path: Path, metrics: dict[str, Any], done: int, spi: int, *, title: str
) -> Path | None:
    """Plots `episode_return` against env steps and writes a PNG to `path`.

    With one seed: the per-iteration means and their moving average. With
    several (a leading seeds axis): the mean over seeds of the moving
    averages, with a min-max band.

    Returns:
        The path written, or None when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    returns = np.asarray(metrics.get("episode_return", np.zeros((0,))), np.float64)
    curves = returns if returns.ndim == 2 else returns[None]
    steps = (done + 1 + np.arange(curves.shape[1])) * spi
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    smoothed = np.stack([smooth(c) for c in curves]) if curves.size else curves
    if curves.shape[0] == 1:
        ax.plot(steps, curves[0], ".", alpha=0.3, label="mean return per iteration")
        ax.plot(steps, smoothed[0], "-", label=f"moving average ({WINDOW})")
    elif curves.size:
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(smoothed).any(axis=0)
            filled = np.where(np.isfinite(smoothed), smoothed, np.nan)
            mean = np.full(steps.shape, np.nan)
            low, high = mean.copy(), mean.copy()
            mean[valid] = np.nanmean(filled[:, valid], axis=0)
            low[valid] = np.nanmin(filled[:, valid], axis=0)
            high[valid] = np.nanmax(filled[:, valid], axis=0)
        ax.fill_between(steps, low, high, alpha=0.25, label="min-max over seeds")
        ax.plot(steps, mean, "-", label=f"mean of {curves.shape[0]} seeds")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()

    def write(file):
        fig.savefig(file, format="png")

    try:
        atomic_write(Path(path), write)
    finally:
        plt.close(fig)
    return Path(path)
