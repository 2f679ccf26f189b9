"""`LoggingCallback`: training metrics to one or more logging backends."""

import dataclasses
import datetime
import math
import time
from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Key

from ._backend import AbstractLoggingBackend, call_safely, finite_scalars
from ._base import (
    AbstractCallback,
    IterationContext,
    ResetContext,
    TrainingContext,
    python_scalar,
)
from ._episodes import EpisodeAccumulator
from ._host import HostRef, StepGroups, host_device, ratio, to_float
from ._progress import report_due, run_description, running

# Metrics reported under `episode/` rather than `train/`.
_EPISODE_METRICS = ("episode_return", "episode_length", "episodes")


def as_backends(backend: Any, owner: str) -> tuple[AbstractLoggingBackend, ...]:
    """One backend or a sequence of them, checked."""
    backends = tuple(backend) if isinstance(backend, Sequence) else (backend,)
    for b in backends:
        if not isinstance(b, AbstractLoggingBackend):
            raise TypeError(
                f"`{owner}(backend=...)` takes logging backends (`ConsoleBackend()`, "
                f"`TensorBoardBackend(log_dir=...)`, `WandbBackend(project=...)`), "
                f"got {type(b).__name__}."
            )
    return backends


def _scalar(array: np.ndarray) -> Any:
    """The Python number of a one-element array; a float32 (or float16) as
    the shortest decimal that reads back as it (`0.99`, not
    `0.9900000095367432`)."""
    value = array.reshape(()).item()
    if isinstance(value, float) and array.dtype.itemsize < 8:
        return float(str(array.reshape(())[()]))
    return value


