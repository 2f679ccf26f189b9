"""`Categorical`: a distribution over the labels `0, ..., n - 1`."""

from typing import final

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, Key

from . import _logits
from ._base import AbstractMaskableDistribution
from ._utils import (
    BoolInput,
    IntInput,
    RealInput,
    as_float,
    broadcast_all,
    broadcast_batch,
)


@final
class Categorical(
    AbstractMaskableDistribution[Int[Array, "*batch"], Bool[Array, "*batch n"]]
):
    """A categorical distribution over `n` labels, batched over leading axes.

    Built from either unnormalised `logits` or non-negative `probs` along the
    last axis; the event shape is `()`, samples are int32 labels.

    Masks are boolean arrays whose last axis has length `n` (leading axes
    broadcast against the batch shape): `mask[..., i]` keeps label `i`. A row
    whose mask keeps no label of positive probability is left unmasked.

    Attributes:
        logits: Normalised log-probabilities, shape `batch_shape + (n,)`
            (`-inf` for labels of probability zero).
    """

    logits: Float[Array, "*batch n"]

    def __init__(
        self,
        logits: RealInput | None = None,
        probs: RealInput | None = None,
    ):
        """Builds the distribution from exactly one of `logits` and `probs`.

        Args:
            logits: Unnormalised log-probabilities, shape `(..., n)`.
            probs: Non-negative weights, shape `(..., n)`; they are
                normalised along the last axis.

        Raises:
            ValueError: If both or neither of `logits` and `probs` are given,
                the given array has no label axis, or it is a concrete
                (Python or NumPy) value that is invalid: logits that are NaN
                or `+inf` or all `-inf` along the label axis, probs that are
                negative or not finite or sum to zero along the label axis.
                JAX arrays are not checked (they may be traced); invalid ones
                give NaN.
        """
        if (logits is None) == (probs is None):
            raise ValueError(
                "`Categorical(logits=..., probs=...)` takes exactly one of "
                "`logits` and `probs`."
            )
        name = "logits" if logits is not None else "probs"
        raw = as_float(
            logits if logits is not None else probs, f"`Categorical({name}=...)`"
        )
        if raw.ndim == 0 or raw.shape[-1] == 0:
            raise ValueError(
                f"`Categorical({name}=...)` needs a last axis with at least one "
                f"label, got shape {raw.shape}."
            )
        if logits is not None:
            _logits.check_host_logits(logits, "`Categorical(logits=...)`")
            self.logits = _logits.normalise(raw)
        else:
            _logits.check_host_probs(probs, "`Categorical(probs=...)`")
            self.logits = _logits.log_normalised_probs(raw)

    @property
    def probs(self) -> Float[Array, "*batch n"]:
        """The probabilities, shape `batch_shape + (n,)`."""
        return jnp.exp(self.logits)

    def log_prob(self, value: IntInput) -> Float[Array, "*batch"]:
        value, logits = broadcast_batch(
            jnp.asarray(value)[..., None],
            self.logits,
            1,
            "`Categorical.log_prob(value)` and the batch shape",
        )
        return _logits.pick(logits, value[..., 0])

    def sample(self, key: Key[Array, ""]) -> Int[Array, "*batch"]:
        return jr.categorical(key, self.logits, axis=-1).astype(jnp.int32)

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Int[Array, "*batch"], Float[Array, "*batch"]]:
        value = self.sample(key)
        return value, _logits.pick(self.logits, value)

    def entropy(self) -> Float[Array, "*batch"]:
        return _logits.entropy(self.logits)

    def mean(self) -> Array:
        raise NotImplementedError(
            "`Categorical.mean()` is not meaningful: labels are not numbers. "
            "Use `probs` for the distribution or `mode()` for the likeliest label."
        )

    def mode(self) -> Int[Array, "*batch"]:
        return jnp.argmax(self.logits, axis=-1).astype(jnp.int32)

    def mask(self, mask: BoolInput) -> "Categorical":
        """Returns the distribution restricted to the labels `mask` keeps.

        Args:
            mask: Boolean array of shape `(..., n)` whose leading axes
                broadcast against the batch shape.

        Returns:
            A new `Categorical` (with the broadcast batch shape).

        Raises:
            ValueError: If the mask's last axis is not `n` or its leading axes
                do not broadcast.
        """
        mask = jnp.asarray(mask).astype(bool)
        n = self.logits.shape[-1]
        if mask.ndim == 0 or mask.shape[-1] != n:
            raise ValueError(
                f"`Categorical.mask(mask)` needs a mask of shape (..., {n}) for "
                f"{n} labels, got {mask.shape}."
            )
        logits, mask = broadcast_all(
            self.logits, mask, what="`Categorical.mask(mask)` and the logits"
        )
        return Categorical(logits=_logits.apply_mask(logits, mask))
