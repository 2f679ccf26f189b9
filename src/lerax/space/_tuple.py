"""`Tuple`: an ordered product of sub-spaces."""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, final

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractSpace, false_
from ._utils import all_of, check_key


@final
class Tuple(AbstractSpace[tuple, None]):
    """A product of sub-spaces; samples are Python tuples.

    `contains` and `flatten_sample` accept tuples and lists of the right
    length (`flatten_sample` raises for anything else). `sample` accepts
    an optional sequence of per-entry masks (None entries allowed).

    Attributes:
        spaces: The sub-spaces.
    """

    spaces: tuple[AbstractSpace, ...]

    def __init__(self, spaces: Sequence[AbstractSpace]):
        """Builds the space.

        Raises:
            TypeError: If `spaces` is not a sequence, or an entry is not a lerax
                space.
        """
        if isinstance(spaces, (AbstractSpace, str, bytes)) or not isinstance(
            spaces, Iterable
        ):
            raise TypeError(
                "`Tuple(spaces)` takes a sequence of lerax spaces, e.g. "
                f"`Tuple([Discrete(2), Discrete(3)])`, got {type(spaces).__name__}."
            )
        spaces = tuple(spaces)
        for i, space in enumerate(spaces):
            if not isinstance(space, AbstractSpace):
                raise TypeError(
                    f"`Tuple` entry {i} must be a lerax space, got {type(space).__name__}."
                )
        self.spaces = spaces

    def __getitem__(self, index: int) -> AbstractSpace:
        return self.spaces[index]

    def __len__(self) -> int:
        return len(self.spaces)

    def __iter__(self) -> Iterator[AbstractSpace]:
        return iter(self.spaces)

    @property
    def shape(self) -> None:
        return None

    @property
    def dtype(self) -> None:
        return None

    def sample(
        self, *, key: Key[Array, ""], mask: Sequence[Any] | None = None
    ) -> tuple:
        check_key(key, "Tuple.sample")
        if mask is not None and not isinstance(mask, (tuple, list)):
            raise TypeError(
                "`Tuple.sample(mask=...)` must be a tuple or list of per-entry masks "
                f"(None for no mask), got {type(mask).__name__}."
            )
        masks = (None,) * len(self) if mask is None else tuple(mask)
        if len(masks) != len(self):
            raise ValueError(
                f"`Tuple.sample(mask=...)` needs {len(self)} masks, got {len(masks)}."
            )
        keys = jr.split(key, max(len(self), 1))
        return tuple(
            s.sample(key=k, mask=m) for s, k, m in zip(self.spaces, keys, masks)
        )

    def contains(self, x: Any) -> Bool[Array, ""]:
        if not isinstance(x, (tuple, list)) or len(x) != len(self):
            return false_()
        return all_of([space.contains(v) for space, v in zip(self.spaces, x)])

    def flatten_sample(self, sample: Sequence[Any]) -> Float[Array, " n"]:
        if not isinstance(sample, (tuple, list)) or len(sample) != len(self):
            got = (
                f"a {type(sample).__name__} of length {len(sample)}"
                if isinstance(sample, (tuple, list))
                else f"a {type(sample).__name__}"
            )
            raise ValueError(
                f"`{self!r}.flatten_sample` needs a tuple (or list) of "
                f"{len(self)} entries, one per sub-space, got {got}."
            )
        parts = [space.flatten_sample(v) for space, v in zip(self.spaces, sample)]
        return jnp.concatenate(parts) if parts else jnp.zeros((0,), jnp.float32)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> tuple:
        flat = jnp.asarray(flat)
        if flat.shape != (self.flat_size,):
            raise ValueError(
                f"`Tuple.unflatten_sample` needs shape ({self.flat_size},), got "
                f"{flat.shape}."
            )
        out, offset = [], 0
        for space in self.spaces:
            out.append(space.unflatten_sample(flat[offset : offset + space.flat_size]))
            offset += space.flat_size
        return tuple(out)

    @property
    def flat_size(self) -> int:
        return sum(space.flat_size for space in self.spaces)

    def canonical(self) -> tuple:
        return tuple(space.canonical() for space in self.spaces)

    def _identity(self) -> tuple:
        return self.spaces

    def __repr__(self) -> str:
        return f"Tuple({', '.join(repr(s) for s in self.spaces)})"