def _plain(value: Any) -> Any:
    """A hyper-parameter as a loggable Python value, or None to skip it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray, jax.Array)) and not isinstance(
        value, jax.core.Tracer
    ):
        array = np.asarray(value)  # NumPy scalars too, e.g. np.float32(0.99)
        return _scalar(array) if array.size == 1 else None
    return None


def _host_value(name: Any, value: Any) -> Any:
    """An extra hyper-parameter as a plain Python value (arrays and NumPy
    scalars as numbers, or nested tuples), fit for a static field."""
    if isinstance(value, jax.core.Tracer):
        raise TypeError(
            f"`LoggingCallback(hparams=...)` records values on the host, but "
            f"{name!r} is a traced array; pass a concrete value (build the "
            "callback outside `jax.jit`/`jax.vmap`, or pass a Python number)."
        )
    if isinstance(value, (np.ndarray, np.generic, jax.Array)):
        array = np.asarray(value)
        if array.size == 1:
            return _scalar(array)

        def tuples(x: Any) -> Any:
            return tuple(map(tuples, x)) if isinstance(x, list) else x

        return tuples(array.tolist())
    return value


def _function_name(fn: Any) -> str | None:
    """A readable name of a schedule function: `"cosine_decay_schedule"` for
    the inner function an optax factory returns, None for a lambda."""
    fn = getattr(fn, "func", fn)  # a functools.partial
    qualname = getattr(fn, "__qualname__", None)
    if qualname is None:  # a callable object
        return type(fn).__name__
    parts = qualname.split(".")
    name = parts[-1]
    if name == "schedule" and "<locals>" in parts:  # an optax factory's
        name = parts[parts.index("<locals>") - 1]
    return None if name in ("", "<lambda>", "schedule") else name


def _start_value(fn: Any) -> float | None:
    """`fn(0)` as a float when it is a number computed on the host now (also
    while tracing), None otherwise."""
    try:
        with jax.ensure_compile_time_eval():
            value = np.asarray(fn(0))
    except Exception:  # noqa: BLE001 (not a schedule, or not computable now)
        return None
    if value.size != 1 or not np.issubdtype(value.dtype, np.number):
        return None
    return float(value.item())


def describe_schedule(fn: Any) -> str:
    """A schedule (e.g. an optax learning-rate schedule) as a hyper-parameter
    a reader can use: `"schedule (polynomial_schedule), 0.001 at update 0"`;
    the name when it has one, the value at update 0 when `fn(0)` is a number
    computed on the host."""
    name = _function_name(fn)
    text = "schedule" if name is None else f"schedule ({name})"
    start = _start_value(fn)
    if start is not None:
        text += f", {start:.6g} at update 0"
    return text


def extract_hparams(algorithm: Any, policy: Any) -> dict[str, Any]:
    """The algorithm's scalar fields and a short description of the policy
    (class, scalar fields, parameter count). A callable field of the
    algorithm (a learning-rate schedule) is described by `describe_schedule`,
    the same text for every backend."""
    out: dict[str, Any] = {"algorithm": type(algorithm).__name__}
    for field in dataclasses.fields(algorithm):
        value = getattr(algorithm, field.name)
        is_function = callable(value) and not isinstance(value, (type, eqx.Module))
        value = describe_schedule(value) if is_function else _plain(value)
        if value is not None:
            out[f"algorithm.{field.name}"] = value
    out["policy"] = type(policy).__name__
    for field in dataclasses.fields(policy):
        value = getattr(policy, field.name)
        value = None if callable(value) else _plain(value)
        if value is not None:
            out[f"policy.{field.name}"] = value
    leaves = jax.tree.leaves(eqx.filter(policy, eqx.is_inexact_array))
    out["policy.num_parameters"] = int(sum(np.prod(x.shape) for x in leaves))
    return out


def run_prefix(algorithm: Any, env: Any) -> str:
    """`"PPO_CartPole"` (the algorithm and the env's `name`): a default run
    name before its time stamp."""
    return run_description(algorithm, env).replace(" on ", "_")


_STAMPED: set[str] = set()


def stamped(prefix: str) -> str:
    """`"PPO_CartPole_20260101_120000"`: the prefix and the time now (on the
    host when a run starts, not when its program was traced: a compiled
    program serves later runs too). Unique in the process: runs that start
    within the same second get `_2`, `_3`, ... appended."""
    name = prefix + "_" + datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    unique, count = name, 1
    while unique in _STAMPED:
        count += 1
        unique = f"{name}_{count}"
    _STAMPED.add(unique)
    return unique


class LogSink:
    """Host side shared by `LoggingCallback` and `EvalCallback`: opens the
    backends, logs hyper-parameters once, pools per-seed reports of one step
    and writes them."""

    def __init__(
        self,
        backends: tuple[AbstractLoggingBackend, ...],
        name: Any,
        *,
        open_late: bool = False,
    ):
        """Args:
        backends: The backends.
        name: The run name (None: `stamped(prefix)` at the first opening).
        open_late: Open the backends at the first write rather than at the
            start: a sink that shares its backends with a `LoggingCallback`
            (`EvalCallback`'s) then never opens them before that callback
            has, under its run name, whatever the callbacks' order.
        """
        self.backends = backends
        self.name = name
        self._given_name = name
        self._open_late = open_late
        self._prefix = ""
        self._hparams: dict[str, Any] = {}
        self._groups = StepGroups()
        # episode sums (return, length, count) of end reports older than the
        # group being filled: seeds stopped early under vmap
        self._late = np.zeros(3)
        self._hparams_logged = False
        self._last: tuple[int, float] | None = None
        self._fresh_start: int | None = None
        self._high: int | None = None  # the largest step of the open run
        # whether this sink opened the backends: a late-opening sink that
        # shares them with a `LoggingCallback` leaves their runs to it, one
        # that opened them itself (an `EvalCallback` alone) starts new ones
        self._owns = False

    def start(self, prefix: str, hparams: dict[str, Any], step: Any) -> None:
        """A run starts at `step`: opens the backends that are not open
        (under `name`, default `stamped(prefix)`; at the first write with
        `open_late`) and logs `hparams` once. A start below a step of the
        open run (a fresh `learn` after an earlier one) starts a new run:
        the backends are closed and reopened, so that no event file or W&B
        run holds two runs' curves over the same steps (by the sink that
        opened them: with `open_late`, only if no other sink did)."""
        step = int(step)
        if self._fresh_start == step:
            return  # the same start from another seed under vmap
        owner = not self._open_late or self._owns
        if owner and self._high is not None and step < self._high:
            self.close()
        self._fresh_start = step
        self._high = step if self._high is None else max(self._high, step)
        self._groups.reset()
        self._late = np.zeros(3)
        self._prefix, self._hparams = prefix, hparams
        if not self._open_late:
            self._open()
        self._last = (step, time.perf_counter())

    def _open(self) -> None:
        """Opens the backends that are not open and logs the hyper-parameters
        once."""
        closed = [backend for backend in self.backends if not backend.is_open]
        if closed:
            self.name = self.name or stamped(self._prefix)
            for backend in closed:
                call_safely("open", backend.open, self.name)
            self._hparams_logged = False
            self._owns = True
        if not self._hparams_logged and self._hparams:
            for backend in self.backends:
                if backend.is_open:  # one that failed to open has warned
                    call_safely(
                        "log hyper-parameters", backend.log_hparams, self._hparams
                    )
            self._hparams_logged = True

    def report_packed(self, names: tuple[str, ...], step: Any, packed: Any) -> None:
        """`report` with the values packed in one vector (in `names` order)."""
        self.report(step, dict(zip(names, np.asarray(packed).tolist())))

    def report(self, step: Any, values: dict[str, Any]) -> None:
        self._fresh_start = None
        values = {k: to_float(v) for k, v in values.items()}
        done = self._groups.add(int(step), values)
        if done is not None:
            self._write(*done)

    def complete(self, step: Any) -> None:
        """Every report of `step` has arrived (the host call made right
        after them, in one-device programs): writes their pooled log now
        rather than when a later step's report arrives. Under `vmap` it
        comes once per seed, after all their reports; the first writes, the
        others find nothing left."""
        if self._groups.step == int(step):
            done = self._groups.flush()
            if done is not None:
                self._write(*done)

    def report_end_packed(self, names: tuple[str, ...], step: Any, packed: Any) -> None:
        """The episodes a run finished after its last log, reported at its
        end. Under `vmap` a seed stopped early ends at a step below logs
        already pooled from the seeds that went on: its episodes are logged
        with the next write, or by `end` at the last log's step, instead of
        being dropped as stale."""
        values = dict(zip(names, np.asarray(packed).tolist()))
        current = self._groups.step
        floor = self._groups.floor
        step = int(step)
        if (current is not None and step < current) or (
            current is None and floor is not None and step <= floor
        ):
            self._fresh_start = None
            self._late += [
                to_float(values.get(f"episode/{name}", 0.0))
                for name in ("return_sum", "length_sum", "count")
            ]
            return
        self.report(step, values)

    def _write(self, step: int, means: dict[str, float], runs: int, at: float) -> None:
        scalars = dict(means)
        count = scalars.pop("episode/count", math.nan)
        late_return, late_length, late_count = self._late
        self._late = np.zeros(3)
        totals = {}
        for name in ("return", "length"):
            totals[name] = scalars.pop(f"episode/{name}_sum", math.nan)
        if math.isfinite(count) or late_count > 0:
            # means over the group's calls, times its runs: the sums over
            # all of them, plus the late episodes of seeds stopped earlier
            runs_count = count * runs if math.isfinite(count) else 0.0
            total_count = runs_count + late_count
            for name, late in (("return", late_return), ("length", late_length)):
                total = totals[name] * runs if math.isfinite(count) else 0.0
                scalars[f"episode/{name}"] = ratio(total + late, total_count)
            scalars["episode/count"] = total_count
        if self._last is not None and "time/steps_per_second" in scalars:
            last_step, last_time = self._last
            if at > last_time and step > last_step:
                scalars["time/steps_per_second"] = (
                    (step - last_step) / (at - last_time) * runs
                )
            else:
                del scalars["time/steps_per_second"]
            self._last = (step, at)
        scalars = finite_scalars(scalars)
        self._high = step if self._high is None else max(self._high, step)
        if self._open_late:
            self._open()
        for backend in self.backends:
            if backend.is_open:
                call_safely("log scalars", backend.log_scalars, scalars, step)

    def end(self, step: Any) -> None:
        del step
        self._fresh_start = None
        done = self._groups.flush()
        if done is None and self._late[2] > 0:
            # nothing pooled since: the late episodes are a log of their own
            floor = self._groups.floor
            done = (0 if floor is None else floor, {}, 1, time.perf_counter())
        if done is not None:
            self._write(*done)
        for backend in self.backends:
            if backend.is_open:
                call_safely("flush", backend.flush)

    def close(self) -> None:
        self.end(0)
        for backend in self.backends:
            call_safely("close", backend.close)
        self._hparams_logged = False
        self._high = None
        self._owns = False
        self.name = self._given_name  # a later run is a new one


_EARLIER_VIDEO = ("video_num_steps", "video_width", "video_height", "video_fps")


def _check_earlier_keywords(earlier: dict[str, Any]) -> None:
    """Accepts the earlier lerax's `LoggingCallback` keywords that mean
    nothing here (`alpha`, `video_interval=0`) and refuses the rest,
    saying what to write instead."""
    unknown = sorted(set(earlier) - {"alpha", "video_interval", *_EARLIER_VIDEO})
    if unknown:
        raise TypeError(
            f"`LoggingCallback` got unexpected keyword argument(s) {unknown}."
        )
    if earlier.get("video_interval", 0) or any(k in earlier for k in _EARLIER_VIDEO):
        raise TypeError(
            "`LoggingCallback` records no videos (the earlier lerax's "
            "`video_interval`, `video_num_steps`, `video_width`, `video_height`, "
            "`video_fps`): pass `EvalCallback(env, eval_freq=..., "
            "video_dir=...)` beside it, which records evaluation episodes."
        )


@final
class LoggingCallback(AbstractCallback):
    """Logs training metrics to one or more backends (`ConsoleBackend`,
    `TensorBoardBackend`, `WandbBackend`, or your own
    `AbstractLoggingBackend`).

    Every `log_interval` iterations (and at the last iteration of each
    `train`/`learn` call) it logs, against the env-step count:

    - `episode/return`, `episode/length`: undiscounted, mean over all
      episodes finished since the previous log (sums are kept in the
      callback state in between), and `episode/count`;
    - `train/<name>` for every metric of the algorithm (each loss term,
      `learning_rate`, `explained_variance`, `alpha`, DQN's
      `exploration_rate`, ...), as of the
      logging iteration;
    - `time/steps_per_second` (wall clock, host side);

    and once per run the hyper-parameters (the algorithm's scalar fields, a
    description of the policy, and `hparams`). Under `jax.vmap` over seeds,
    each log pools all seeds (means over seeds and their episodes); a seed
    stopped early logs the episodes it finished after its last log at the
    step of the batch's last log. In a one-device program each log is written before
    the next iteration runs; over several devices, when the next log (or
    the end of training) arrives.

    Backends are opened at the first training start and stay open across
    `learn`/`train` calls that go on from where the run got to (`train` in
    chunks, a resumed `learn`) until `close()` (or the end of a `with`
    block). A call that starts below a step already logged (a fresh `learn`
    after an earlier one) is a new run: the backends are closed and reopened
    (a new TensorBoard folder or W&B run) and the hyper-parameters logged
    again.

    A new `LoggingCallback` with the same settings (backends aside) runs the
    compiled program of an earlier one: backends live on the host side.

    Attributes:
        log_interval: Iterations between logs.
        hparams: The extra hyper-parameters, as `(name, value)` pairs.
        host_ref: The handle on the host side (a `LogSink`, which holds the
            backends).
    """

    log_interval: int = eqx.field(static=True)
    hparams: tuple[tuple[str, Any], ...] = eqx.field(static=True)
    host_ref: HostRef

    def __init__(
        self,
        backend: AbstractLoggingBackend | Sequence[AbstractLoggingBackend],
        name: str | None = None,
        env: Any = None,
        policy: Any = None,
        *,
        log_interval: int = 10,
        hparams: dict[str, Any] | None = None,
        **earlier: Any,
    ):
        """Args:
        backend: A backend or a sequence of backends.
        env: Accepted for the earlier lerax's
            `LoggingCallback(backend, name, env, policy)`; not needed: the
            default run name is taken from the algorithm and env being trained
            when the run starts.
        policy: Accepted like `env`, and not needed (the policy's description
            is logged with the hyper-parameters).
        log_interval: Iterations between logs (int >= 1). A log costs about
            1-4 ms (host transfer and backend work, measured with
            `bench/logging_overhead.py`), so the default of 10 keeps logging
            under ~5% once an iteration takes a few milliseconds; log every
            iteration only when iterations are long.
        name: The run name (default `"<algorithm>_<env>_<date>_<time>"`).
        hparams: Extra hyper-parameters to record (e.g. a seed); names are
            strings, arrays and NumPy scalars are recorded as Python numbers
            (or tuples of them).
        **earlier: The earlier lerax's `alpha` (the weight of its moving
            average of returns; accepted without effect: the logged return
            is the plain mean of the episodes finished since the last log)
            and `video_interval=0`. Its videos (`video_interval > 0` and
            `video_num_steps`, `video_width`, `video_height`, `video_fps`)
            are recorded by `EvalCallback(env, eval_freq=..., video_dir=...)`
            here, which a `TypeError` says.

        Raises:
            TypeError: If a backend is not an `AbstractLoggingBackend`, an
                `hparams` value is a traced array, or a keyword is unknown
                or asks for the earlier lerax's videos.
            ValueError: If `log_interval` is not an int >= 1.
        """
        _check_earlier_keywords(earlier)
        log_interval = python_scalar(log_interval)  # NumPy ints too
        if (
            not isinstance(log_interval, int)
            or isinstance(log_interval, bool)
            or (log_interval < 1)
        ):
            raise ValueError(
                f"`LoggingCallback(log_interval=...)` must be an int >= 1, got "
                f"{log_interval!r}."
            )
        del env, policy  # named from the run being trained, at its start
        self.log_interval = log_interval
        self.hparams = tuple(
            (str(k), _host_value(k, v)) for k, v in (hparams or {}).items()
        )
        self.host_ref = HostRef(LogSink(as_backends(backend, "LoggingCallback"), name))

    @property
    def sink(self) -> LogSink:
        """The host side: pools the reports and writes them to the backends."""
        return self.host_ref.host

    @property
    def backends(self) -> tuple[AbstractLoggingBackend, ...]:
        """The backends."""
        return self.sink.backends

    def close(self) -> None:
        """Writes what is pending and closes every backend."""
        self.sink.close()

    def __enter__(self) -> "LoggingCallback":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EpisodeAccumulator:
        del ctx, key
        return EpisodeAccumulator.zeros()

    def on_training_start(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        # Trace time: Python values only; the host call runs at every run.
        hparams = {
            **extract_hparams(ctx.algorithm, ctx.state.policy),
            **dict(self.hparams),
        }
        prefix = run_prefix(ctx.algorithm, ctx.state.env)
        self.host_ref.call("start", ctx.num_timesteps, bound=(prefix, hparams))
        return ctx.callback_state

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> Any:
        del key
        episodes = ctx.callback_state.add(ctx.rollout)
        train = {
            f"train/{k}": v for k, v in ctx.metrics.items() if k not in _EPISODE_METRICS
        }

        due = report_due(ctx, self.log_interval)

        def log(operands):
            return self._report(*operands)

        # Operands passed explicitly rather than closed over: measured cheaper.
        return jax.lax.cond(
            due,
            log,
            lambda operands: operands[0],
            (episodes, train, ctx.num_timesteps, due & running(ctx)),
        )

    def on_training_end(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        # Episodes that ended after the last log: a run stopped early (e.g.
        # by `EvalCallback(stop_at_return=...)`) ends between logs
        pending = ctx.callback_state.episodes > 0
        episodes = jax.lax.cond(
            pending,
            lambda operands: self._report(*operands, method="report_end_packed"),
            lambda operands: operands[0],
            (ctx.callback_state, {}, ctx.num_timesteps, pending),
        )
        self.host_ref.call("end", ctx.num_timesteps)
        return episodes

    def _report(
        self,
        episodes: EpisodeAccumulator,
        train: dict[str, Any],
        step: Any,
        when: Any,
        method: str = "report_packed",
    ) -> EpisodeAccumulator:
        values = {
            **train,
            "episode/return_sum": episodes.return_sum,
            "episode/length_sum": episodes.length_sum,
            "episode/count": episodes.episodes,
            "time/steps_per_second": 0.0,
        }
        # One packed vector: a single host transfer per log.
        names = tuple(values)
        packed = jnp.stack([jnp.asarray(values[k], jnp.float32) for k in names])
        self.host_ref.call(method, step, packed, bound=(names,), when=when)
        if host_device() is None:
            # one-device programs keep their host calls in order: once this
            # runs, every seed's report of `step` is in, so the log is
            # written now, not when the next one arrives
            self.host_ref.call("complete", step, when=when)
        return EpisodeAccumulator.zeros()
