"""Converting spaces (and their values) between lerax and Gymnasium."""

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._extras import require
from ..space import AbstractSpace, Box, Dict, Discrete, MultiBinary, MultiDiscrete
from ..space import Tuple as TupleSpace
from ._common import bool_box_to_multi_binary

gym = require("gymnasium", "gym")
spaces = gym.spaces


def lerax_to_gym_space(space: AbstractSpace) -> Any:
    """Converts a lerax space to the equivalent Gymnasium space.

    `Discrete` keeps its `start`; `Box` keeps its bounds, shape (scalar
    included) and dtype; `MultiDiscrete` keeps `nvec` and `start` (as int64,
    Gymnasium's default); `Dict` keeps its key order; `Tuple` converts each
    element. Converting back with `gym_space_to_lerax_space` gives an equal
    space.

    Args:
        space: A lerax space.

    Returns:
        A `gymnasium.spaces.Space` describing the same set.

    Raises:
        TypeError: If `space` is not a lerax space this function knows.
    """
    if isinstance(space, Discrete):
        return spaces.Discrete(space.n, start=space.start)
    if isinstance(space, Box):
        return spaces.Box(space.low, space.high, space.shape, space.dtype)
    if isinstance(space, MultiDiscrete):
        return spaces.MultiDiscrete(space.nvec, dtype=np.int64, start=space.start)
    if isinstance(space, MultiBinary):
        return spaces.MultiBinary(space.n[0] if len(space.n) == 1 else list(space.n))
    if isinstance(space, Dict):
        return spaces.Dict(
            OrderedDict((k, lerax_to_gym_space(s)) for k, s in space.items())
        )
    if isinstance(space, TupleSpace):
        return spaces.Tuple(tuple(lerax_to_gym_space(s) for s in space))
    raise TypeError(
        f"`lerax_to_gym_space` cannot convert {space!r} (type "
        f"{type(space).__name__}); it supports Discrete, Box, MultiDiscrete, "
        "MultiBinary, Dict and Tuple."
    )


def gym_space_to_lerax_space(space: Any) -> AbstractSpace:
    """Converts a Gymnasium space to the equivalent lerax space.

    Dtypes become JAX's canonical ones: without `jax_enable_x64`, a float64
    `Box` becomes float32 (bounds beyond float32's range become its largest
    values) and an int64 one int32; Discrete and MultiDiscrete samples are
    int32 in lerax. A bool `Box` of free bits (bounds False and True) becomes
    a `MultiBinary` of its shape (lerax's `Box` holds numbers only).

    Args:
        space: A `gymnasium.spaces.Space`.

    Returns:
        A lerax space.

    Raises:
        TypeError: For Gymnasium spaces lerax has no counterpart of (`Text`,
            `Graph`, `Sequence`, `OneOf`, a scalar or partly fixed bool
            `Box`, ...), or for non-spaces.
    """
    if isinstance(space, spaces.Discrete):
        return Discrete(int(space.n), start=int(space.start))
    if isinstance(space, spaces.Box):
        if np.dtype(space.dtype) == np.bool_:
            return bool_box_to_multi_binary(
                space.low, space.high, space.shape, "gym_space_to_lerax_space"
            )
        return Box(space.low, space.high, space.shape, space.dtype)
    if isinstance(space, spaces.MultiDiscrete):
        return MultiDiscrete(space.nvec, start=space.start)
    if isinstance(space, spaces.MultiBinary):
        return MultiBinary(tuple(int(d) for d in space.shape))
    if isinstance(space, spaces.Dict):
        return Dict(
            OrderedDict((k, gym_space_to_lerax_space(s)) for k, s in space.items())
        )
    if isinstance(space, spaces.Tuple):
        return TupleSpace([gym_space_to_lerax_space(s) for s in space.spaces])
    raise TypeError(
        f"`gym_space_to_lerax_space` cannot convert {space!r} (type "
        f"{type(space).__name__}); lerax supports Gymnasium's Discrete, Box, "
        "MultiDiscrete, MultiBinary, Dict and Tuple spaces."
    )


def to_gym_value(space: AbstractSpace, value: Any) -> Any:
    """Converts an element of a lerax space to NumPy values that the matching
    Gymnasium space (`lerax_to_gym_space(space)`) contains.

    Args:
        space: The lerax space `value` belongs to.
        value: An element of `space` (JAX or NumPy arrays).

    Returns:
        Writable NumPy arrays (`np.int64` scalars for `Discrete`, int8
        arrays for `MultiBinary`), in a `dict` or `tuple` for composite
        spaces.

    Raises:
        TypeError: If `space` is not a lerax space.
        ValueError: If a `Tuple` value has another number of items.
    """
    _check_value_space("to_gym_value", space, value)
    if isinstance(space, Dict):
        return {k: to_gym_value(s, value[k]) for k, s in space.items()}
    if isinstance(space, TupleSpace):
        return tuple(to_gym_value(s, v) for s, v in zip(space, value))
    if isinstance(space, Discrete):
        return np.int64(np.asarray(value))
    if isinstance(space, MultiDiscrete):
        return np.array(value, dtype=np.int64)
    if isinstance(space, MultiBinary):
        return np.array(value, dtype=np.int8)
    return np.array(value, dtype=space.dtype)


