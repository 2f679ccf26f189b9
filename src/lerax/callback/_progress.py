"""`ProgressBarCallback`: a Rich progress bar fed from inside the compiled loop."""

import math
import time
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, Key

from ._base import (
    AbstractCallback,
    IterationContext,
    ResetContext,
    TrainingContext,
    python_scalar,
)
from ._episodes import EpisodeAccumulator
from ._host import (
    HostRef,
    format_duration,
    format_fixed,
    format_number,
    ratio,
    to_float,
)


def auto_interval(ctx: IterationContext, updates: int) -> Int[Array, ""]:
    """An iteration interval giving about `updates` reports over the run."""
    iterations = ctx.total_timesteps // ctx.algorithm.steps_per_iteration
    return jnp.maximum(iterations // updates, 1)


def report_due(ctx: IterationContext, interval: Any) -> Any:
    """Whether this iteration reports: every `interval` iterations and at the
    last iteration of the `train`/`learn` call."""
    return (ctx.iteration % interval == 0) | (ctx.num_timesteps >= ctx.total_timesteps)


def running(ctx: IterationContext) -> Any:
    """Whether this iteration runs: False for a seed that an earlier
    iteration stopped (`continue_training`), whose iteration under
    `jax.vmap` is computed (with its host calls) and then discarded."""
    return ~jnp.asarray(getattr(ctx.state, "stopped", False), bool)


def run_description(algorithm: Any, env: Any) -> str:
    """The run's name in progress lines, e.g. `"PPO on CartPole"` (the env's
    `name`, else its class name)."""
    return f"{type(algorithm).__name__} on {getattr(env, 'name', type(env).__name__)}"


def _pack(step: Any, episodes: EpisodeAccumulator) -> Any:
    # One float64-free vector, one host transfer: the step is split in two
    # exact float32 halves (steps beyond 2**24 would lose precision).
    step = jnp.asarray(step, jnp.int32)
    high, low = step // 65536, step % 65536
    return jnp.stack(
        [
            high.astype(jnp.float32),
            low.astype(jnp.float32),
            episodes.return_sum,
            episodes.episodes,
        ]
    )


def _unpack(packed: Any) -> tuple[int, float, float]:
    high, low, return_sum, episodes = np.asarray(packed).tolist()
    return int(high) * 65536 + int(low), return_sum, episodes


@final
class ProgressBarCallback(AbstractCallback):
    """A progress bar for training: steps done/total, steps per second,
    elapsed and remaining time, and the latest mean episode return.

    On a terminal it is a live Rich bar; otherwise (CI logs, pipes) it prints
    a plain line at every tenth of the run (or every `plain_seconds`) and a
    final line. The bar is closed at the end of every `train`/`learn` call.
    Under `jax.vmap` over seeds there is one bar; the return shown is the mean
    over all seeds' finished episodes.

    Host work happens at most once every `interval` iterations.

    Attributes:
        total_timesteps: The step count that is 100% (None: the end of the
            current `train`/`learn` call); like `learn`'s budget, a Python or
            NumPy int or a whole float such as `1e5`. Set it to span several
            `train` calls with one bar.
        description: The bar's label (None: `"<algorithm> on <env>"`).
        interval: Iterations between updates (None: about 100 updates per
            run).
        host_ref: The handle on the bar's host side (`ProgressHost`).
    """

    total_timesteps: int | None = eqx.field(static=True)
    description: str | None = eqx.field(static=True)
    interval: int | None = eqx.field(static=True)
    host_ref: HostRef

    def __init__(
        self,
        total_timesteps: int | None = None,
        name: str | None = None,
        env: Any = None,
        policy: Any = None,
        *,
        description: str | None = None,
        interval: int | None = None,
        console: Any = None,
        plain_seconds: float = 60.0,
    ):
        """Args:
        total_timesteps: See `total_timesteps` above.
        name: The earlier lerax's name for `description` (used when
            `description` is None).
        env: Accepted for the earlier lerax's
            `ProgressBarCallback(total, name, env, policy)`; not needed: the
            default label names the env being trained at the start of each run.
        policy: Accepted like `env`, and not needed.
        description: See `description` above.
        interval: See `interval` above.
        console: A `rich.console.Console` to draw on (default: stdout).
        plain_seconds: Without a terminal, the longest gap between lines.

        Raises:
            ValueError: If `total_timesteps` or `interval` is not a positive int
                (`total_timesteps` may be a whole float such as `1e5`, as
                `learn`'s budget).
        """
        from ..algorithm._base import check_timesteps

        def refuse(name: str, value: Any) -> ValueError:
            return ValueError(
                f"`ProgressBarCallback({name}=...)` must be an int >= 1 or None, "
                f"got {value!r}."
            )

        if total_timesteps is not None:
            # a step budget, read as `learn` reads its own: Python or NumPy
            # ints and whole floats such as 1e5
            try:
                total_timesteps = check_timesteps(total_timesteps)
            except (TypeError, ValueError) as error:
                raise refuse("total_timesteps", total_timesteps) from error
        interval = python_scalar(interval)
        for field, value in (
            ("total_timesteps", total_timesteps),
            ("interval", interval),
        ):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise refuse(field, value)
        self.total_timesteps = total_timesteps
        del env, policy  # the label comes from the run being trained
        self.description = name if description is None else description
        self.interval = interval
        self.host_ref = HostRef(ProgressHost(console, plain_seconds))

    @property
    def host(self) -> "ProgressHost":
        """The bar's host side."""
        return self.host_ref.host

    def stop(self) -> None:
        """Closes the bar now if it is open (the earlier lerax's `stop()`; the
        bar also closes by itself at the end of every `train`/`learn` call)."""
        if self.host._open:
            self.host._close()

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EpisodeAccumulator:
        del ctx, key
        return EpisodeAccumulator.zeros()

    def on_training_start(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        description = self.description or run_description(ctx.algorithm, ctx.state.env)
        total = (
            ctx.total_timesteps
            if self.total_timesteps is None
            else self.total_timesteps
        )
        self.host_ref.call("start", ctx.num_timesteps, total, bound=(description,))
        return ctx.callback_state

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> Any:
        del key
        episodes = ctx.callback_state.add(ctx.rollout)
        interval = auto_interval(ctx, 100) if self.interval is None else self.interval

        due = report_due(ctx, interval)

        def report(episodes):
            self.host_ref.call(
                "update", _pack(ctx.num_timesteps, episodes), when=due & running(ctx)
            )
            return EpisodeAccumulator.zeros()

        return jax.lax.cond(due, report, lambda e: e, episodes)

    def on_training_end(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        episodes = ctx.callback_state
        self.host_ref.call("finish", _pack(ctx.num_timesteps, episodes))
        return EpisodeAccumulator.zeros()


class ProgressHost:
    """The host side of `ProgressBarCallback` (mutable, never traced)."""

    def __init__(self, console: Any, plain_seconds: float) -> None:
        self._console = console
        self._plain_seconds = plain_seconds
        self._open = False
        self._progress: Any = None

    def _get_console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    def start(self, description: str, step: Any, total: Any) -> None:
        step, total = int(step), int(total)
        if self._open and self._pending_start == (step, total) and self._step == step:
            return  # the same start from another seed under vmap
        if self._open:
            self._close()
        console = self._get_console()
        self._open = True
        self._pending_start = (step, total)
        self._description = description
        self._start_step = self._step = step
        self._total = max(total, 1)
        self._start_time = self._last_draw = time.perf_counter()
        self._last_line_time = self._start_time
        self._printed_step: int | None = None  # the step of the last line
        self._last_decile = self._decile(step)
        self._sum = self._count = 0.0
        self._group_step = step
        self._latest = math.nan
        self._live = console.is_interactive or console.is_jupyter
        if self._live:
            from rich.markup import escape
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TextColumn("steps"),
                TextColumn("{task.fields[rate]} steps/s"),
                TimeElapsedColumn(),
                TextColumn("<"),
                TimeRemainingColumn(),
                TextColumn("return {task.fields[ret]}"),
                console=console,
                auto_refresh=False,
            )
            self._task = self._progress.add_task(
                escape(str(description)),  # the label column reads Rich markup
                total=self._total,
                completed=step,
                rate="-",
                ret="-",
            )
            self._progress.start()

    def _decile(self, step: int) -> int:
        return min(10, 10 * step // self._total)

    def _add(self, step: int, return_sum: Any, episodes: Any) -> bool:
        """Pools one report; False if it is stale."""
        if step < self._step:
            return False
        if step > self._group_step:
            self._group_step = step
            self._sum = self._count = 0.0
        self._sum += to_float(return_sum)
        self._count += to_float(episodes)
        if self._count > 0:
            self._latest = ratio(self._sum, self._count)
        self._step = step
        return True

    def update(self, packed: Any) -> None:
        step, return_sum, episodes = _unpack(packed)
        if not self._open or not self._add(int(step), return_sum, episodes):
            return
        now = time.perf_counter()
        if self._live:
            if now - self._last_draw >= 0.1:
                self._draw(now)
        else:
            decile = self._decile(self._step)
            if decile > self._last_decile or now - self._last_line_time >= (
                self._plain_seconds
            ):
                if self._step < self._total:
                    self._line(now)
                self._last_decile = decile

    def finish(self, packed: Any) -> None:
        step, return_sum, episodes = _unpack(packed)
        if not self._open:
            return
        self._add(int(step), return_sum, episodes)
        self._close()

    def _rate(self, now: float) -> float:
        elapsed = now - self._start_time
        return (self._step - self._start_step) / elapsed if elapsed > 0 else math.nan

    def _draw(self, now: float) -> None:
        rate = self._rate(now)
        self._progress.update(
            self._task,
            completed=self._step,
            rate=format_number(round(rate)) if math.isfinite(rate) else "-",
            ret=format_fixed(self._latest, 2) if math.isfinite(self._latest) else "-",
        )
        self._progress.refresh()
        self._last_draw = now

    def _line(self, now: float) -> None:
        rate = self._rate(now)
        elapsed = now - self._start_time
        left = (self._total - self._step) / rate if rate > 0 else math.nan
        percent = 100.0 * min(self._step, self._total) / self._total
        ret = format_fixed(self._latest, 2) if math.isfinite(self._latest) else "-"
        text = (
            f"{self._description}: {percent:3.0f}% {self._step:,}/{self._total:,} "
            f"steps | {format_number(round(rate)) if math.isfinite(rate) else '-'} "
            f"steps/s | elapsed {format_duration(elapsed)} | remaining "
            f"{format_duration(max(left, 0.0))} | return {ret}"
        )
        self._get_console().print(text, markup=False, highlight=False, soft_wrap=True)
        self._last_line_time = now
        self._printed_step = self._step

    def _close(self) -> None:
        now = time.perf_counter()
        if self._live:
            self._draw(now)
            self._progress.stop()
            self._progress = None
        elif self._printed_step != self._step:
            # a run that stopped early (or a `train` call that ended before
            # the bar's total) already printed this step's line
            self._line(now)
        self._open = False
