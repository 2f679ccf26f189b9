"""`MultiCategorical`: a vector of independent categorical labels."""

from collections.abc import Sequence
from typing import final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Key

from . import _logits
from ._base import AbstractMaskableDistribution
from ._utils import (
    BoolInput,
    IntInput,
    RealInput,
    as_float,
    broadcast_all,
    broadcast_batch,
    broadcast_shape,
    host_array,
)

_Params = RealInput | Sequence[RealInput]
_Mask = BoolInput | Sequence[BoolInput]


def _check_dims(action_dims: object) -> tuple[int, ...]:
    dims = np.asarray(action_dims)
    if (
        dims.ndim != 1
        or dims.size == 0
        or not (
            np.issubdtype(dims.dtype, np.integer)
            or (np.issubdtype(dims.dtype, np.floating) and np.all(dims % 1 == 0))
        )
        or np.any(dims < 1)
    ):
        raise ValueError(
            "`MultiCategorical(action_dims=...)` must be a non-empty sequence of "
            f"positive ints, got {action_dims!r}."
        )
    return tuple(int(d) for d in dims)


def _is_block_sequence(params: object) -> bool:
    """Whether `params` is a sequence of per-dimension arrays, rather than one
    flat array (a non-empty Python list of numbers counts as a flat array)."""
    return isinstance(params, (list, tuple)) and (
        len(params) == 0 or any(np.ndim(p) > 0 for p in params)
    )


def _check_host_params(
    params: object, name: str, where: str, dims: tuple[int, ...]
) -> None:
    """Checks concrete host parameters block by block (JAX arrays pass)."""
    check = _logits.check_host_probs if name == "probs" else _logits.check_host_logits
    if _is_block_sequence(params):
        for block in params:
            check(block, where)
        return
    flat = host_array(params)
    if flat is not None:
        for block in np.split(flat, np.cumsum(dims)[:-1], axis=-1):
            check(block, where)