def gym_value_converter(space: AbstractSpace) -> Callable[[Any], Any]:
    """`to_gym_value` specialised to `space` once (fast on hot paths); the
    arrays it returns are writable copies."""
    if isinstance(space, Dict):
        parts = {k: gym_value_converter(s) for k, s in space.items()}
        return lambda value: {k: f(value[k]) for k, f in parts.items()}
    if isinstance(space, TupleSpace):
        items = [gym_value_converter(s) for s in space]
        return lambda value: tuple(f(v) for f, v in zip(items, value))
    if isinstance(space, Discrete):
        return lambda value: np.int64(value)
    dtype = np.dtype(
        np.int64
        if isinstance(space, MultiDiscrete)
        else np.int8
        if isinstance(space, MultiBinary)
        else space.dtype
    )
    # a copy: a NumPy view of a JAX array is read-only, while Gymnasium's
    # observations are writable (in-place normalisation, `torch.from_numpy`)
    return lambda value: np.asarray(value).astype(dtype)


def numpy_value_converter(space: AbstractSpace) -> Callable[[Any], Any]:
    """A function turning Gymnasium values into NumPy arrays of `space`'s
    dtypes (cheaper to pass into a jitted function than JAX arrays)."""
    if isinstance(space, Dict):
        parts = {k: numpy_value_converter(s) for k, s in space.items()}
        return lambda value: {k: f(value[k]) for k, f in parts.items()}
    if isinstance(space, TupleSpace):
        items = [numpy_value_converter(s) for s in space]
        return lambda value: tuple(f(v) for f, v in zip(items, value))
    dtype = np.dtype(space.dtype)
    return lambda value: _cast(value, dtype)


def _cast(value: Any, dtype: np.dtype) -> np.ndarray:
    """`value` as an array of `dtype`, refusing integers the cast would wrap
    (a Gymnasium int64 value beyond lerax's int32 without x64); finite
    floats beyond a narrower float's range become its largest values, as
    the bounds of a converted `Box` do (not infinities)."""
    array = np.asarray(value)
    if (
        array.dtype != dtype
        and np.issubdtype(dtype, np.floating)
        and np.issubdtype(array.dtype, np.floating)
        and array.dtype.itemsize > dtype.itemsize
    ):
        with np.errstate(over="ignore"):
            cast = array.astype(dtype)
        if np.isinf(cast).any():
            info = np.finfo(dtype)
            clipped = np.where(
                np.isfinite(array), np.clip(array, info.min, info.max), array
            )
            cast = clipped.astype(dtype)
        return cast
    if (
        array.dtype != dtype
        and array.size
        and np.issubdtype(dtype, np.integer)
        and np.issubdtype(array.dtype, np.integer)
    ):
        info = np.iinfo(dtype)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            raise ValueError(
                f"The Gymnasium value {array.dtype} in [{low}, {high}] does not fit "
                f"the lerax space's {dtype} (integers are 32-bit in JAX unless "
                "`jax.config.update('jax_enable_x64', True)` runs before anything "
                "else): enable x64 or keep the values within "
                f"[{info.min}, {info.max}]."
            )
    return array.astype(dtype, copy=False)


def to_lerax_value(space: AbstractSpace, value: Any) -> Any:
    """Converts a Gymnasium value (NumPy arrays, Python numbers) to JAX arrays
    of `space`'s dtypes.

    Args:
        space: The lerax space the value should belong to.
        value: An element of the matching Gymnasium space.

    Returns:
        JAX arrays, in a `dict` or `tuple` for composite spaces.

    Raises:
        TypeError: If `space` is not a lerax space.
        ValueError: If an integer does not fit the space's dtype, or a
            `Tuple` value has another number of items.
    """
    _check_value_space("to_lerax_value", space, value)
    if isinstance(space, Dict):
        return {k: to_lerax_value(s, value[k]) for k, s in space.items()}
    if isinstance(space, TupleSpace):
        return tuple(to_lerax_value(s, v) for s, v in zip(space, value))
    return jnp.asarray(_cast(value, np.dtype(space.dtype)))


def _check_value_space(caller: str, space: Any, value: Any) -> None:
    """Raises a clear error for a non-lerax `space` (such as the Gymnasium
    space) or a `Tuple` value of another length (`zip` would drop items)."""
    if not isinstance(space, AbstractSpace):
        raise TypeError(
            f"`{caller}(space, value)` needs the lerax space of the value, got "
            f"{space!r} (type {type(space).__name__}); convert a Gymnasium space "
            "with `gym_space_to_lerax_space` first."
        )
    if isinstance(space, TupleSpace) and (
        not hasattr(value, "__len__") or len(value) != len(space)
    ):
        raise ValueError(
            f"`{caller}`: a value of {space!r} is a sequence of {len(space)} "
            f"items, got {value!r}."
        )
