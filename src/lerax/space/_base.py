"""The abstract space every lerax space derives from."""

import abc
from typing import Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from .._custom_types import MaskType, SampleType


class AbstractSpace(eqx.Module, Generic[SampleType, MaskType]):
    """A set of valid values (observations or actions) with a way to sample it.

    Spaces hold only static metadata (sizes, bounds), so they never turn into
    tracers under `jax.jit`; two spaces are equal, and hash equally, exactly
    when they describe the same set.

    Subclasses implement `shape`, `dtype`, `sample`, `contains`,
    `flatten_sample`, `unflatten_sample`, `flat_size`, `canonical`,
    `__repr__` and `_identity`.
    """

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, ...] | None:
        """The shape of a sample, or None for composite spaces."""

    @property
    @abc.abstractmethod
    def dtype(self) -> Any:
        """The dtype of a sample, or None for composite spaces."""

    @abc.abstractmethod
    def sample(
        self, *, key: Key[Array, ""], mask: MaskType | None = None
    ) -> SampleType:
        """Draws a random element of the space.

        Args:
            key: A JAX PRNG key.
            mask: An optional mask restricting which values may be drawn
                (see each space for its format).

        Returns:
            An element of the space.
        """

    @abc.abstractmethod
    def contains(self, x: Any) -> Bool[Array, ""]:
        """Whether `x` is an element of the space, as a JAX boolean.

        Structural mismatches (shape, dtype, keys) give `False` at trace time;
        the value check runs inside `jax.jit`.
        """

    @abc.abstractmethod
    def flatten_sample(self, sample: SampleType) -> Float[Array, " n"]:
        """Encodes an element as a flat float32 vector of length `flat_size`.

        Discrete values are one-hot encoded (as Gymnasium's `flatten` does).
        """

    @abc.abstractmethod
    def unflatten_sample(self, flat: Float[Array, " n"]) -> SampleType:
        """Inverts `flatten_sample`."""

    @property
    @abc.abstractmethod
    def flat_size(self) -> int:
        """The length of `flatten_sample`'s output."""

    @abc.abstractmethod
    def canonical(self) -> SampleType:
        """A fixed, finite element of the space (used to size buffers)."""

    @abc.abstractmethod
    def _identity(self) -> tuple:
        """A hashable description that determines the space's value."""

    def __contains__(self, x: Any) -> bool:
        return bool(self.contains(x))

    def __eq__(self, other: object) -> bool:  # pyright: ignore
        if not isinstance(other, AbstractSpace):
            return NotImplemented
        return type(self) is type(other) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._identity()))


def false_() -> Bool[Array, ""]:
    """A concrete `False` scalar, for structural mismatches in `contains`.

    It is a NumPy value so it stays concrete (not a tracer) under `jax.jit`,
    which lets callers turn structural mismatches into trace-time errors.
    """
    return np.array(False)


def check_sample_size(space: AbstractSpace, sample: Any, size: int) -> None:
    """Raises (at trace time: shapes are static) when `sample` does not hold
    `size` values, the size of one element of `space`: a wrong shape, or a
    batch given where one element is expected."""
    shape = np.shape(sample)
    if int(np.prod(shape, dtype=np.int64)) == size:
        return
    batch = (
        " It looks like a batch: map over it with `jax.vmap`."
        if len(shape) > 0 and int(np.prod(shape[1:], dtype=np.int64)) == size
        else ""
    )
    raise ValueError(
        f"{space!r}: expected one element of shape {space.shape}, got an array of "
        f"shape {shape}.{batch}"
    )


def integer_sample(space: AbstractSpace, sample: Any) -> Array:
    """`sample`, one element of the integer-valued `space`, as a JAX array of
    the space's shape (so a `(1,)` array is accepted for a scalar space).

    Floating samples must hold whole numbers, as in Gymnasium (whose
    `flatten` refuses them with an `IndexError`). This is checked only on
    concrete values: a traced float that is not whole is not one-hot encoded
    (its encoding is all zeros). Integer samples, the usual case, are never
    inspected, so this costs nothing on hot paths.

    Raises:
        ValueError: If `sample` has the wrong size (see `check_sample_size`)
            or is a concrete floating value that is not a whole number.
    """
    shape = space.shape
    assert shape is not None
    check_sample_size(space, sample, int(np.prod(shape, dtype=np.int64)))
    array = jnp.asarray(sample)
    if jnp.issubdtype(array.dtype, jnp.inexact):
        try:
            values = np.asarray(sample)
        except jax.errors.TracerArrayConversionError:
            values = None
        if values is not None and not np.all(
            np.isfinite(values) & (np.mod(values, 1) == 0)
        ):
            raise ValueError(
                f"{space!r}: elements are integers, got {values!r}, which is not a "
                "whole number. Pass an integer sample (round or cast it first)."
            )
    return jnp.reshape(array, shape)
