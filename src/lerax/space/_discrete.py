"""`Discrete`: the integers `start, ..., start + n - 1`."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, Key

from ._base import AbstractSpace, false_
from ._utils import as_array, check_key, is_integer_dtype, one_hot


@final
class Discrete(AbstractSpace[Int[Array, ""], Bool[Array, " n"]]):
    """A finite set of `n` consecutive integers starting at `start`.

    Masks are boolean vectors of length `n`: `mask[i]` allows `start + i`.
    Masked sampling is uniform over the allowed values; if no value is allowed
    `start` is returned (Gymnasium's convention).

    Attributes:
        n: The number of elements (>= 1).
        start: The smallest element (default 0).
    """

    n: int = eqx.field(static=True)
    start: int = eqx.field(static=True, default=0)

    def __check_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise ValueError(
                f"`Discrete(n=...)` must be a positive int, got {self.n!r}."
            )
        if not isinstance(self.start, int) or isinstance(self.start, bool):
            raise ValueError(
                f"`Discrete(start=...)` must be an int, got {self.start!r}."
            )

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
            return jr.randint(key, (), self.start, self.start + self.n, dtype=jnp.int32)
        mask = jnp.asarray(mask)
        if mask.shape != (self.n,):
            raise ValueError(
                f"`Discrete({self.n}).sample(mask=...)` needs a mask of shape "
                f"({self.n},), got {mask.shape}."
            )
        logits = jnp.where(mask.astype(bool), 0.0, -jnp.inf)
        return (jr.categorical(key, logits) + self.start).astype(jnp.int32)

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != () or not is_integer_dtype(x.dtype):
            return false_()
        return (x >= self.start) & (x < self.start + self.n)

    def flatten_sample(self, sample: Int[Array, ""]) -> Float[Array, " n"]:
        return one_hot(jnp.asarray(sample) - self.start, self.n)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Int[Array, ""]:
        return (jnp.argmax(jnp.asarray(flat)) + self.start).astype(jnp.int32)

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
