"""Constructor checks shared by the built-in envs.

Each check looks only at concrete values (Python and NumPy numbers, concrete
JAX arrays), so an env built inside `jit`/`vmap` from traced constants passes
unchecked, and nothing here runs in a compiled step.
"""

import dataclasses
from typing import Any

import jax
import numpy as np

from ..utils._checks import (
    check_bool,
    check_finite,
    check_non_negative,
    concrete,
)
from ..utils._checks import check_positive as _check_positive

RENDER_MODES = ("human", "rgb_array", "depth_array", "rgbd_tuple")
"""Gymnasium's render modes (all refused, see `check_render_mode`)."""


def check_number(owner: str, name: str, value: Any) -> None:
    """Refuses a constant that is not a number (`TypeError`) or, when
    concrete, not finite (`ValueError`)."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or not isinstance(
        value, (int, float, np.number, np.ndarray, jax.Array)
    ):
        raise TypeError(f"`{owner}({name}=...)` must be a number, got {value!r}.")
    check_finite(owner, **{name: value})


def check_numbers(owner: str, **values: Any) -> None:
    """`check_number` on each keyword (constructor arguments, checked before
    they are used to build spaces or compared)."""
    for name, value in values.items():
        check_number(owner, name, value)


def check_number_fields(env: Any) -> None:
    """`check_number` on every field of `env` annotated `float`."""
    owner = type(env).__name__
    for field in dataclasses.fields(env):
        if field.type is float:
            check_number(owner, field.name, getattr(env, field.name, None))


def check_positive(owner: str, **values: Any) -> None:
    """`check_number`, then the hyper-parameters' `check_positive` (a
    concrete constant must be > 0)."""
    check_numbers(owner, **values)
    _check_positive(owner, **values)


def check_nonnegative(owner: str, **values: Any) -> None:
    """`check_number`, then `check_non_negative`: a scale or half-width of a
    uniform draw must be >= 0 (a negative one would make every draw
    `U(-s, s)` the same value)."""
    check_numbers(owner, **values)
    check_non_negative(owner, **values)


def check_order(owner: str, low_name: str, low: Any, high_name: str, high: Any):
    """Raises `ValueError` when concrete bounds have `low > high`."""
    low_array, high_array = concrete(low), concrete(high)
    if low_array is None or high_array is None:
        return
    if not np.all(low_array <= high_array):
        raise ValueError(
            f"`{owner}({low_name}=..., {high_name}=...)` must have "
            f"{low_name} <= {high_name}, got {low!r} and {high!r}; swap them."
        )


def check_switch(owner: str, name: str, value: Any) -> bool:
    """`value` as a bool; `TypeError` unless it is one (`bool("no")` is True)."""
    check_bool(owner, **{name: value})
    return bool(value)


def check_render_mode(owner: str, render_mode: Any, sizes: str = "") -> None:
    """Refuses every `render_mode` but None.

    Gymnasium's env holds its simulation and draws it on `env.render()` in
    the mode fixed at construction. A lerax env is functional: it holds no
    state and draws the state it is given, when it is asked, in the form the
    call chooses. A stored mode would be read by nothing, so code ported from
    Gymnasium would build and then never render; refusing it says at once
    what to call instead. None (Gymnasium's default, "no rendering") is
    accepted.

    Args:
        owner: The env's name, for the message.
        render_mode: The value given.
        sizes: A closing sentence on where the frame size is set.

    Raises:
        TypeError: If `render_mode` is not None.
    """
    if render_mode is None:
        return
    known = (
        ""
        if render_mode in RENDER_MODES
        else f" (Gymnasium's modes are {', '.join(map(repr, RENDER_MODES))})"
    )
    raise TypeError(
        f"`{owner}(render_mode={render_mode!r})`{known}: lerax envs have no render "
        "mode; they are functional and draw a state when asked. Leave `render_mode` "
        "out and use `lerax.render.render_rgb(env, state)` for an RGB frame, "
        "`lerax.render.record_video(env, states, path)` for a video, "
        "`env.render_stacked(states)` for a window, or "
        "`lerax.compatibility.LeraxToGymEnv(env, render_mode='rgb_array')` for a "
        f"Gymnasium env whose `render()` returns frames.{sizes}"
    )
