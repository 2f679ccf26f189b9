"""`Bernoulli`: independent coin flips with boolean outcomes."""

from typing import final

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractMaskableDistribution
from ._utils import BoolInput, IntInput, RealInput, as_float, broadcast_all


@jax.jit
def _log_prob(value: Array, logits: Array) -> Array:
    # log p = -softplus(-l) and log(1 - p) = -softplus(l); both stay finite
    # (with finite gradients) on the branch not taken.
    return jnp.where(value, jax.nn.log_sigmoid(logits), jax.nn.log_sigmoid(-logits))


@jax.jit
def _entropy(logits: Array) -> Array:
    # H = p softplus(-l) + (1 - p) softplus(l), which is 0 for l = +-inf.
    finite = jnp.isfinite(logits)
    safe = jnp.where(finite, logits, 0.0)
    p = jax.nn.sigmoid(safe)
    value = p * jax.nn.softplus(-safe) + (1 - p) * jax.nn.softplus(safe)
    return jnp.where(finite, value, 0.0)


@jax.jit
def _sample(key: Array, logits: Array) -> Array:
    uniform = jr.uniform(key, logits.shape, dtype=logits.dtype)
    return uniform < jax.nn.sigmoid(logits)


@final
class Bernoulli(
    AbstractMaskableDistribution[Bool[Array, "*batch"], Bool[Array, "*batch"]]
):
    """Elementwise Bernoulli distributions; samples are booleans.

    The event shape is `()`: each entry of the parameter array is its own
    coin, so `log_prob` and `entropy` have the parameter's shape.

    A mask has the parameter's shape (or broadcasts with it): where it is
    `False` the outcome is forced to `False`, i.e. `True` gets probability 0.

    Attributes:
        logits: Log-odds `log(p / (1 - p))` of `True` (`-inf` when `p = 0`,
            `+inf` when `p = 1`).
    """

    logits: Float[Array, "*batch"]

    def __init__(
        self,
        logits: RealInput | None = None,
        probs: RealInput | None = None,
    ):
        """Builds the distribution from exactly one of `logits` and `probs`.

        Args:
            logits: Log-odds of `True`, any shape.
            probs: Probabilities of `True` in `[0, 1]`, any shape.

        Raises:
            ValueError: If both or neither of `logits` and `probs` are given.
        """
        if (logits is None) == (probs is None):
            raise ValueError(
                "`Bernoulli(logits=..., probs=...)` takes exactly one of "
                "`logits` and `probs`."
            )
        if logits is not None:
            self.logits = as_float(logits, "`Bernoulli(logits=...)`")
        else:
            p = as_float(probs, "`Bernoulli(probs=...)`")
            self.logits = jnp.log(p) - jnp.log1p(-p)

    @property
    def probs(self) -> Float[Array, "*batch"]:
        """The probabilities of `True`."""
        return jax.nn.sigmoid(self.logits)

    def log_prob(self, value: BoolInput | IntInput) -> Float[Array, "*batch"]:
        value, logits = broadcast_all(
            jnp.asarray(value).astype(bool),
            self.logits,
            what="`Bernoulli.log_prob(value)` and the batch shape",
        )
        return _log_prob(value, logits)

    def sample(self, key: Key[Array, ""]) -> Bool[Array, "*batch"]:
        return _sample(key, self.logits)

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Bool[Array, "*batch"], Float[Array, "*batch"]]:
        value = self.sample(key)
        return value, _log_prob(value, self.logits)

    def entropy(self) -> Float[Array, "*batch"]:
        return _entropy(self.logits)

    def mean(self) -> Float[Array, "*batch"]:
        return self.probs

    def mode(self) -> Bool[Array, "*batch"]:
        return self.logits > 0

    def mask(self, mask: BoolInput) -> "Bernoulli":
        """Returns the distribution with `True` forbidden where `mask` is `False`.

        Args:
            mask: Boolean array broadcasting with the parameter's shape.

        Returns:
            A new `Bernoulli` (with the broadcast shape).

        Raises:
            ValueError: If the shapes do not broadcast.
        """
        mask = jnp.asarray(mask).astype(bool)
        logits, mask = broadcast_all(
            self.logits, mask, what="`Bernoulli.mask(mask)` and the logits"
        )
        return Bernoulli(logits=jnp.where(mask, logits, -jnp.inf))
