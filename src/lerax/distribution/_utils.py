"""Array helpers shared by the distribution implementations.

The test-suite runs with `jax_numpy_rank_promotion="raise"`, so every helper
here broadcasts explicitly instead of relying on implicit rank promotion.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Real

# Types of user-supplied arrays. Their shapes are validated by the classes
# themselves (with messages that name the argument), so the annotations only
# state the dtype kind; each docstring gives the expected shape.
RealInput = Real[ArrayLike, "..."]
IntInput = Int[ArrayLike, "..."]
BoolInput = Bool[ArrayLike, "..."]


def as_float(x: ArrayLike, name: str) -> Float[Array, "..."]:
    """Converts `x` to a floating JAX array (integers and bools become float32).

    Args:
        x: An array-like value.
        name: How the argument is written in error messages, e.g.
            "`Normal(loc=...)`".

    Raises:
        ValueError: If `x` is not array-like: None, a non-numeric value, or a
            ragged nested sequence.
    """
    message = (
        f"{name} must be a number or an array of numbers (a JAX or NumPy array, "
        f"or a rectangular nested list), got {x!r}."
    )
    if x is None:
        raise ValueError(message)
    try:
        array = jnp.asarray(x)
    except (TypeError, ValueError) as error:
        raise ValueError(message) from error
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.float32)
    return array


def host_array(x: object) -> np.ndarray | None:
    """`x` as a float64 NumPy array when it is a host value, else None.

    Host values are Python numbers and (nested) sequences of them, and NumPy
    arrays and scalars. JAX arrays give None: they may be traced, and even a
    concrete one would have to be copied from the device, so the
    distributions never check them (no checks inside `jax.jit`).
    """
    if isinstance(x, jax.Array) or not isinstance(
        x, (int, float, np.ndarray, np.number, np.bool_, list, tuple)
    ):
        return None
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError, jax.errors.JAXTypeError):
        # a sequence holding JAX arrays (possibly traced), or ragged
        return None


def check_host(
    x: object, valid: Callable[[np.ndarray], np.ndarray], message: str
) -> None:
    """Raises `ValueError` if `x` is a host value (see `host_array`) for which
    `valid` is not everywhere true.

    Args:
        x: The argument as the user gave it.
        valid: Maps the float64 array to a boolean array (or scalar).
        message: The start of the error, naming the argument and what it
            must be; the offending value is appended.
    """
    array = host_array(x)
    if array is not None and not np.all(valid(array)):
        raise ValueError(f"{message}, got {x!r}.")


def smallest_normal(x: object) -> tuple[float, str] | None:
    """The smallest normal number (and the dtype's name) of the dtype in
    which `jnp.asarray` stores the host value `x`, where XLA reads that
    dtype's subnormal numbers as zero (float32, bfloat16, float64, on CPU
    and GPU alike); None for other dtypes (float16 is computed in float32,
    integers have no subnormals) and for values that are not host values
    (see `host_array`)."""
    if host_array(x) is None:
        return None
    # Python floats become float32 unless jax_enable_x64 is on
    dtype = jax.dtypes.canonicalize_dtype(np.asarray(x).dtype)
    if not jnp.issubdtype(dtype, jnp.floating) or dtype == np.float16:
        return None
    return float(jnp.finfo(dtype).tiny), np.dtype(dtype).name


def check_positive_scale(scale: object, name: str) -> None:
    """Raises `ValueError` if `scale` is a host value that is not everywhere
    positive (NaN included), or is subnormal where XLA reads subnormal numbers
    as zero (which made log-densities NaN); JAX arrays pass (see
    `host_array`)."""
    check_host(scale, lambda s: s > 0, f"{name} must be positive (standard deviations)")
    normal = smallest_normal(scale)
    if normal is not None:
        tiny, dtype = normal
        check_host(
            scale,
            lambda s: s >= tiny,
            f"{name} must be at least {tiny:.4g}, the smallest normal {dtype}: "
            "XLA reads smaller (subnormal) numbers as zero",
        )


def broadcast_shape(*shapes: tuple[int, ...], what: str) -> tuple[int, ...]:
    """NumPy's broadcast of `shapes`, with a readable error.

    Args:
        *shapes: The shapes to broadcast.
        what: A description of the arrays for the error message.

    Raises:
        ValueError: If the shapes do not broadcast.
    """
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError as error:
        shown = ", ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{what} must broadcast together, got shapes {shown}.") from (
            error
        )


def broadcast_all(*arrays: Array, what: str) -> tuple[Array, ...]:
    """Broadcasts arrays to their common shape (explicit rank promotion).

    Args:
        *arrays: JAX arrays.
        what: A description of the arrays for the error message.

    Raises:
        ValueError: If the shapes do not broadcast.
    """
    shape = broadcast_shape(*(a.shape for a in arrays), what=what)
    return tuple(jnp.broadcast_to(a, shape) for a in arrays)


def broadcast_batch(
    value: Array, param: Array, event_ndim: int, what: str
) -> tuple[Array, Array]:
    """Broadcasts the batch dimensions of `value` and `param`.

    The last `event_ndim` axes of each array are kept as they are; the axes in
    front of them are broadcast together.

    Args:
        value: An array whose trailing `event_ndim` axes are its event.
        param: A parameter array with `event_ndim` trailing event axes.
        event_ndim: Number of trailing axes excluded from broadcasting.
        what: A description of the arrays for the error message.

    Raises:
        ValueError: If the batch shapes do not broadcast.
    """
    split_v = value.ndim - event_ndim
    split_p = param.ndim - event_ndim
    batch = broadcast_shape(value.shape[:split_v], param.shape[:split_p], what=what)
    return (
        jnp.broadcast_to(value, batch + value.shape[split_v:]),
        jnp.broadcast_to(param, batch + param.shape[split_p:]),
    )


def trailing(x: ArrayLike, ndim: int) -> Array:
    """Reshapes a 1-D array so it broadcasts along the last axis of `ndim` axes."""
    x = jnp.asarray(x)
    return jnp.reshape(x, (1,) * (ndim - 1) + x.shape)


def sum_last(x: Array, ndim: int) -> Array:
    """Sums over the last `ndim` axes (no-op for `ndim == 0`)."""
    if ndim == 0:
        return x
    return jnp.sum(x, axis=tuple(range(-ndim, 0)))
