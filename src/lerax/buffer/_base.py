"""`AbstractBuffer`: what every buffer of transitions offers.

A buffer holds its transitions as rows: every array leaf of its row fields
has the same leading axes, the buffer's `shape` (`[T, N]` for a rollout,
`[capacity]` for a replay buffer). The methods written here (flatten the
leading axes, cut them into index batches, gather rows) act on all row
fields at once through one hook, `map_rows`, so every buffer gets them and
the fields of a row always stay aligned.
"""

import abc
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, Self

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int, Key

from ._shuffle import permutation


def as_count(
    value: Any, where: str, low: int, high: int | None = None, meaning: str = ""
) -> int:
    """`value` as a Python int, if it is a Python or NumPy int in
    `[low, high]` (no upper bound for None).

    Counts fix array shapes, so they must be static: a bool (usually a flag
    passed in the wrong place), a float or an array is refused rather than
    converted.

    Args:
        value: The count given.
        where: How the caller wrote the argument, e.g.
            "`ReplayBuffer.create(capacity=...)`".
        low: The smallest count allowed.
        high: The largest count allowed, or None.
        meaning: What it counts, for the message (may be empty).

    Raises:
        ValueError: If `value` is not an int in `[low, high]`; the message
            starts with `where` and says how to fix it.
    """
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    meaning = f" ({meaning})" if meaning else ""
    problem = f"{where} must be an int {bounds}{meaning}, got {value!r}"
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(
            f"{problem}, a bool. Pass the number itself as an int (a bool is "
            "refused so that a flag given in its place is caught)."
        )
    if not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            fix = f"Pass it as an int, `{int(value)}`."
        elif isinstance(value, (float, np.floating)):
            fix = "Round it deliberately and pass an int."
        else:
            fix = (
                "It sets array shapes, so it must be a static Python or NumPy "
                "int, not an array; convert a concrete one with `int(...)`."
            )
        raise ValueError(f"{problem} of type {type(value).__name__}. {fix}")
    count = int(value)
    if count < low or (high is not None and count > high):
        raise ValueError(f"{problem}.")
    return count


