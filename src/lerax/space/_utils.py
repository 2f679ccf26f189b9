"""Helpers shared by the space implementations."""

import operator
from collections.abc import Sequence
from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np

# Every discrete space samples int32 values, so its bounds must fit in int32.
INT32_MIN = int(np.iinfo(np.int32).min)
INT32_MAX = int(np.iinfo(np.int32).max)


@final
class StaticArray:
    """An immutable, hashable NumPy array, for static fields of spaces.

    Spaces keep their bounds as static metadata so that they never become
    tracers under `jax.jit` and can be compared and hashed by value.
    """

    __slots__ = ("_array", "_hash")

    def __init__(self, array: Any, dtype: Any = None):
        array = np.array(array, dtype=dtype, copy=True)
        if array.dtype.kind == "f":
            # -0.0 == 0.0 but their bytes differ: normalise so that equal
            # arrays also hash equally.
            array[array == 0] = 0
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
    """Converts `x` to a JAX array, or returns None if it is not array-like.

    Python containers other than lists/tuples, strings, None and ragged lists
    give None. Integers too large for JAX's integers become floats: Python
    ints, and NumPy 64-bit integers outside int32/uint32 while
    `jax_enable_x64` is off (JAX would otherwise wrap them around silently,
    e.g. `2**32 + 1` to `1`). Either way `contains` then sees a value outside
    every integer space, as it is.
    """
    if x is None or isinstance(x, (dict, str, bytes)):
        return None
    if isinstance(x, (np.ndarray, np.generic)) and not _fits_jax_integers(x):
        return jnp.asarray(np.asarray(x, dtype=np.float64))
    try:
        return jnp.asarray(x)
    except OverflowError:
        # Python ints beyond int32/int64: only a float box can hold them.
        try:
            return jnp.asarray(np.asarray(x, dtype=np.float64))
        except (TypeError, ValueError, OverflowError):
            return None
    except (TypeError, ValueError):
        return None


def _fits_jax_integers(x: np.ndarray | np.generic) -> bool:
    """False when `x` holds integers that JAX would wrap around on conversion
    (NumPy 64-bit integers beyond the 32-bit dtypes JAX uses without x64)."""
    if x.dtype.kind not in "iu":
        return True
    target = jax.dtypes.canonicalize_dtype(x.dtype)
    if target == x.dtype or x.size == 0:
        return True
    info = np.iinfo(target)
    return bool(x.min() >= info.min) and bool(x.max() <= info.max)


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


