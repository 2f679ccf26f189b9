"""`Discrete`: the integers `start, ..., start + n - 1`."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, Key

from ._base import AbstractSpace, false_, integer_sample
from ._utils import (
    INT32_MAX,
    INT32_MIN,
    as_array,
    as_int,
    check_key,
    int_in_range,
    is_integer_dtype,
    one_hot,
)


@final
class Discrete(AbstractSpace[Int[Array, ""], Bool[Array, " n"]]):
    """A finite set of `n` consecutive integers starting at `start`.

    Samples are int32 scalars. Masks are boolean vectors of length `n`:
    `mask[i]` allows `start + i`. Masked sampling is uniform over the allowed
    values; if no value is allowed `start` is returned (Gymnasium's
    convention).

    `flatten_sample` takes a scalar or any array of one element; a float
    sample must be a whole number (a concrete one that is not raises, as
    Gymnasium's `flatten` refuses it).

    Attributes:
        n: The number of elements (>= 1).
        start: The smallest element (default 0).
    """

    n: int = eqx.field(static=True)
    start: int = eqx.field(static=True)

    def __init__(self, n: int, start: int = 0):
        """Builds the space.

        Args:
            n: The number of elements, a positive integer.
            start: The smallest element (default 0).

        Raises:
            ValueError: If `n` is not a positive integer, `start` is not an
                integer, or the values do not fit in int32.
        """
        n = as_int(n, "Discrete(n=...)")
        start = as_int(start, "Discrete(start=...)")
        if n < 1:
            raise ValueError(f"`Discrete(n=...)` must be a positive int, got {n}.")
        if n > INT32_MAX or start < INT32_MIN or start + n - 1 > INT32_MAX:
            raise ValueError(
                f"`Discrete({n}, start={start})` values must fit in int32 "
                f"[{INT32_MIN}, {INT32_MAX}]."
            )
        self.n = n
        self.start = start

    @property
    def shape(self) -> tuple[int, ...]:
        return ()

    @property
    def dtype(self) -> Any:
        return jnp.dtype(jnp.int32)

    def sample(
        self, *, key: Key[Array, ""], mask: Bool[Array, " n"] | None = None
    ) -> Int[Array, ""]:
        check_key(key, "Discrete.sample")
        if mask is None:
            # Offsets from `start` never overflow, even at the top of int32.
            index = jr.randint(key, (), 0, self.n, dtype=jnp.int32)
            return (index + self.start).astype(jnp.int32)
        mask = jnp.asarray(mask)
        if mask.shape != (self.n,):
            raise ValueError(
                f"`{self!r}.sample(mask=...)` needs a mask of shape ({self.n},), got "
                f"{mask.shape}."
            )
        mask = mask.astype(bool)
        logits = jnp.where(mask, 0.0, -jnp.inf)
        index = jnp.where(jnp.any(mask), jr.categorical(key, logits), 0)
        return (index + self.start).astype(jnp.int32)

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != () or not is_integer_dtype(x.dtype):
            return false_()
        return int_in_range(x, self.start, self.start + self.n - 1)

    def flatten_sample(self, sample: Int[Array, ""]) -> Float[Array, " n"]:
        return one_hot(integer_sample(self, sample) - self.start, self.n)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Int[Array, ""]:
        flat = jnp.asarray(flat)
        if flat.shape != (self.n,):
            raise ValueError(
                f"`{self!r}.unflatten_sample` needs shape ({self.n},), got "
                f"{flat.shape}."
            )
        return (jnp.argmax(flat) + self.start).astype(jnp.int32)

    @property
    def flat_size(self) -> int:
        return self.n

    def canonical(self) -> Int[Array, ""]:
        return jnp.asarray(self.start, dtype=jnp.int32)

    def _identity(self) -> tuple:
        return (self.n, self.start)

    def __repr__(self) -> str:
        start = f", start={self.start}" if self.start else ""
        return f"Discrete({self.n}{start})"
