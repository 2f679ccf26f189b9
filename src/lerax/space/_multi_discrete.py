"""`MultiDiscrete`: an array of independent discrete values."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Key

from ._base import AbstractSpace, false_
from ._utils import StaticArray, as_array, check_key, is_integer_dtype


@final
class MultiDiscrete(AbstractSpace[Int[Array, "..."], Bool[Array, "..."]]):
    """An array whose entry `i` lies in `start[i], ..., start[i] + nvec[i] - 1`.

    Masks come in one of two layouts:

    - padded: shape `nvec.shape + (max(nvec),)`, `mask[..., j]` allows value
      `start + j` of that entry (entries `j >= nvec` are ignored);
    - flat (1-D `nvec` only): the per-entry masks concatenated, length
      `sum(nvec)`.

    An entry with nothing allowed samples its `start`.

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
            ValueError: If `nvec` is empty, non-integral or has entries < 1.
        """
        nvec_np = np.asarray(nvec)
        if nvec_np.size == 0:
            raise ValueError("`MultiDiscrete(nvec=...)` must not be empty.")
        if not np.issubdtype(nvec_np.dtype, np.integer) and not (
            np.issubdtype(nvec_np.dtype, np.floating)
            and np.all(np.mod(nvec_np, 1) == 0)
        ):
            raise ValueError(
                f"`MultiDiscrete(nvec=...)` must be integers, got {nvec!r}."
            )
        if (nvec_np < 1).any():
            raise ValueError(
                f"`MultiDiscrete(nvec=...)` entries must be >= 1, got {nvec!r}."
            )
        start_np = np.zeros_like(nvec_np) if start is None else np.asarray(start)
        start_np = np.broadcast_to(start_np, nvec_np.shape)
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

    def padded_mask(self, mask: ArrayLike) -> Bool[Array, "..."]:
        """Converts a flat or padded mask to the padded layout.

        Raises:
            ValueError: If the mask has neither layout's shape.
        """
        mask = jnp.asarray(mask).astype(bool)
        width = int(self.nvec.max())
        if mask.shape == self.shape + (width,):
            return mask
        total = int(self.nvec.sum())
        if self.nvec.ndim == 1 and mask.shape == (total,):
            offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
            index = offsets[:, None] + np.arange(width)[None, :]
            valid = np.arange(width)[None, :] < self.nvec[:, None]
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
            return jr.randint(
                key, self.shape, self.start, self.start + self.nvec, dtype=jnp.int32
            )
        width = int(self.nvec.max())
        valid = np.arange(width) < self.nvec[..., None]
        allowed = self.padded_mask(mask) & valid
        logits = jnp.where(allowed, 0.0, -jnp.inf)
        return (jr.categorical(key, logits, axis=-1) + self.start).astype(jnp.int32)

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != self.shape or not is_integer_dtype(x.dtype):
            return false_()
        return jnp.all((x >= self.start) & (x < self.start + self.nvec))

    def flatten_sample(self, sample: Int[Array, "..."]) -> Float[Array, " n"]:
        index = jnp.reshape(jnp.asarray(sample) - self.start, (-1,))
        parts = [
            (jnp.arange(int(n)) == index[i]).astype(jnp.float32)
            for i, n in enumerate(self.nvec.reshape(-1))
        ]
        return jnp.concatenate(parts)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Int[Array, "..."]:
        flat = jnp.asarray(flat)
        bounds = np.cumsum(self.nvec.reshape(-1))[:-1]
        parts = jnp.split(flat, bounds)
        index = jnp.stack([jnp.argmax(p) for p in parts])
        return (jnp.reshape(index, self.shape) + self.start).astype(jnp.int32)

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
