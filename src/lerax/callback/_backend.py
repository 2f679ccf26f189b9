"""`AbstractLoggingBackend`: where `LoggingCallback` and `EvalCallback` write."""

import abc
import functools
import math
import warnings
from typing import Any

import numpy as np


class AbstractLoggingBackend(abc.ABC):
    """A destination for scalars, hyper-parameters and videos (host side).

    Backends are ordinary mutable Python objects, never traced. Lifecycle:
    `open(name)` (idempotent: a backend shared by several callbacks opens
    once) -> `log_hparams`, `log_scalars`, `log_video` any number of times ->
    `flush()` (end of each `train`/`learn` call) -> `close()`.

    Scalars arrive as `{"episode/return": 21.5, "train/value_loss": ...}`
    with NaN values already dropped; `step` is the env-step count.

    A backend written for the earlier lerax (`open`, `log_hparams`,
    `log_scalars`, `log_video`, `close`) works unchanged: `flush` defaults to
    nothing, and a subclass that does not define `is_open` gets one that
    follows its own `open` and `close` calls.
    """

    def __init_subclass__(cls) -> None:
        if any(
            "is_open" in vars(k) for k in cls.__mro__ if k is not AbstractLoggingBackend
        ):
            return  # the backend keeps its own state
        for name, opened in (("open", True), ("close", False)):
            method = vars(cls).get(name)
            if method is not None and not getattr(method, "_tracks_open", False):
                setattr(cls, name, _tracking(method, opened))

    @property
    def is_open(self) -> bool:
        """Whether `open` has been called (and `close` has not). A subclass
        that knows better (a backend that can fail to open) overrides it."""
        return bool(getattr(self, "_backend_open", False))

    @abc.abstractmethod
    def open(self, name: str) -> None:
        """Starts a run called `name` (no-op if already open)."""

    @abc.abstractmethod
    def log_hparams(self, hparams: dict[str, Any]) -> None:
        """Records the run's hyper-parameters (called once per run)."""

    @abc.abstractmethod
    def log_scalars(self, scalars: dict[str, float], step: int) -> None:
        """Records scalars at env step `step`."""

    @abc.abstractmethod
    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: float) -> None:
        """Records a video, `frames` of shape `[T, H, W, C]`, dtype uint8."""

    def flush(self) -> None:
        """Makes everything logged so far durable/visible (default: nothing
        to do)."""
        return None

    @abc.abstractmethod
    def close(self) -> None:
        """Ends the run (no-op if not open)."""


def _tracking(method: Any, opened: bool) -> Any:
    """`method` (a backend's `open` or `close`) that also records, for the
    default `is_open`, whether the backend is now open."""

    @functools.wraps(method)
    def tracked(self: AbstractLoggingBackend, *args: Any, **kwargs: Any) -> Any:
        out = method(self, *args, **kwargs)
        self._backend_open = opened
        return out

    tracked._tracks_open = True  # type: ignore[attr-defined]
    return tracked


def finite_scalars(values: dict[str, float]) -> dict[str, float]:
    """Drops NaN/inf values (e.g. a return when no episode finished)."""
    return {k: float(v) for k, v in values.items() if math.isfinite(v)}


def call_safely(what: str, function: Any, *args: Any) -> None:
    """Runs a backend call; a failure becomes a warning (logging never kills
    a training run)."""
    try:
        function(*args)
    except Exception as error:  # noqa: BLE001
        warnings.warn(f"Logging backend failed to {what}: {error!r}", stacklevel=2)
