"""Host-side helpers shared by the reporting callbacks.

Reports leave the compiled program through `jax.debug.callback`. Under
`jax.vmap` over seeds such a callback is unrolled: the host receives one call
per seed, one after the other, each with that seed's values and the same
step. `StepGroups` pools consecutive calls that share a step, so a report
covers all seeds (sums are added, so means are over all their episodes), and
drops calls older than the newest step it has seen.
"""

import contextlib
import contextvars
import functools
import itertools
import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Int

# JAX refuses ordered effects in a program over several devices, and there
# each device runs its part of the program on its own thread. Host calls are
# then made from one device (the first of the program's), unordered: in that
# device's program they still run in sequence, as each report depends on its
# iteration's values, the loop on the start reports' results, and the end of
# training on the loop's result.
_HOST_DEVICE: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "lerax_host_device", default=None
)


@contextlib.contextmanager
def spanning_devices(device: Any) -> Iterator[None]:
    """While tracing in this context, callbacks' host calls run from `device`
    (a program over several devices); None leaves the setting as it is."""
    token = _HOST_DEVICE.set(_HOST_DEVICE.get() if device is None else device)
    try:
        yield
    finally:
        _HOST_DEVICE.reset(token)


_AFTER: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "lerax_host_after", default=None
)


@contextlib.contextmanager
def host_calls_after(value: Any) -> Iterator[None]:
    """While tracing in this context, host calls from one device of a program
    over several also take `value` (unused), so they run after it exists."""
    token = _AFTER.set(value)
    try:
        yield
    finally:
        _AFTER.reset(token)


_TOKENS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "lerax_host_tokens", default=None
)


@contextlib.contextmanager
def host_call_tokens() -> Iterator[list]:
    """While tracing in this context, each host call from one device of a
    program over several returns an int32 zero the host computed, collected
    in the yielded list: what depends on them runs after the calls."""
    tokens: list = []
    handle = _TOKENS.set(tokens)
    try:
        yield tokens
    finally:
        _TOKENS.reset(handle)


def host_device() -> Any:
    """The device host calls run from (None: one-device program, ordered)."""
    return _HOST_DEVICE.get()


def host_call(fn: Any, *args: Any) -> None:
    """Calls `fn(*args)` on the host from inside a compiled program:
    `jax.debug.callback(..., ordered=True)`, or from the first device of a
    program over several (see `spanning_devices`), unordered."""
    if host_device() is None:
        jax.debug.callback(fn, *args, ordered=True)
        return
    after = _AFTER.get()
    extra = () if after is None else (after,)
    tokens = _TOKENS.get()
    if tokens is None:
        # a debug callback, not an `io_callback`: under `jax.vmap` over seeds
        # the reports sit in `lax.cond`s with batched predicates, which JAX
        # allows for debug effects only
        jax.debug.callback(lambda *values: fn(*values[: len(args)]), *args, *extra)
        return
    from jax.experimental import io_callback

    def call(*values: Any) -> np.ndarray:
        fn(*values[: len(args)])
        return np.zeros((), np.int32)

    # the program's first device (XLA's maximal sharding on device 0)
    tokens.append(io_callback(call, jax.ShapeDtypeStruct((), np.int32), *args, *extra))


# Host objects by number, for the compiled programs' host calls (below).
# Held for the life of the process, as compiled programs are: a callback
# built inside a function the user jits is gone once it is traced, and its
# program (cached, or still running after `learn` returned) calls its host
# object later. Host objects are small (a console, a sink and its backends).
_HOSTS: dict[int, Any] = {}
_NUMBERS = itertools.count()


def _dispatch(method: str, bound: tuple, number: Any, *values: Any) -> None:
    getattr(_HOSTS[int(np.asarray(number))], method)(*bound, *values)


def _dispatch_when(
    method: str, bound: tuple, number: Any, when: Any, *values: Any
) -> None:
    if bool(np.asarray(when)):
        _dispatch(method, bound, number, *values)


@final
class HostRef(eqx.Module):
    """A callback's handle on its host-side object (progress bar, log sink).

    The compiled program reaches the host object through its number, an
    input of the program, rather than through the object itself: a new
    callback equal to an earlier one (same settings) runs the earlier one's
    compiled program and reports to its own host object. A host object held
    in a static field would be part of the program's identity (compared by
    `is`), and every new callback would recompile the training.

    Attributes:
        number: The host object's number (a 0-d int32 array).
    """

    number: Int[np.ndarray, ""]

    def __init__(self, host: Any):
        """Args:
        host: The host-side object (kept for the life of the process)."""
        number = next(_NUMBERS)
        _HOSTS[number] = host
        self.number = np.asarray(number, np.int32)

    @property
    def host(self) -> Any:
        """The host-side object (outside compiled code)."""
        return _HOSTS[int(self.number)]

    def call(
        self, method: str, *args: Any, bound: tuple = (), when: Any = None
    ) -> None:
        """From inside a compiled program: `host.<method>(*bound, *args)` on
        the host (`host_call`); `bound` holds Python values fixed at trace
        time, `args` the traced ones.

        `when` (a traced bool), if given, is checked on the host: pass the
        predicate of the `lax.cond` the call sits in. Under `jax.vmap` a
        predicate that differs between seeds turns the `cond` into a select
        that runs both branches, host calls included, for every seed."""
        if when is None:
            host_call(functools.partial(_dispatch, method, bound), self.number, *args)
            return
        host_call(
            functools.partial(_dispatch_when, method, bound),
            self.number,
            jnp.asarray(when, bool),
            *args,
        )


def first_device(tree: Any) -> Any:
    """The first device of the concrete arrays in `tree` placed on several
    devices (None if there are none)."""
    for x in jax.tree.leaves(tree):
        if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer):
            devices = x.sharding.device_set
            if len(devices) > 1:
                return min(devices, key=lambda d: d.id)
    return None


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

    @property
    def floor(self) -> int | None:
        """The step of the last completed group, if any (calls at or below
        it, with no group being filled, are stale)."""
        return self._floor

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


def file_in_the_way(path: str | Path) -> Path | None:
    """The file at `path` or at one of its parent folders, which keeps a
    folder from being made there (None when there is none)."""
    path = Path(path)
    return next((p for p in (path, *path.parents) if p.is_file()), None)


def format_number(value: float) -> str:
    """A short human-readable number (`1,234`, `0.0123`, `1.2e-05`)."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"


def format_fixed(value: float, digits: int) -> str:
    """`value` with `digits` decimals, never a negative zero: `-0.0`, or a
    small negative value that rounds to zero, reads `0.00`, not `-0.00`."""
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        return text[1:]
    return text


def format_duration(seconds: float) -> str:
    """`H:MM:SS`."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
