"""`Box`: a (possibly unbounded) n-dimensional interval of real or integer values."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Key

from ._base import AbstractSpace, check_sample_size, false_
from ._utils import (
    StaticArray,
    as_array,
    as_shape,
    check_key,
    float_in_range,
    int_in_range,
    is_float_dtype,
    is_integer_dtype,
    round_into_dtype,
)


@final
class Box(AbstractSpace[Array, None]):
    """The Cartesian product of intervals `[low[i], high[i]]`.

    Bounds may be infinite. Sampling is uniform where both bounds are finite,
    standard normal where both are infinite, and a shifted unit exponential
    where only one is finite (as Gymnasium does). Integer boxes sample
    uniformly among the integers in the bounds; their infinite bounds are
    replaced by the dtype's limits and fractional bounds are rounded inwards.

    The dtype is JAX's canonical version of the requested one (float64 becomes
    float32 unless `jax_enable_x64` is set), so it is the dtype of samples.
    Integer samples round-trip exactly through `flatten_sample` (float32) only
    while their magnitude is at most 2**24.

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
            low: Lower bounds (scalar or array; `-inf` allowed).
            high: Upper bounds (scalar or array; `inf` allowed).
            shape: The sample shape. If None it is inferred by broadcasting
                `low` and `high`; `()` gives a scalar box.
            dtype: A floating or integer dtype (default float32).

        Raises:
            ValueError: If the bounds do not broadcast to `shape`, contain NaN,
                `low > high` anywhere, `low` is `+inf` or `high` is `-inf`, an
                integer box holds no integer, or `shape` is not a valid shape.
            TypeError: If `dtype` is neither floating nor integer, or the bounds
                are not concrete numbers.
        """
        try:
            dtype = jax.dtypes.canonicalize_dtype(np.dtype(dtype))
        except TypeError as error:
            raise TypeError(f"`Box(dtype=...)` is not a dtype: {dtype!r}.") from error
        if not (is_float_dtype(dtype) or is_integer_dtype(dtype)):
            raise TypeError(
                f"`Box(dtype=...)` must be a floating or integer dtype, got {dtype}."
            )
        try:
            low_np = np.asarray(low, dtype=np.float64)
            high_np = np.asarray(high, dtype=np.float64)
        except Exception as error:
            raise TypeError(
                "`Box(low, high)` bounds must be concrete real numbers or arrays of "
                f"them (not traced values; build spaces outside `jax.jit`), got "
                f"{low!r} and {high!r}."
            ) from error
        if shape is None:
            try:
                shape = np.broadcast_shapes(low_np.shape, high_np.shape)
            except ValueError as error:
                raise ValueError(
                    f"`Box` bounds have incompatible shapes {low_np.shape} and "
                    f"{high_np.shape}."
                ) from error
        shape = as_shape(shape, "Box(shape=...)")
        try:
            low_np = np.broadcast_to(low_np, shape)
            high_np = np.broadcast_to(high_np, shape)
        except ValueError as error:
            raise ValueError(
                f"`Box` bounds of shapes {low_np.shape} and {high_np.shape} do not "
                f"broadcast to `shape={shape}`."
            ) from error
        if np.isnan(low_np).any() or np.isnan(high_np).any():
            raise ValueError("`Box` bounds must not be NaN.")
        if (low_np > high_np).any():
            bad = tuple(int(i) for i in np.argwhere(low_np > high_np)[0])
            raise ValueError(
                f"`Box` needs low <= high everywhere, but at index {bad} "
                f"low={low_np[bad]} > high={high_np[bad]}. Swap the bounds or fix "
                "them."
            )
        if (low_np == np.inf).any() or (high_np == -np.inf).any():
            raise ValueError("`Box` needs low < +inf and high > -inf everywhere.")
        if is_integer_dtype(dtype):
            low_np = _exact_integers(low, low_np)
            high_np = _exact_integers(high, high_np)
            low_np, high_np = _integer_bounds(low_np, high_np, dtype)
        else:
            # Finite bounds beyond the dtype's range become its largest values.
            top = float(np.finfo(dtype).max)
            finite_low, finite_high = np.isfinite(low_np), np.isfinite(high_np)
            low_np = np.where(finite_low, np.clip(low_np, -top, top), low_np)
            high_np = np.where(finite_high, np.clip(high_np, -top, top), high_np)
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
            return self._sample_integer(key)
        return self._sample_float(key)

    def _sample_float(self, key: Key[Array, ""]) -> Array:
        compute = jnp.promote_types(self.dtype, jnp.float32)
        top = float(np.finfo(self.dtype).max)
        below, above = self.bounded_below, self.bounded_above
        low = np.where(below, self.low, 0.0).astype(np.float64)
        high = np.where(above, self.high, 0.0).astype(np.float64)
        # Only draw the distributions some dimension needs (the kinds of the
        # dimensions are static); a box of one kind uses `key` itself, which
        # spares a key split on hot paths such as random-action rollouts.
        both = below & above
        one = below ^ above
        neither = ~(below | above)
        kinds = int(both.any()) + int(one.any()) + int(neither.any())
        if kinds == 1:
            k_uniform = k_normal = k_exp = key
        else:
            k_uniform, k_normal, k_exp = (jr.fold_in(key, i) for i in range(3))
        parts = []
        if both.any():
            # mid +- half never overflows, unlike high - low for huge bounds.
            mid = (low / 2 + high / 2).astype(compute)
            half = (high / 2 - low / 2).astype(compute)
            u = jr.uniform(k_uniform, self.shape, compute)
            parts.append((both, mid + (2 * u - 1) * half))
        if one.any():
            exponential = jr.exponential(k_exp, self.shape, compute)
            sign = np.where(below, 1.0, -1.0).astype(compute)
            base = np.where(below, low, high).astype(compute)
            parts.append((one, base + sign * exponential))
        if neither.any():
            parts.append((neither, jr.normal(k_normal, self.shape, compute)))
        sample = parts[0][1] if parts else jnp.zeros(self.shape, compute)
        for where, values in parts[1:]:
            sample = jnp.where(where, values, sample)
        # Rounding can step just outside the bounds; keep samples finite too.
        lo = np.where(below, low, -top).astype(compute)
        hi = np.where(above, high, top).astype(compute)
        return jnp.clip(sample, lo, hi).astype(self.dtype)

    def _sample_integer(self, key: Key[Array, ""]) -> Array:
        info = np.iinfo(self.dtype)
        low, high = self.low, self.high
        # randint excludes its maximum, so sample [low, high + 1) or, where
        # high is the dtype's maximum, [low - 1, high) shifted up by one.
        # Computed in the box's own dtype (int64 cannot hold uint64 bounds);
        # the branches `where` discards may wrap around, harmlessly.
        at_top = high == info.max
        at_both = at_top & (low == info.min)
        with np.errstate(over="ignore"):
            minval = np.where(at_top & ~at_both, low - np.ones_like(low), low)
            maxval = np.where(at_top, high, high + np.ones_like(high))
        shift = np.where(at_top & ~at_both, 1, 0)
        k_int, k_bits = jr.split(key)
        sample = jr.randint(
            k_int,
            self.shape,
            minval.astype(self.dtype),
            maxval.astype(self.dtype),
            dtype=self.dtype,
        ) + shift.astype(self.dtype)
        if at_both.any():
            # The whole dtype range: every bit pattern is equally likely.
            bits = jr.bits(k_bits, self.shape, np.dtype(f"uint{info.bits}"))
            sample = jnp.where(
                at_both, jax.lax.bitcast_convert_type(bits, self.dtype), sample
            )
        return sample

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != self.shape:
            return false_()
        if is_integer_dtype(self.dtype):
            if not is_integer_dtype(x.dtype):
                return false_()
            return jnp.all(int_in_range(x, self.low, self.high))
        if is_integer_dtype(x.dtype):
            # Exact: comparing as floats would round large integers first.
            return jnp.all(int_in_range(x, self.low, self.high))
        if not is_float_dtype(x.dtype):
            return false_()
        # Not `x >= low`: XLA reads subnormal numbers as zero (-1e-45 >= 0).
        return jnp.all(float_in_range(x, self.low, self.high))

    def flatten_sample(self, sample: Array) -> Float[Array, " n"]:
        check_sample_size(self, sample, self.flat_size)
        return jnp.reshape(jnp.asarray(sample), (-1,)).astype(jnp.float32)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Array:
        flat = jnp.asarray(flat)
        if flat.shape != (self.flat_size,):
            raise ValueError(
                f"`{self!r}.unflatten_sample` needs shape ({self.flat_size},), got "
                f"{flat.shape}."
            )
        if is_integer_dtype(self.dtype):
            flat = jnp.round(flat)
        return jnp.reshape(flat, self.shape).astype(self.dtype)

    @property
    def flat_size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def canonical(self) -> Array:
        if is_integer_dtype(self.dtype):
            # floor((low + high) / 2), exactly and without overflow.
            low, high = self.low, self.high
            mid = low // 2 + high // 2 + (low % 2 + high % 2) // 2
            return jnp.asarray(mid.astype(self.dtype))
        low = self.low.astype(np.float64)
        high = self.high.astype(np.float64)
        both = np.isfinite(low) & np.isfinite(high)
        mid = np.where(both, low, 0.0) / 2 + np.where(both, high, 0.0) / 2
        value = np.where(both, mid, np.clip(np.zeros(self.shape), low, high))
        return jnp.asarray(value.astype(self.dtype))

    def _identity(self) -> tuple:
        return (self._low, self._high, self._dtype.str)

    def __repr__(self) -> str:
        def fmt(a: np.ndarray) -> str:
            if a.size > 0 and (a == a.flat[0]).all():
                return str(a.flat[0])
            return np.array2string(a, separator=", ")

        dtype = "" if self.dtype == np.float32 else f", dtype={self.dtype.name}"
        return f"Box(low={fmt(self.low)}, high={fmt(self.high)}, shape={self.shape}{dtype})"


def _exact_integers(bound: ArrayLike, as_float: np.ndarray) -> np.ndarray:
    """`bound` as given when it holds integers (broadcast like `as_float`),
    else its float64 version `as_float`.

    Integer bounds must not go through float64, which rounds them beyond
    2**53 (e.g. `2**62 + 1` to `2**62`).
    """
    raw = np.asarray(bound)
    if raw.dtype.kind not in "iu":
        return as_float
    return np.broadcast_to(raw, as_float.shape)


def _integer_bounds(
    low: np.ndarray, high: np.ndarray, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Rounds the bounds inwards to integers within `dtype`'s range.

    Each bound is either float64 (possibly infinite or fractional) or an
    integer array, which is kept exact.
    """
    info = np.iinfo(dtype)
    low, low_over, low_under = round_into_dtype(low, dtype, np.ceil)
    high, high_over, high_under = round_into_dtype(high, dtype, np.floor)
    if low_over.any() or high_under.any():
        raise ValueError(
            f"`Box(dtype={dtype})` bounds lie outside the dtype's range "
            f"[{info.min}, {info.max}]."
        )
    low = np.where(low_under, info.min, low).astype(dtype)
    high = np.where(high_over, info.max, high).astype(dtype)
    if (low > high).any():
        bad = tuple(int(i) for i in np.argwhere(low > high)[0])
        raise ValueError(
            f"`Box(dtype={dtype})` holds no integer at index {bad}: the bounds "
            f"(low={low[bad]}, high={high[bad]} after rounding inwards) have no "
            "integer between them."
        )
    return low, high
