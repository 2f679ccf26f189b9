"""`MultiDiscrete`: an array of independent discrete values."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Key

from ._base import AbstractSpace, false_, integer_sample
from ._utils import (
    INT32_MAX,
    INT32_MIN,
    StaticArray,
    as_array,
    as_int_array,
    check_key,
    int_in_range,
    is_integer_dtype,
    one_hot,
)


@final
class MultiDiscrete(AbstractSpace[Int[Array, "..."], Bool[Array, "..."]]):
    """An array whose entry `i` lies in `start[i], ..., start[i] + nvec[i] - 1`.

    Samples are int32 arrays of shape `nvec.shape`. Masks come in one of two
    layouts:

    - padded: shape `nvec.shape + (max(nvec),)`, `mask[..., j]` allows value
      `start + j` of that entry (entries `j >= nvec` are ignored);
    - flat (1-D `nvec` only): the per-entry masks concatenated, length
      `sum(nvec)`.

    An entry with nothing allowed samples its `start`.

    `flatten_sample` takes any array with `nvec.size` elements; float samples
    must hold whole numbers (concrete ones that do not raise, as Gymnasium's
    `flatten` refuses them).

    Attributes:
        nvec: Number of values of each entry (read-only NumPy int array).
        start: Smallest value of each entry (read-only NumPy int array).
    """

    _nvec: StaticArray = eqx.field(static=True)
    _start: StaticArray = eqx.field(static=True)

    def __init__(self, nvec: ArrayLike, start: ArrayLike | None = None):
        """Builds the space.

        Args:
            nvec: Positive integer counts, any shape (e.g. `(3, 2)` or `[5]`).
            start: Smallest value of each entry, broadcast to `nvec`'s shape
                (default zeros).

        Raises:
            ValueError: If `nvec` is empty, non-integral or has entries < 1,
                if `start` is non-integral or does not broadcast to `nvec`'s
                shape, or if the values do not fit in int32.
        """
        nvec_np = as_int_array(nvec, "MultiDiscrete(nvec=...)")
        if nvec_np.size == 0:
            raise ValueError("`MultiDiscrete(nvec=...)` must not be empty.")
        if (nvec_np < 1).any():
            raise ValueError(
                f"`MultiDiscrete(nvec=...)` entries must be >= 1, got {nvec!r}."
            )
        if start is None:
            start_np = np.zeros_like(nvec_np)
        else:
            start_np = as_int_array(start, "MultiDiscrete(start=...)")
            try:
                start_np = np.broadcast_to(start_np, nvec_np.shape)
            except ValueError:
                raise ValueError(
                    f"`MultiDiscrete(start=...)` of shape {start_np.shape} does not "
                    f"broadcast to `nvec`'s shape {nvec_np.shape}."
                ) from None
        if (
            (nvec_np > INT32_MAX).any()
            or (start_np < INT32_MIN).any()
            or (start_np + nvec_np - 1 > INT32_MAX).any()
        ):
            raise ValueError(
                f"`MultiDiscrete` values must fit in int32 [{INT32_MIN}, {INT32_MAX}]."
            )
        self._nvec = StaticArray(nvec_np, dtype=np.int32)
        self._start = StaticArray(start_np, dtype=np.int32)

    @property
    def nvec(self) -> np.ndarray:
        return self._nvec.array

    @property
    def start(self) -> np.ndarray:
        return self._start.array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.nvec.shape

    @property
    def dtype(self) -> Any:
        return jnp.dtype(jnp.int32)

    @property
    def _width(self) -> int:
        return int(self.nvec.max())

    def _valid(self) -> np.ndarray:
        """Which padded positions `(..., j)` are real values (`j < nvec`)."""
        return np.arange(self._width) < self.nvec[..., None]

    def padded_mask(self, mask: ArrayLike) -> Bool[Array, "..."]:
        """Converts a flat, padded or per-entry mask to the padded layout.

        The per-entry layout is Gymnasium's: a tuple with one mask per entry
        (1-D `nvec` only). Positions beyond an entry's `nvec` are False in
        the result.

        Raises:
            ValueError: If the mask has none of these layouts.
        """
        if isinstance(mask, (tuple, list)) and any(np.ndim(m) > 0 for m in mask):
            shapes = [np.shape(m) for m in mask]
            wanted = [(int(n),) for n in np.ravel(self.nvec)]
            if self.nvec.ndim != 1 or shapes != wanted:
                raise ValueError(
                    f"`{self!r}` masks given per entry must be {len(wanted)} arrays "
                    f"of shapes {wanted}, got {shapes}."
                )
            mask = jnp.concatenate([jnp.asarray(m) for m in mask])
        mask = jnp.asarray(mask).astype(bool)
        width = self._width
        valid = self._valid()
        if mask.shape == self.shape + (width,):
            return mask & valid
        total = self.flat_size
        if self.nvec.ndim == 1 and mask.shape == (total,):
            offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
            index = offsets[:, None] + np.arange(width)[None, :]
            return jnp.where(valid, mask[np.minimum(index, total - 1)], False)
        raise ValueError(
            f"`{self!r}` masks must have shape {self.shape + (width,)} (padded)"
            + (f" or ({total},) (flat)" if self.nvec.ndim == 1 else "")
            + f", got {mask.shape}."
        )

    def sample(
        self, *, key: Key[Array, ""], mask: Bool[Array, "..."] | None = None
    ) -> Int[Array, "..."]:
        check_key(key, "MultiDiscrete.sample")
        if mask is None:
            # Offsets from `start` never overflow, even at the top of int32.
            index = jr.randint(key, self.shape, 0, self.nvec, dtype=jnp.int32)
            return (index + self.start).astype(jnp.int32)
        allowed = self.padded_mask(mask)
        logits = jnp.where(allowed, 0.0, -jnp.inf)
        index = jr.categorical(key, logits, axis=-1)
        index = jnp.where(jnp.any(allowed, axis=-1), index, 0)
        return (index + self.start).astype(jnp.int32)

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != self.shape or not is_integer_dtype(x.dtype):
            return false_()
        high = self.start.astype(np.int64) + self.nvec - 1
        return jnp.all(int_in_range(x, self.start, high))

    def _positions(self) -> np.ndarray:
        """Indices of the real values in the flattened padded layout."""
        return np.flatnonzero(self._valid().reshape(-1))

    def flatten_sample(self, sample: Int[Array, "..."]) -> Float[Array, " n"]:
        index = integer_sample(self, sample) - self.start
        padded = one_hot(index, self._width)
        return jnp.reshape(padded, (-1,))[self._positions()]

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Int[Array, "..."]:
        flat = jnp.asarray(flat)
        if flat.shape != (self.flat_size,):
            raise ValueError(
                f"`{self!r}.unflatten_sample` needs shape ({self.flat_size},), got "
                f"{flat.shape}."
            )
        padded = jnp.full(self.shape + (self._width,), -jnp.inf, jnp.float32)
        padded = padded.reshape(-1).at[self._positions()].set(flat)
        index = jnp.argmax(padded.reshape(self.shape + (self._width,)), axis=-1)
        return (index + self.start).astype(jnp.int32)

    @property
    def flat_size(self) -> int:
        return int(self.nvec.sum())

    def canonical(self) -> Int[Array, "..."]:
        return jnp.asarray(self.start, dtype=jnp.int32)

    def _identity(self) -> tuple:
        return (self._nvec, self._start)

    def __repr__(self) -> str:
        start = f", start={self.start.tolist()}" if self.start.any() else ""
        return f"MultiDiscrete({self.nvec.tolist()}{start})"
