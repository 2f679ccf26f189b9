"""`Dict`: a mapping from names to sub-spaces."""

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractSpace, false_
from ._utils import all_of, check_key


@final
class Dict(AbstractSpace[dict[str, Any], None]):
    """A product of named sub-spaces; samples are plain `dict`s.

    Key order: with an `OrderedDict`, its keys in their order, then the
    keyword arguments in the order written (as Gymnasium). Otherwise all keys
    (of a plain `dict`, of keyword arguments, or of both) are sorted
    together. Gymnasium differs there: it sorts only the plain `dict` and
    appends the keyword arguments in the order written, so
    `Dict(b=..., a=...)` is ordered `b, a` in Gymnasium and `a, b` here, and
    `Dict({"z": ...}, a=...)` is `z, a` there and `a, z` here. That order
    fixes `flatten_sample`'s layout. `contains` and `flatten_sample` accept any
    mapping with exactly the same keys (`flatten_sample` raises for others).
    `sample` accepts an optional mapping of per-key masks.

    Attributes:
        spaces: The sub-spaces, as an ordered `dict`.
    """

    keys_: tuple[str, ...] = eqx.field(static=True)
    spaces_: tuple[AbstractSpace, ...]

    def __init__(
        self, spaces: Mapping[str, AbstractSpace] | None = None, **kwargs: AbstractSpace
    ):
        """Builds the space from a mapping and/or keyword arguments.

        Raises:
            TypeError: If `spaces` is not a mapping, a value is not a lerax
                space, a key is not a str, or a key is given twice.
        """
        if spaces is None:
            spaces = {}
        elif isinstance(spaces, AbstractSpace) or not isinstance(spaces, Mapping):
            raise TypeError(
                "`Dict(spaces)` takes a mapping from str to lerax spaces (or "
                f"keyword arguments), got {type(spaces).__name__}."
            )
        ordered = isinstance(spaces, OrderedDict)
        items = list(spaces.items())
        for name, space in items + list(kwargs.items()):
            if not isinstance(name, str):
                raise TypeError(f"`Dict` keys must be str, got {name!r}.")
            if not isinstance(space, AbstractSpace):
                raise TypeError(
                    f"`Dict` value for {name!r} must be a lerax space, got "
                    f"{type(space).__name__}."
                )
        duplicate = set(spaces) & set(kwargs)
        if duplicate:
            raise TypeError(f"`Dict` got keys {sorted(duplicate)} twice.")
        spaces = dict(items + list(kwargs.items()))
        if not ordered:
            spaces = dict(sorted(spaces.items(), key=lambda item: item[0]))
        self.keys_ = tuple(spaces.keys())
        self.spaces_ = tuple(spaces.values())

    @property
    def spaces(self) -> dict[str, AbstractSpace]:
        return dict(zip(self.keys_, self.spaces_))

    def keys(self) -> tuple[str, ...]:
        """The keys, in layout order."""
        return self.keys_

    def items(self):
        """(key, space) pairs, in layout order."""
        return zip(self.keys_, self.spaces_)

    def __getitem__(self, key: str) -> AbstractSpace:
        try:
            return self.spaces_[self.keys_.index(key)]
        except ValueError:
            raise KeyError(f"{key!r} is not a key of {self!r}.") from None

    def __len__(self) -> int:
        return len(self.keys_)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_)

    @property
    def shape(self) -> None:
        return None

    @property
    def dtype(self) -> None:
        return None

    def sample(
        self, *, key: Key[Array, ""], mask: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        check_key(key, "Dict.sample")
        if mask is not None and not isinstance(mask, Mapping):
            raise TypeError(
                "`Dict.sample(mask=...)` must be a mapping from keys to masks, got "
                f"{type(mask).__name__}."
            )
        keys = jr.split(key, max(len(self), 1))
        masks = {} if mask is None else dict(mask)
        unknown = set(masks) - set(self.keys_)
        if unknown:
            raise ValueError(
                f"`Dict.sample(mask=...)` has unknown keys {sorted(unknown)}."
            )
        return {
            name: space.sample(key=k, mask=masks.get(name))
            for k, (name, space) in zip(keys, self.items())
        }

    def contains(self, x: Any) -> Bool[Array, ""]:
        if not isinstance(x, Mapping) or set(x.keys()) != set(self.keys_):
            return false_()
        return all_of([space.contains(x[name]) for name, space in self.items()])

    def flatten_sample(self, sample: Mapping[str, Any]) -> Float[Array, " n"]:
        if not isinstance(sample, Mapping):
            raise ValueError(
                f"`{self!r}.flatten_sample` needs a mapping with the keys "
                f"{list(self.keys_)}, got a {type(sample).__name__}."
            )
        missing = [name for name in self.keys_ if name not in sample]
        extra = [name for name in sample if name not in self.keys_]
        if missing or extra:
            problems = ([f"missing keys {missing}"] if missing else []) + (
                [f"unknown keys {extra}"] if extra else []
            )
            raise ValueError(
                f"`{self!r}.flatten_sample` needs exactly the keys "
                f"{list(self.keys_)}, got {' and '.join(problems)}."
            )
        parts = [space.flatten_sample(sample[name]) for name, space in self.items()]
        return jnp.concatenate(parts) if parts else jnp.zeros((0,), jnp.float32)

    def unflatten_sample(self, flat: Float[Array, " n"]) -> dict[str, Any]:
        flat = jnp.asarray(flat)
        if flat.shape != (self.flat_size,):
            raise ValueError(
                f"`Dict.unflatten_sample` needs shape ({self.flat_size},), got "
                f"{flat.shape}."
            )
        out, offset = {}, 0
        for name, space in self.items():
            out[name] = space.unflatten_sample(flat[offset : offset + space.flat_size])
            offset += space.flat_size
        return out

    @property
    def flat_size(self) -> int:
        return sum(space.flat_size for space in self.spaces_)

    def canonical(self) -> dict[str, Any]:
        return {name: space.canonical() for name, space in self.items()}

    def _identity(self) -> tuple:
        return tuple(zip(self.keys_, self.spaces_))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {s!r}" for k, s in self.items())
        return f"Dict({{{inner}}})"
