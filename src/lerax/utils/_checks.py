"""Range checks of hyper-parameters that may be numbers, arrays or traced."""

from typing import Any

import jax
import numpy as np


def concrete(value: Any) -> np.ndarray | None:
    """`value` as a NumPy array when it is a concrete number: a Python,
    NumPy or JAX scalar or array that is not being traced. None for what a
    range check cannot see (traced values, schedules and other callables,
    None, booleans), which the checks then let through."""
    if value is None or isinstance(value, (bool, np.bool_, jax.core.Tracer)):
        return None
    if not isinstance(value, (int, float, np.number, np.ndarray, jax.Array)):
        return None
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        return None
    return array


def real_scalar(value: Any) -> float | None:
    """`value` as a float when it is one concrete real number (a Python,
    NumPy or 0-d JAX int or float, not a boolean); None otherwise (traced,
    an array of several values, complex, text, ...)."""
    array = concrete(value)
    if array is None or array.ndim != 0 or array.dtype.kind not in "iuf":
        return None
    return float(array)


def _number(owner: str, name: str, value: Any) -> np.ndarray | None:
    """`concrete(value)`, refusing with a `TypeError` naming the field what
    no range check could see: text (a number read from a config file or
    command line and not converted), booleans (`False` is not a learning
    rate, though Python counts it as 0) and lists or tuples (several values,
    which a run cannot use; an array of them can be swept with `vmap`)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"`{owner}({name}=...)` must be a number, got the string {value!r} "
            "(convert it with float(...) or int(...))."
        )
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (np.ndarray, jax.Array))
        and not isinstance(value, jax.core.Tracer)
        and value.dtype == np.bool_
    ):
        raise TypeError(
            f"`{owner}({name}=...)` must be a number, got the boolean {value!r}; "
            "pass a number."
        )
    if isinstance(value, (list, tuple)):
        raise TypeError(
            f"`{owner}({name}=...)` must be one number, got the "
            f"{type(value).__name__} {value!r}. To train one run per value, "
            f"make it an array and map over it: `jax.vmap(lambda v: "
            f"{owner}({name}=v).learn(...))(jnp.asarray(values))`."
        )
    return concrete(value)


def check_bool(owner: str, **values: Any) -> None:
    """Raises `TypeError` unless each value is a bool (a switch that decides
    what is compiled: `1.0` or `"no"` would be read as on)."""
    for name, value in values.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(
                f"`{owner}({name}=...)` must be True or False, got {value!r}."
            )


def check_unit_interval(owner: str, **values: object) -> None:
    """Raises `ValueError` for a concrete value (Python, NumPy or JAX,
    scalar or array) outside [0, 1]; traced values pass."""
    for name, value in values.items():
        array = _number(owner, name, value)
        if array is not None and not np.all((array >= 0.0) & (array <= 1.0)):
            raise ValueError(f"`{owner}({name}=...)` must be in [0, 1], got {value}.")


def check_positive(owner: str, **values: Any) -> None:
    """Raises `ValueError` for a concrete value (Python, NumPy or JAX,
    scalar or array) that is not > 0; traced values and schedules pass."""
    for name, value in values.items():
        array = _number(owner, name, value)
        if array is not None and not np.all(array > 0):
            raise ValueError(f"`{owner}({name}=...)` must be > 0, got {value}.")


def check_non_negative(owner: str, **values: Any) -> None:
    """Raises `ValueError` for a concrete value (Python, NumPy or JAX,
    scalar or array) that is not >= 0; traced values pass."""
    for name, value in values.items():
        array = _number(owner, name, value)
        if array is not None and not np.all(array >= 0):
            raise ValueError(f"`{owner}({name}=...)` must be >= 0, got {value}.")


def check_finite(owner: str, **values: Any) -> None:
    """Raises `ValueError` for a concrete value (Python, NumPy or JAX,
    scalar or array) that is NaN or infinite; traced values pass."""
    for name, value in values.items():
        array = _number(owner, name, value)
        if array is not None and not np.all(np.isfinite(array)):
            raise ValueError(f"`{owner}({name}=...)` must be finite, got {value}.")


def check_finite_or_off(owner: str, **values: Any) -> None:
    """`check_finite` for a setting that `None` turns off (a gradient-norm
    limit, an early-stopping threshold): infinity is refused with that fix,
    so one spelling of "off" holds everywhere."""
    for name, value in values.items():
        array = _number(owner, name, value)
        if array is not None and not np.all(np.isfinite(array)):
            raise ValueError(
                f"`{owner}({name}=...)` must be finite, got {value}; to turn it "
                f"off, pass `{name}=None`."
            )


def check_step_size(owner: str, **values: Any) -> None:
    """Raises `ValueError` for a concrete value outside (0, 1]: an
    interpolation weight such as a target network's `tau`, where 0 would
    leave the target where it started."""
    for name, value in values.items():
        array = _number(owner, name, value)
        if array is not None and not np.all((array > 0.0) & (array <= 1.0)):
            raise ValueError(
                f"`{owner}({name}=...)` must be in (0, 1], got {value} (at 0 the "
                "target would never move)."
            )
