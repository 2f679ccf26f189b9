"""Helpers shared by the space implementations."""

from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np


@final
class StaticArray:
    """An immutable, hashable NumPy array, for static fields of spaces.

    Spaces keep their bounds as static metadata so that they never become
    tracers under `jax.jit` and can be compared and hashed by value.
    """

    __slots__ = ("_array", "_hash")

    def __init__(self, array: Any, dtype: Any = None):
        array = np.array(array, dtype=dtype, copy=True)
        array.setflags(write=False)
        self._array = array
        self._hash = hash((array.shape, array.dtype.str, array.tobytes()))

    @property
    def array(self) -> np.ndarray:
        """The read-only NumPy array."""
        return self._array

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StaticArray):
            return NotImplemented
        a, b = self._array, other._array
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )

    def __repr__(self) -> str:
        return repr(self._array)


def as_array(x: Any) -> jax.Array | None:
    """Converts `x` to a JAX array, or returns None if it is not array-like."""
    if isinstance(x, (dict, list, tuple, str, bytes)) or x is None:
        if isinstance(x, (list, tuple)):
            try:
                return jnp.asarray(x)
            except (TypeError, ValueError):
                return None
        return None
    try:
        return jnp.asarray(x)
    except (TypeError, ValueError):
        return None


def is_integer_dtype(dtype: Any) -> bool:
    """True for signed or unsigned integer dtypes (not bool)."""
    return jnp.issubdtype(dtype, jnp.integer)


def is_float_dtype(dtype: Any) -> bool:
    """True for real floating dtypes."""
    return jnp.issubdtype(dtype, jnp.floating)


def check_key(key: Any, where: str) -> None:
    """Raises a clear error if `key` is not a JAX PRNG key."""
    if key is None:
        raise TypeError(f"`{where}` needs a PRNG key: pass `key=jax.random.key(0)`.")


def one_hot(index: jax.Array, n: int) -> jax.Array:
    """A float32 one-hot encoding of integer indices along a new last axis."""
    return jax.nn.one_hot(index, n, dtype=jnp.float32)