class AbstractBuffer(eqx.Module):
    """Transitions held as arrays in a training state, sampled in batches.

    `lerax.buffer.RolloutBuffer` (one on-policy rollout) and
    `lerax.buffer.ReplayBuffer` (an off-policy ring buffer) are the two
    kinds; code that only draws batches can accept either. Subclasses
    provide `shape`, `map_rows` and `sample`; the rest is written here.

    A buffer can also be indexed by field name, `buffer["observations"]`,
    as the dicts some of lerax's methods return.
    """

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, ...]:
        """The leading axes every row field shares (the batch axes)."""

    @abc.abstractmethod
    def map_rows(self, fn: Callable[[Array], Array]) -> Self:
        """A buffer of the same kind with `fn` applied to every array leaf of
        the row fields (leaves with the leading axes `shape`).

        Args:
            fn: Maps one leaf to one leaf; it may change the leading axes but
                must change them alike for every leaf.
        """

    @abc.abstractmethod
    def sample(self, batch_size: int, *, key: Key[Array, ""]) -> Any:
        """`batch_size` transitions drawn at random.

        Args:
            batch_size: Transitions to draw.
            key: PRNG key.

        Returns:
            The transitions, with a leading batch axis (each buffer's
            docstring says in which container).
        """

    def __getitem__(self, name: str) -> Any:
        """The field `name` (as `getattr`), so that code written for the
        dict batches of earlier lerax methods keeps working.

        Raises:
            KeyError: If the buffer has no field `name`.
        """
        names = [field.name for field in dataclasses.fields(self)]
        if name not in names:
            raise KeyError(
                f"{type(self).__name__} has no field {name!r}; its fields are "
                f"{', '.join(names)}."
            )
        return getattr(self, name)

    def resolve_axes(self, batch_axes: int | Sequence[int] | None) -> tuple[int, ...]:
        """The batch axes `batch_axes` names, as sorted non-negative ints.

        Args:
            batch_axes: An axis of `shape`, a sequence of them (negative
                counts from the last batch axis), or None for all of them.

        Raises:
            ValueError: If an axis is not an int, is out of range or is
                repeated.
        """
        ndim = len(self.shape)
        if batch_axes is None:
            return tuple(range(ndim))
        axes = (batch_axes,) if isinstance(batch_axes, int) else tuple(batch_axes)
        resolved = []
        for axis in axes:
            if not isinstance(axis, int) or isinstance(axis, bool):
                raise ValueError(
                    f"`batch_axes` must be ints, got {axis!r} in {batch_axes!r}."
                )
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"`batch_axes` must be axes of the buffer's batch shape "
                    f"{self.shape} (in [{-ndim}, {ndim - 1}]), got {batch_axes!r}."
                )
            resolved.append(axis % ndim)
        if not resolved or len(set(resolved)) != len(resolved):
            raise ValueError(
                f"`batch_axes` must name distinct batch axes, got {batch_axes!r}."
            )
        return tuple(sorted(resolved))

    def flatten_axes(self, batch_axes: int | Sequence[int] | None = None) -> Self:
        """This buffer with the batch axes `batch_axes` merged into one
        leading axis (in row-major order); the other batch axes follow it.

        `RolloutBuffer` of shape `[T, N]`: `flatten_axes()` gives `[T * N]`
        (row `t * N + n` is step `t` of env `n`), `flatten_axes(1)` gives
        `[N, T]`.

        Args:
            batch_axes: As for `resolve_axes`; None merges all of them.
        """
        axes = self.resolve_axes(batch_axes)
        merged = math.prod(self.shape[a] for a in axes)

        def flatten(x):
            x = jnp.moveaxis(x, axes, tuple(range(len(axes))))
            return jnp.reshape(x, (merged,) + x.shape[len(axes) :])

        if axes == (0,):  # already one leading axis
            return self
        return self.map_rows(flatten)

    def batch_indices(
        self, batch_size: int, *, key: Key[Array, ""] | None = None
    ) -> Int[Array, "num_batches batch_size"]:
        """Indices along the first batch axis, cut into batches of
        `batch_size`; the remainder is dropped.

        Args:
            batch_size: Indices per batch, in [1, shape[0]].
            key: PRNG key for a random permutation; None keeps the order
                `0, 1, 2, ...`.

        Returns:
            Distinct `int32` indices of shape
            `[shape[0] // batch_size, batch_size]`.

        Raises:
            ValueError: If `batch_size` is not an int in [1, shape[0]].
        """
        total, batch_size = self._check_batch_size(batch_size)
        num_batches = total // batch_size
        if key is None:
            order = jnp.arange(num_batches * batch_size, dtype=jnp.int32)
        else:
            order = permutation(key, total)[: num_batches * batch_size]
        return jnp.reshape(order, (num_batches, batch_size))

    def gather(self, indices: Int[Array, "*index"]) -> Self:
        """The rows at `indices` along the first batch axis; the result's
        leading axes are `indices.shape` followed by the other batch axes.

        Args:
            indices: Integer indices in [0, shape[0]).

        Raises:
            TypeError: If `indices` are not integers.
            ValueError: If concrete `indices` are out of range (traced ones
                are not checked).
        """
        indices = jnp.asarray(indices)
        if not jnp.issubdtype(indices.dtype, jnp.integer):
            raise TypeError(
                f"`gather(indices=...)` must be integers, got dtype {indices.dtype}."
            )
        total = self.shape[0]
        if not isinstance(indices, jax.core.Tracer) and indices.size:
            low, high = int(jnp.min(indices)), int(jnp.max(indices))
            if low < 0 or high >= total:
                raise ValueError(
                    f"`gather(indices=...)` must lie in [0, {total}) (the first "
                    f"batch axis), got values from {low} to {high}."
                )
        return self.map_rows(lambda x: x[indices])

    def batches(
        self,
        batch_size: int,
        *,
        key: Key[Array, ""] | None = None,
        batch_axes: int | Sequence[int] | None = None,
    ) -> Self:
        """All minibatches of `batch_size` rows at once: the batch axes
        `batch_axes` are flattened, (with `key`) shuffled, and cut into
        batches, the remainder dropped. Scan over the leading axis to visit
        them.

        Args:
            batch_size: Rows per minibatch.
            key: PRNG key for the shuffle; None keeps the buffer's order.
            batch_axes: The axes to flatten (None: all batch axes).

        Returns:
            A buffer of the same kind with leading axes
            `[rows // batch_size, batch_size]` followed by any batch axes not
            flattened.

        Raises:
            ValueError: If `batch_size` is not an int in [1, rows], or
                `batch_axes` is invalid.
        """
        flat = self.flatten_axes(batch_axes)
        return flat.gather(flat.batch_indices(batch_size, key=key))

    def _check_batch_size(self, batch_size: Any) -> tuple[int, int]:
        """The rows along the first batch axis and `batch_size` as a Python
        int, if it is a Python or NumPy int in [1, rows]."""
        total = self.shape[0]
        meaning = f"the rows along the first of the buffer's batch axes {self.shape}"
        return total, as_count(batch_size, "`batch_size`", 1, total, meaning)
