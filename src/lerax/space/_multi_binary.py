"""`MultiBinary`: an array of independent booleans."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractSpace, check_sample_size, false_
from ._utils import as_array, as_shape, check_key, is_integer_dtype


@final
class MultiBinary(AbstractSpace[Bool[Array, "..."], Bool[Array, "..."]]):
    """Boolean arrays of a fixed shape.

    Samples are `bool` arrays; `contains` also accepts integer arrays of 0/1.
    A mask has the sample's shape: where it is False the entry is forced to
    False (it cannot be switched on); where it is True the entry is a fair
    coin.

    Attributes:
        n: The shape, given as an int `n` (meaning `(n,)`) or a tuple.
    """

    n: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, n: int | tuple[int, ...]):
        """Builds the space.

        Args:
            n: The number of bits, or the shape of the bit array.

        Raises:
            ValueError: If `n` is not a positive int or a non-empty tuple of
                positive ints.
        """
        shape = as_shape(n, "MultiBinary(n=...)")
        if not shape:
            raise ValueError("`MultiBinary(n=...)` must not be an empty shape.")
        if any(d < 1 for d in shape):
            raise ValueError(f"`MultiBinary(n=...)` sizes must be >= 1, got {shape}.")
        self.n = shape

    @property
    def shape(self) -> tuple[int, ...]:
        return self.n

    @property
    def dtype(self) -> Any:
        return jnp.dtype(jnp.bool_)

    def sample(
        self, *, key: Key[Array, ""], mask: Bool[Array, "..."] | None = None
    ) -> Bool[Array, "..."]:
        check_key(key, "MultiBinary.sample")
        bits = jr.bernoulli(key, 0.5, self.shape)
        if mask is None:
            return bits
        mask = jnp.asarray(mask)
        if mask.shape != self.shape:
            raise ValueError(
                f"`{self!r}.sample(mask=...)` needs a mask of shape {self.shape}, "
                f"got {mask.shape}."
            )
        return bits & mask.astype(bool)

    def contains(self, x: Any) -> Bool[Array, ""]:
        x = as_array(x)
        if x is None or x.shape != self.shape:
            return false_()
        if x.dtype == jnp.bool_:
            return np.array(True)
        if not is_integer_dtype(x.dtype):
            return false_()
        return jnp.all((x == 0) | (x == 1))

    def flatten_sample(self, sample: Bool[Array, "..."]) -> Float[Array, " n"]:
        check_sample_size(self, sample, self.flat_size)
        return jnp.reshape(jnp.asarray(sample), (-1,)).astype(jnp.float32)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> Bool[Array, "..."]:
        flat = jnp.asarray(flat)
        if flat.shape != (self.flat_size,):
            raise ValueError(
                f"`{self!r}.unflatten_sample` needs shape ({self.flat_size},), got "
                f"{flat.shape}."
            )
        return jnp.reshape(flat > 0.5, self.shape)

    @property
    def flat_size(self) -> int:
        return int(np.prod(self.shape))

    def canonical(self) -> Bool[Array, "..."]:
        return jnp.zeros(self.shape, dtype=bool)

    def _identity(self) -> tuple:
        return self.n

    def __repr__(self) -> str:
        n = self.n[0] if len(self.n) == 1 else self.n
        return f"MultiBinary({n})"