@final
class MultiCategorical(
    AbstractMaskableDistribution[Int[Array, "*batch k"], Bool[Array, "*batch total"]]
):
    """`k` independent categorical distributions with `action_dims[i]` labels each.

    Samples are int32 vectors of length `k` (the event axis); `log_prob` and
    `entropy` sum over it.

    Parameters are given either as one flat array whose last axis holds the
    `k` blocks of logits (or probabilities) one after the other, together
    with `action_dims`, or as a sequence of `k` arrays `(..., action_dims[i])`.

    `mask` accepts three layouts, matching `lerax.space.MultiDiscrete`:

    - flat: shape `(..., sum(action_dims))`, the per-dimension masks
      concatenated;
    - padded: shape `(..., k, max(action_dims))`, row `i` masks dimension
      `i` (entries past `action_dims[i]` are ignored);
    - a sequence of `k` arrays of shape `(..., action_dims[i])`.

    A dimension whose mask keeps no label of positive probability is left
    unmasked.

    Attributes:
        action_dims: Number of labels of each dimension.
    """

    _padded_logits: Float[Array, "*batch k width"]
    action_dims: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self,
        logits: _Params | None = None,
        probs: _Params | None = None,
        action_dims: Sequence[int] | ArrayLike | None = None,
    ):
        """Builds the distribution.

        Args:
            logits: Unnormalised log-probabilities: a flat array
                `(..., sum(action_dims))` (a Python list of numbers counts as
                one) or a sequence of arrays `(..., action_dims[i])`.
            probs: Non-negative weights, laid out as `logits`; each block is
                normalised.
            action_dims: Labels per dimension. Required with a flat array;
                inferred from a sequence (and checked if also given).

        Raises:
            ValueError: If both or neither of `logits` and `probs` are given,
                `action_dims` is missing, invalid or disagrees with the
                parameters, the parameters' batch shapes do not broadcast, or
                they are concrete (Python or NumPy) values that are invalid
                (as for `Categorical`, block by block). JAX arrays are not
                checked (they may be traced).
        """
        if (logits is None) == (probs is None):
            raise ValueError(
                "`MultiCategorical(logits=..., probs=...)` takes exactly one of "
                "`logits` and `probs`."
            )
        name = "logits" if logits is not None else "probs"
        params = logits if logits is not None else probs
        where = f"`MultiCategorical({name}=...)`"
        if _is_block_sequence(params):
            blocks = [as_float(p, where) for p in params]
            if not blocks:
                raise ValueError(
                    f"{where} as a sequence needs at least one array with a label axis."
                )
            if any(b.ndim == 0 for b in blocks):
                raise ValueError(
                    f"{where} as a sequence of per-dimension arrays needs a label "
                    "axis in each; for one flat array of numbers pass a flat list "
                    "(or array) together with `action_dims`."
                )
            inferred = tuple(b.shape[-1] for b in blocks)
            dims = _check_dims(inferred)
            if action_dims is not None and _check_dims(action_dims) != dims:
                raise ValueError(
                    f"`MultiCategorical(action_dims={tuple(action_dims)!r})` does "
                    f"not match the {name} given, whose sizes are {dims}."
                )
            batch = broadcast_shape(
                *(b.shape[:-1] for b in blocks), what=f"The arrays of {where}"
            )
        else:
            flat = as_float(params, where)
            if action_dims is None:
                raise ValueError(
                    f"{where} as one flat array needs `action_dims`; or pass a "
                    "list with one array per dimension."
                )
            dims = _check_dims(action_dims)
            if flat.ndim == 0 or flat.shape[-1] != sum(dims):
                raise ValueError(
                    f"{where} must have a last axis of size sum(action_dims) = "
                    f"{sum(dims)} for action_dims={dims}, got shape {flat.shape}."
                )
            bounds = np.cumsum(dims)[:-1].tolist()
            blocks = jnp.split(flat, bounds, axis=-1)
            batch = flat.shape[:-1]
        _check_host_params(params, name, where, dims)
        width = max(dims)
        rows = []
        for block, n in zip(blocks, dims):
            block = jnp.broadcast_to(block, batch + (n,))
            if name == "probs":
                # normalised per block in probability space, for exact
                # gradients at zero probabilities (see `log_normalised_probs`)
                block = _logits.log_normalised_probs(block)
            pad = [(0, 0)] * len(batch) + [(0, width - n)]
            rows.append(jnp.pad(block, pad, constant_values=-jnp.inf))
        padded = jnp.stack(rows, axis=-2)
        self._padded_logits = padded if name == "probs" else _logits.normalise(padded)
        self.action_dims = dims

    def _flat_index(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.repeat(np.arange(len(self.action_dims)), self.action_dims)
        cols = np.concatenate([np.arange(n) for n in self.action_dims])
        return rows, cols

    @property
    def logits(self) -> Float[Array, "*batch total"]:
        """Normalised log-probabilities, the `k` blocks concatenated."""
        rows, cols = self._flat_index()
        return self._padded_logits[..., rows, cols]

    @property
    def probs(self) -> Float[Array, "*batch total"]:
        """Probabilities, the `k` blocks concatenated."""
        return jnp.exp(self.logits)

    def _check_value(self, value: ArrayLike) -> Array:
        value = jnp.asarray(value)
        k = len(self.action_dims)
        if value.ndim == 0 or value.shape[-1] != k:
            raise ValueError(
                f"`MultiCategorical.log_prob(value)` needs values of shape "
                f"(..., {k}) for {k} dimensions, got {value.shape}."
            )
        return value

    def log_prob(self, value: IntInput) -> Float[Array, "*batch"]:
        value, logits = broadcast_batch(
            self._check_value(value)[..., None],
            self._padded_logits,
            2,
            "`MultiCategorical.log_prob(value)` and the batch shape",
        )
        return jnp.sum(_logits.pick(logits, value[..., 0]), axis=-1)

    def sample(self, key: Key[Array, ""]) -> Int[Array, "*batch k"]:
        return jr.categorical(key, self._padded_logits, axis=-1).astype(jnp.int32)

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Int[Array, "*batch k"], Float[Array, "*batch"]]:
        value = self.sample(key)
        return value, jnp.sum(_logits.pick(self._padded_logits, value), axis=-1)

    def entropy(self) -> Float[Array, "*batch"]:
        return jnp.sum(_logits.entropy(self._padded_logits), axis=-1)

    def mean(self) -> Array:
        raise NotImplementedError(
            "`MultiCategorical.mean()` is not meaningful: labels are not numbers. "
            "Use `probs` for the distribution or `mode()` for the likeliest labels."
        )

    def mode(self) -> Int[Array, "*batch k"]:
        return jnp.argmax(self._padded_logits, axis=-1).astype(jnp.int32)

    def _padded_mask(self, mask: _Mask) -> Bool[Array, "*batch k width"]:
        dims = self.action_dims
        k, width, total = len(dims), max(dims), sum(dims)
        expected = (
            f"a flat mask (..., {total}), a padded mask (..., {k}, {width}) or a "
            f"list of {k} masks (..., n_i) for action_dims={dims}"
        )
        if isinstance(mask, (list, tuple)):
            parts = [jnp.asarray(m).astype(bool) for m in mask]
            if len(parts) != k or any(
                p.ndim == 0 or p.shape[-1] != n for p, n in zip(parts, dims)
            ):
                shapes = [tuple(p.shape) for p in parts]
                raise ValueError(
                    f"`MultiCategorical.mask(mask)` needs {expected}; got a list "
                    f"of shapes {shapes}."
                )
            batch = broadcast_shape(
                *(p.shape[:-1] for p in parts),
                what="The masks given to `MultiCategorical.mask`",
            )
            rows = [
                jnp.pad(
                    jnp.broadcast_to(p, batch + (n,)),
                    [(0, 0)] * len(batch) + [(0, width - n)],
                    constant_values=False,
                )
                for p, n in zip(parts, dims)
            ]
            return jnp.stack(rows, axis=-2)
        mask = jnp.asarray(mask).astype(bool)
        if mask.ndim >= 2 and mask.shape[-2:] == (k, width):
            return mask
        if mask.ndim >= 1 and mask.shape[-1] == total:
            rows, cols = self._flat_index()
            padded = jnp.zeros(mask.shape[:-1] + (k, width), dtype=bool)
            return padded.at[..., rows, cols].set(mask)
        raise ValueError(
            f"`MultiCategorical.mask(mask)` needs {expected}; got shape {mask.shape}."
        )

    def mask(self, mask: _Mask) -> "MultiCategorical":
        """Returns the distribution restricted to the labels `mask` keeps.

        Args:
            mask: A flat, padded or per-dimension boolean mask (see the class
                docstring) whose leading axes broadcast against the batch
                shape.

        Returns:
            A new `MultiCategorical` (with the broadcast batch shape).

        Raises:
            ValueError: If the mask has none of the accepted layouts or its
                leading axes do not broadcast.
        """
        padded = self._padded_mask(mask)
        logits, padded = broadcast_all(
            self._padded_logits,
            padded,
            what="`MultiCategorical.mask(mask)` and the logits",
        )
        return eqx.tree_at(
            lambda d: d._padded_logits, self, _logits.apply_mask(logits, padded)
        )
