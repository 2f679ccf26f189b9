"""Schedules: functions from the iteration count to a value.

A schedule is called with `state.iteration` (training iterations done so
far, i.e. the zero-based index of the iteration about to run) and returns a
JAX array. Schedules are Equinox modules, so they are traceable, hashable
and `vmap`-able over their values (e.g. several end values in one program).

To think in env steps instead, divide by the algorithm's
`steps_per_iteration` when you build the schedule:
`linear_schedule(0.5, 1.0, total=200_000 // algo.steps_per_iteration)`.
"""

from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int


def _as_int(value: Any) -> int | None:
    """`value` as an int if it is a concrete integer scalar (Python, NumPy, or
    a 0-d NumPy or JAX integer array; not a boolean), else None."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, jax.core.Tracer):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    dtype = getattr(value, "dtype", None)
    if (
        dtype is not None
        and getattr(value, "ndim", None) == 0
        and np.dtype(dtype).kind in "iu"
    ):
        return int(value)
    return None


def _check_total(owner: str, total: Any) -> int:
    checked = _as_int(total)
    if checked is None:
        raise TypeError(
            f"`{owner}(total=...)` must be an int (a number of iterations), got "
            f"{total!r}; for a budget in env steps pass "
            "`total_timesteps // algo.steps_per_iteration`."
        )
    if checked < 1:
        raise ValueError(f"`{owner}(total=...)` must be >= 1, got {total}.")
    return checked


def _holds_bool(value: Any) -> bool:
    """Whether `value` is a boolean (Python or NumPy), an array of dtype
    bool (NumPy, JAX or traced), or a (nested) list/tuple holding one."""
    if isinstance(value, (bool, np.bool_)):
        return True
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return jnp.issubdtype(dtype, jnp.bool_)
    if isinstance(value, (list, tuple)):
        return any(_holds_bool(v) for v in value)
    return False


def _check_value(owner: str, name: str, value: Any) -> Array:
    if _holds_bool(value):
        raise TypeError(
            f"`{owner}({name}=...)` must be a number or an array of numbers, got "
            f"{value!r}, which holds booleans. Pass numbers (e.g. 1.0 and 0.0 "
            "instead of True and False)."
        )
    try:
        array = jnp.asarray(value, dtype=jnp.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{owner}({name}=...)` must be a number or an array of numbers, got "
            f"{type(value).__name__}."
        ) from error
    if not isinstance(array, jax.core.Tracer) and not bool(
        jnp.all(jnp.isfinite(array))
    ):
        raise ValueError(f"`{owner}({name}=...)` must be finite, got {value}.")
    return array


def _fraction(iteration: Any, total: int) -> Float[Array, ""]:
    return jnp.clip(jnp.asarray(iteration, jnp.float32) / total, 0.0, 1.0)


@final
class LinearSchedule(eqx.Module):
    """`start` at iteration 0, straight to `end` at `total`, `end` afterwards.

    Attributes:
        start: The value at iteration 0.
        end: The value from iteration `total` on.
        total: Iterations of the ramp.
    """

    start: Float[Array, "..."]
    end: Float[Array, "..."]
    total: int = eqx.field(static=True)

    def __call__(self, iteration: Int[ArrayLike, ""]) -> Float[Array, "..."]:
        """The value after `iteration` iterations."""
        return self.start + (self.end - self.start) * _fraction(iteration, self.total)


@final
class CosineSchedule(eqx.Module):
    """Half a cosine from `start` (iteration 0) to `end` (iteration `total` on).

    Attributes:
        start: The value at iteration 0.
        end: The value from iteration `total` on.
        total: Iterations of the ramp.
    """

    start: Float[Array, "..."]
    end: Float[Array, "..."]
    total: int = eqx.field(static=True)

    def __call__(self, iteration: Int[ArrayLike, ""]) -> Float[Array, "..."]:
        """The value after `iteration` iterations."""
        weight = 0.5 * (1.0 + jnp.cos(jnp.pi * _fraction(iteration, self.total)))
        return self.end + (self.start - self.end) * weight


@final
class StepSchedule(eqx.Module):
    """Piecewise constant: `values[i]` from `boundaries[i - 1]` (inclusive) on.

    Attributes:
        values: The values, leading axis `len(boundaries) + 1`.
        boundaries: Strictly increasing iteration counts where the value
            changes.
    """

    values: Float[Array, "levels ..."]
    boundaries: tuple[int, ...] = eqx.field(static=True)

    def __call__(self, iteration: Int[ArrayLike, ""]) -> Float[Array, "..."]:
        """The value after `iteration` iterations."""
        boundaries = jnp.asarray(self.boundaries, jnp.int32)
        index = jnp.searchsorted(boundaries, jnp.asarray(iteration), side="right")
        return self.values[index]


def linear_schedule(
    start: float | Float[ArrayLike, "..."],
    end: float | Float[ArrayLike, "..."],
    total: int,
) -> LinearSchedule:
    """A linear ramp from `start` to `end` over `total` iterations, then constant.

    Args:
        start: The value at iteration 0 (a number or an array, e.g. for a
            vector-valued env field; may be traced to `vmap` over it).
        end: The value from iteration `total` on (same shape as `start`).
        total: Length of the ramp in iterations, an int >= 1.

    Returns:
        A schedule `f(iteration) -> value`.

    Raises:
        TypeError: If `total` is not an int or a value is not numeric.
        ValueError: If `total < 1`, a value is not finite, or the shapes of
            `start` and `end` differ.
    """
    total = _check_total("linear_schedule", total)
    start_, end_ = _pair("linear_schedule", start, end)
    return LinearSchedule(start_, end_, total)


def cosine_schedule(
    start: float | Float[ArrayLike, "..."],
    end: float | Float[ArrayLike, "..."],
    total: int,
) -> CosineSchedule:
    """A half-cosine ramp from `start` to `end` over `total` iterations, then constant.

    The value is `end + (start - end) * (1 + cos(pi * t / total)) / 2` with
    `t` clipped to `[0, total]`: flat at both ends, steepest in the middle.

    Args:
        start: The value at iteration 0.
        end: The value from iteration `total` on (same shape as `start`).
        total: Length of the ramp in iterations, an int >= 1.

    Returns:
        A schedule `f(iteration) -> value`.

    Raises:
        TypeError: If `total` is not an int or a value is not numeric.
        ValueError: If `total < 1`, a value is not finite, or the shapes of
            `start` and `end` differ.
    """
    total = _check_total("cosine_schedule", total)
    start_, end_ = _pair("cosine_schedule", start, end)
    return CosineSchedule(start_, end_, total)


def step_schedule(
    values: Sequence[float] | Float[ArrayLike, "levels ..."],
    boundaries: Sequence[int],
) -> StepSchedule:
    """A piecewise-constant schedule.

    The value is `values[0]` before iteration `boundaries[0]`, `values[i]`
    from `boundaries[i - 1]` up to (not including) `boundaries[i]`, and
    `values[-1]` from `boundaries[-1]` on.

    Args:
        values: `len(boundaries) + 1` values (numbers, or arrays stacked on a
            leading axis).
        boundaries: Strictly increasing ints >= 1 (iteration counts).

    Returns:
        A schedule `f(iteration) -> value`.

    Raises:
        TypeError: If a boundary is not an int or a value is not numeric.
        ValueError: If the lengths do not match or the boundaries are not
            strictly increasing positive ints.
    """
    if isinstance(boundaries, (str, bytes)) or not (
        isinstance(boundaries, (Sequence, np.ndarray))
        or (isinstance(boundaries, jax.Array) and boundaries.ndim == 1)
    ):
        raise TypeError(
            "`step_schedule(boundaries=...)` must be a sequence of ints, got "
            f"{type(boundaries).__name__}."
        )
    checked = []
    for b in boundaries:
        value = _as_int(b)
        if value is None:
            raise TypeError(
                f"`step_schedule(boundaries=...)` must hold ints (iteration counts), "
                f"got {b!r}."
            )
        checked.append(value)
    if any(b < 1 for b in checked) or any(a >= b for a, b in zip(checked, checked[1:])):
        raise ValueError(
            "`step_schedule(boundaries=...)` must be strictly increasing ints >= 1, "
            f"got {checked}."
        )
    values_ = _check_value("step_schedule", "values", values)
    if values_.ndim == 0 or values_.shape[0] != len(checked) + 1:
        got = "a scalar" if values_.ndim == 0 else f"{values_.shape[0]} values"
        raise ValueError(
            "`step_schedule` needs `len(values) == len(boundaries) + 1` (one value "
            f"before the first boundary and one after each), got {got} for "
            f"{len(checked)} boundaries."
        )
    return StepSchedule(values_, tuple(checked))


def _pair(owner: str, start: Any, end: Any) -> tuple[Array, Array]:
    start_ = _check_value(owner, "start", start)
    end_ = _check_value(owner, "end", end)
    if start_.shape != end_.shape:
        raise ValueError(
            f"`{owner}`: `start` and `end` must have the same shape, got "
            f"{start_.shape} and {end_.shape}."
        )
    return start_, end_
