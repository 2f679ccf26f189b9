"""`Box`: a (possibly unbounded) n-dimensional interval of real or integer values."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Key

from ._base import AbstractSpace, false_
from ._utils import StaticArray, as_array, check_key, is_float_dtype, is_integer_dtype


@final
class Box(AbstractSpace[Array, None]):
    """The Cartesian product of intervals `[low[i], high[i]]`.

    Bounds may be infinite. Sampling is uniform where both bounds are finite,
    standard normal where both are infinite, and a shifted unit exponential
    where only one is finite (as Gymnasium does). Integer boxes sample
    uniformly among the integers in the bounds.

    Attributes:
        low: Lower bounds, a read-only NumPy array of shape `shape`.
        high: Upper bounds, a read-only NumPy array of shape `shape`.
    """

    _low: StaticArray = eqx.field(static=True)
    _high: StaticArray = eqx.field(static=True)
    _dtype: np.dtype = eqx.field(static=True)

    def __init__(
        self,
        low: ArrayLike,
        high: ArrayLike,
        shape: tuple[int, ...] | None = None,
        dtype: Any = jnp.float32,
    ):
        """Builds a box.

        Args:
            low: Lower bounds (scalar or array; `-inf` allowed for floats).
            high: Upper bounds (scalar or array; `inf` allowed for floats).
            shape: The sample shape. If None it is inferred by broadcasting
                `low` and `high`; `()` gives a scalar box.
            dtype: A floating or integer dtype (default float32).

        Raises:
            ValueError: If the bounds do not broadcast to `shape`, contain NaN,
                or `low > high` anywhere.
            TypeError: If `dtype` is neither floating nor integer.
        """
        dtype = np.dtype(dtype)
        if not (is_float_dtype(dtype) or is_integer_dtype(dtype)):
            raise TypeError(
                f"`Box(dtype=...)` must be a floating or integer dtype, got {dtype}."
            )
        try:
            low_np = np.asarray(low, dtype=np.float64)
            high_np = np.asarray(high, dtype=np.float64)
        except Exception as error:
            raise TypeError(
                "`Box(low, high)` bounds must be concrete numbers or arrays, "
                "not traced values; build spaces outside `jax.jit`."
            ) from error
        if shape is None:
            try:
                shape = np.broadcast_shapes(low_np.shape, high_np.shape)
            except ValueError as error:
                raise ValueError(
                    f"`Box` bounds have incompatible shapes {low_np.shape} and "
                    f"{high_np.shape}."
                ) from error
        shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in shape):
            raise ValueError(f"`Box(shape=...)` must be non-negative, got {shape}.")
        try:
            low_np = np.broadcast_to(low_np, shape)
            high_np = np.broadcast_to(high_np, shape)
        except ValueError as error:
            raise ValueError(
                f"`Box` bounds of shapes {np.shape(low)} and {np.shape(high)} do not "
                f"broadcast to `shape={shape}`."
            ) from error
        if np.isnan(low_np).any() or np.isnan(high_np).any():
            raise ValueError("`Box` bounds must not be NaN.")
        if (low_np > high_np).any():
            bad = np.argwhere(low_np > high_np)[0]
            raise ValueError(
                f"`Box` needs low <= high everywhere, but at index {tuple(bad)} "
                f"low={low_np[tuple(bad)]} > high={high_np[tuple(bad)]}. Swap the "
                "bounds or fix them."
            )
        if is_integer_dtype(dtype):
            info = np.iinfo(dtype)
            low_np = np.clip(low_np, info.min, info.max)
            high_np = np.clip(high_np, info.min, info.max)
        self._low = StaticArray(low_np, dtype=dtype)
        self._high = StaticArray(high_np, dtype=dtype)
        self._dtype = dtype

    @property
    def low(self) -> np.ndarray:
        return self._low.array

    @property
    def high(self) -> np.ndarray:
        return self._high.array

    @property
    def shape(self) -> tuple[int, ...]:
        return self._low.array.shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def bounded_below(self) -> np.ndarray:
        """Where the lower bound is finite."""
        return np.isfinite(self.low)

    @property
    def bounded_above(self) -> np.ndarray:
        """Where the upper bound is finite."""
        return np.isfinite(self.high)

    def is_bounded(self) -> bool:
        """Whether every bound is finite."""
        return bool(self.bounded_below.all() and self.bounded_above.all())

    def sample(self, *, key: Key[Array, ""], mask: None = None) -> Array:
        check_key(key, "Box.sample")
        if mask is not None:
            raise ValueError("`Box.sample` does not support masks; pass `mask=None`.")
        if is_integer_dtype(self.dtype):
            # randint excludes maxval; at the dtype's maximum the top value is
            # unreachable, which only matters for boxes spanning the whole range.
            top = np.iinfo(self.dtype).max
            maxval = np.where(self.high < top, self.high.astype(np.int64) + 1, top)
            return jr.randint(
                key, self.shape, self.low, maxval.astype(self.dtype), dtype=self.dtype
            )
        k_uniform, k_normal, k_exp = jr.split(key, 3)
        low = jnp.asarray(self.low, jnp.float32)
        high = jnp.asarray(self.high, jnp.float32)
        finite_low = jnp.where(self.bounded_below, low, 0.0)
        finite_high = jnp.where(self.bounded_above, high, 0.0)
        uniform = jr.uniform(
            k_uniform, self.shape, minval=finite_low, maxval=finite_high
        )
        normal = jr.normal(k_normal, self.shape)
        exponential = jr.exponential(k_exp, self.shape)
        both = self.bounded_below & self.bounded_above
        sample = jnp.where(
            both,
            uniform,
            jnp.where(
                self.bounded_below,
                finite_low + exponential,
                jnp.where(self.bounded_above, finite_high - exponential, normal),
            ),
        )
        return sample.astype(self.dtype)

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != self.shape:
            return false_()
        if is_integer_dtype(self.dtype):
            if not is_integer_dtype(x.dtype):
                return false_()
        elif not (is_float_dtype(x.dtype) or is_integer_dtype(x.dtype)):
            return false_()
        return jnp.all((x >= self.low) & (x <= self.high))

    def flatten_sample(self, sample: Array) -> Float[Array, " n"]:
        return jnp.reshape(jnp.asarray(sample), (-1,)).astype(jnp.float32)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Array:
        flat = jnp.asarray(flat)
        if is_integer_dtype(self.dtype):
            flat = jnp.round(flat)
        return jnp.reshape(flat, self.shape).astype(self.dtype)

    @property
    def flat_size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def canonical(self) -> Array:
        low = self.low.astype(np.float64)
        high = self.high.astype(np.float64)
        both = np.isfinite(low) & np.isfinite(high)
        mid = np.array(np.clip(0.0, low, high), dtype=np.float64)
        mid[both] = low[both] / 2 + high[both] / 2
        if is_integer_dtype(self.dtype):
            mid = np.floor(mid)
        return jnp.asarray(mid, dtype=self.dtype)

    def _identity(self) -> tuple:
        return (self._low, self._high, self._dtype.str)

    def __repr__(self) -> str:
        def fmt(a: np.ndarray) -> str:
            if a.size > 0 and (a == a.flat[0]).all():
                return repr(a.flat[0].item())
            return np.array2string(a, separator=", ")

        dtype = "" if self.dtype == np.float32 else f", dtype={self.dtype.name}"
        return f"Box(low={fmt(self.low)}, high={fmt(self.high)}, shape={self.shape}{dtype})"