def as_int(value: Any, what: str) -> int:
    """Converts an integral scalar (Python or NumPy int, 0-d int array) to `int`.

    Raises:
        ValueError: If `value` is not an integer (floats and bools are refused).
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{what}` must be an int, got {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"`{what}` must be an int, got {value!r}.") from None


def as_int_array(value: Any, what: str) -> np.ndarray:
    """Converts integer-valued array-likes to an int64 NumPy array.

    Floats are accepted only when every entry is a whole number.

    Raises:
        ValueError: If `value` is not an array of whole numbers.
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{what}` must be integers, got {value!r}.") from error
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    if np.issubdtype(array.dtype, np.floating):
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(array) & (np.mod(array, 1) == 0)
        if whole.all() and (np.abs(array) < 2.0**62).all():
            return array.astype(np.int64)
    raise ValueError(f"`{what}` must be integers, got {value!r}.")


def as_shape(value: Any, what: str) -> tuple[int, ...]:
    """Converts an int or a sequence of ints to a shape tuple.

    Raises:
        ValueError: If `value` is neither, or has a negative entry.
    """
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        shape = tuple(as_int(d, what) for d in value)
    elif isinstance(value, np.ndarray) and value.ndim == 1:
        shape = tuple(as_int(d, what) for d in value.tolist())
    else:
        try:
            shape = (as_int(value, what),)
        except ValueError:
            raise ValueError(
                f"`{what}` must be an int or a tuple of ints, got {value!r}."
            ) from None
    if any(d < 0 for d in shape):
        raise ValueError(f"`{what}` must be non-negative, got {shape}.")
    return shape


def int_in_range(x: jax.Array, low: Any, high: Any) -> jax.Array:
    """Elementwise `low <= x <= high` for an integer array `x` and static bounds.

    The bounds may be integer or floating NumPy values (including infinite
    ones); the comparison is exact. Unlike a plain comparison it never
    overflows or rounds when the bounds do not fit in `x`'s dtype (e.g. a
    negative bound against an unsigned `x`, or a float32 bound against an
    int32 `x` above 2**24).
    """
    info = np.iinfo(x.dtype)
    low, low_over, low_under = round_into_dtype(np.asarray(low), x.dtype, np.ceil)
    high, high_over, high_under = round_into_dtype(np.asarray(high), x.dtype, np.floor)
    low = np.where(low_under, info.min, low).astype(x.dtype)
    high = np.where(high_over, info.max, high).astype(x.dtype)
    possible = ~low_over & ~high_under & (low <= high)
    inside = (x >= low) & (x <= high)
    return inside if possible.all() else inside & possible


def float_in_range(x: jax.Array, low: np.ndarray, high: np.ndarray) -> jax.Array:
    """Elementwise `low <= x <= high` for a floating `x` and static float
    bounds, exact also for subnormal numbers; False where `x` is NaN.

    XLA treats subnormal inputs as zero (on CPU and GPU), so a plain
    comparison takes `-1e-45 >= 0.0` to be true. Here both sides are
    compared as integers instead: the bit pattern of a float, with the sign
    bit turned into a minus sign, orders floats exactly (`-0.0` and `0.0`
    alike, NaN beyond the infinities). The bounds' keys are computed on the
    host.
    """
    dtype = jnp.promote_types(x.dtype, np.result_type(low, high))
    int_dtype = np.dtype(f"int{8 * np.dtype(dtype).itemsize}")
    sign = np.iinfo(int_dtype).max  # all bits but the sign bit

    def host_key(bound: np.ndarray) -> np.ndarray:
        bits = np.asarray(bound, dtype).view(int_dtype)
        return np.where(bits < 0, -(bits & sign), bits).astype(int_dtype)

    bits = jax.lax.bitcast_convert_type(x.astype(dtype), int_dtype)
    key = jnp.where(bits < 0, -(bits & sign), bits)
    return (key >= host_key(low)) & (key <= host_key(high))


def round_into_dtype(
    bound: np.ndarray, dtype: Any, to_integer: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rounds `bound` to integers with `to_integer` (`np.ceil` for a lower,
    `np.floor` for an upper bound) and splits off what `dtype` cannot hold.

    Returns:
        The bound as `dtype` (0 where it is out of range), and where it lies
        above and below `dtype`'s range. Every comparison is exact: integer
        bounds are compared as integers, and float bounds with the powers of
        two that delimit the range.
    """
    info = np.iinfo(dtype)
    if bound.dtype.kind in "iub":
        over, under = bound > info.max, bound < info.min
    else:
        bound = to_integer(bound.astype(np.float64))
        # info.max + 1 and info.min are powers of two: exact as floats.
        over, under = bound >= float(info.max + 1), bound < float(info.min)
    inside = np.where(over | under, 0, bound).astype(dtype)
    return inside, over, under


def all_of(checks: Sequence[Any]) -> Any:
    """Combines `contains` results of sub-spaces into one scalar.

    A concrete (NumPy) `False` from a structural mismatch stays a concrete
    NumPy `False`, so that it is still visible at trace time under `jax.jit`.
    """
    dynamic = []
    for check in checks:
        if isinstance(check, (np.ndarray, np.bool_, bool)):
            if not bool(np.all(check)):
                return np.array(False)
        else:
            dynamic.append(jnp.all(check))
    if not dynamic:
        return np.array(True)
    return jnp.all(jnp.stack(dynamic))
