"""`Bernoulli`: independent coin flips with boolean outcomes."""

from typing import final

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractMaskableDistribution
from ._utils import (
    BoolInput,
    IntInput,
    RealInput,
    as_float,
    broadcast_all,
    check_host,
)


@jax.jit
def _log_prob(value: Array, logits: Array) -> Array:
    # log p = -softplus(-l) and log(1 - p) = -softplus(l); both stay finite
    # (with finite gradients) on the branch not taken.
    return jnp.where(value, jax.nn.log_sigmoid(logits), jax.nn.log_sigmoid(-logits))


@jax.jit
def _log_prob_from_probs(value: Array, probs: Array) -> Array:
    # log p and log(1 - p) straight from `probs`, each through a double
    # `where`: the branch not taken never sees log 0, so p = 0 or 1 keeps
    # finite, exact gradients (d/dp log(1 - p) = -1 at p = 0, d/dp log p = 1
    # at p = 1). Through the logits, d logits/dp = inf would meet a 0.
    q = 1 - probs
    log_p = jnp.where(probs > 0, jnp.log(jnp.where(probs > 0, probs, 1.0)), -jnp.inf)
    log_q = jnp.where(q > 0, jnp.log(jnp.where(q > 0, q, 1.0)), -jnp.inf)
    return _nan_outside_unit(probs, jnp.where(value, log_p, log_q))


@jax.jit
def _entropy_from_probs(probs: Array) -> Array:
    # H = -p log p - (1 - p) log(1 - p), with 0 log 0 = 0 (and a zero gradient
    # for that term) through a double `where`.
    q = 1 - probs
    h_p = jnp.where(probs > 0, -probs * jnp.log(jnp.where(probs > 0, probs, 1.0)), 0.0)
    h_q = jnp.where(q > 0, -q * jnp.log(jnp.where(q > 0, q, 1.0)), 0.0)
    return _nan_outside_unit(probs, h_p + h_q)


@jax.jit
def _logits_from_probs(probs: Array) -> Array:
    # log p - log(1 - p), +-inf at p = 0 or 1 (with a zero, not NaN, gradient).
    inner = (probs > 0) & (probs < 1)
    safe = jnp.where(inner, probs, 0.5)
    edge = jnp.where(probs == 0, -jnp.inf, jnp.inf)
    logits = jnp.where(inner, jnp.log(safe) - jnp.log1p(-safe), edge)
    return _nan_outside_unit(probs, logits)


def _nan_outside_unit(probs: Array, x: Array) -> Array:
    """`x`, but NaN where `probs` is not in [0, 1] (traced invalid input)."""
    return jnp.where((probs >= 0) & (probs <= 1), x, jnp.nan)


@jax.jit
def _entropy(logits: Array) -> Array:
    # H = p softplus(-l) + (1 - p) softplus(l), which is 0 for l = +-inf.
    finite = jnp.isfinite(logits)
    safe = jnp.where(finite, logits, 0.0)
    p = jax.nn.sigmoid(safe)
    value = p * jax.nn.softplus(-safe) + (1 - p) * jax.nn.softplus(safe)
    return jnp.where(finite, value, 0.0)


# The largest float32 below 2**32: a threshold that still converts to uint32.
_TOP_THRESHOLD = float(np.nextafter(np.float32(2.0**32), np.float32(0.0)))


@jax.jit
def _sample(key: Array, probs: Array) -> Array:
    # True iff bits < p * 2**32 for 32 uniform random bits: P(True) is
    # ceil(p * 2**32) / 2**32, within 2**-32 of p (exactly p for p = 0 and 1).
    # Comparing p with a float32 uniform instead would put every p > 0 at
    # 2**-23 at least, that uniform being 0 with probability 2**-23.
    compute = jnp.promote_types(probs.dtype, jnp.float32)
    p = probs.astype(compute)
    threshold = jnp.ceil(jnp.clip(p, 0.0, 1.0) * 2.0**32)
    threshold = jnp.minimum(threshold, _TOP_THRESHOLD).astype(jnp.uint32)
    bits = jr.bits(key, probs.shape, jnp.uint32)
    return (bits < threshold) | (p >= 1)


@final
class Bernoulli(
    AbstractMaskableDistribution[Bool[Array, "*batch"], Bool[Array, "*batch"]]
):
    """Elementwise Bernoulli distributions; samples are booleans.

    The event shape is `()`: each entry of the parameter array is its own
    coin, so `log_prob` and `entropy` have the parameter's shape.

    A mask has the parameter's shape (or broadcasts with it): where it is
    `False` the outcome is forced to `False`, i.e. `True` gets probability 0.

    Built from `probs`, the distribution keeps them and computes
    log-probabilities, the entropy and the mean from them directly, so that
    gradients with respect to `probs` stay finite and exact at `p = 0` and
    `p = 1` (e.g. a float32 `jax.nn.sigmoid` that saturates). The logits
    carry no gradient information there (`d logits/dp` is infinite).

    Attributes:
        logits: Log-odds `log(p / (1 - p))` of `True` (`-inf` when `p = 0`,
            `+inf` when `p = 1`).
    """

    logits: Float[Array, "*batch"]
    _probs: Float[Array, "*batch"] | None

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
            ValueError: If both or neither of `logits` and `probs` are given,
                `logits` is a concrete (Python or NumPy) value holding NaN, or
                `probs` is a concrete value outside `[0, 1]`. JAX arrays are
                not checked (they may be traced); invalid entries give NaN.
        """
        if (logits is None) == (probs is None):
            raise ValueError(
                "`Bernoulli(logits=..., probs=...)` takes exactly one of "
                "`logits` and `probs`."
            )
        if logits is not None:
            check_host(
                logits,
                lambda x: ~np.isnan(x),
                "`Bernoulli(logits=...)` must be real or +-inf (probability 1 "
                "or 0), not NaN",
            )
            self.logits = as_float(logits, "`Bernoulli(logits=...)`")
            self._probs = None
        else:
            check_host(
                probs,
                lambda p: (p >= 0) & (p <= 1),
                "`Bernoulli(probs=...)` must be probabilities in [0, 1]",
            )
            self._probs = as_float(probs, "`Bernoulli(probs=...)`")
            self.logits = _logits_from_probs(self._probs)

    @property
    def probs(self) -> Float[Array, "*batch"]:
        """The probabilities of `True`."""
        if self._probs is not None:
            return self._probs
        return jax.nn.sigmoid(self.logits)

    def _param(self) -> Float[Array, "*batch"]:
        """What log-probabilities are computed from: `probs` when given
        (exact gradients at 0 and 1), else `logits`."""
        return self.logits if self._probs is None else self._probs

    def _log_prob_of(self, value: Array, param: Array) -> Float[Array, "*batch"]:
        if self._probs is None:
            return _log_prob(value, param)
        return _log_prob_from_probs(value, param)

    def log_prob(self, value: BoolInput | IntInput) -> Float[Array, "*batch"]:
        """The log-probability of `value`: `-inf` outside the support
        `{0, 1}` (e.g. `2` or `0.5`), as for scipy's `bernoulli.logpmf`."""
        value = jnp.asarray(value)
        outcome = value.astype(bool)
        value, outcome, param = broadcast_all(
            value,
            outcome,
            self._param(),
            what="`Bernoulli.log_prob(value)` and the batch shape",
        )
        log_prob = self._log_prob_of(outcome, param)
        if value.dtype == jnp.bool_:
            return log_prob
        return jnp.where((value == 0) | (value == 1), log_prob, -jnp.inf)

    def sample(self, key: Key[Array, ""]) -> Bool[Array, "*batch"]:
        return _sample(key, self.probs)

    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[Bool[Array, "*batch"], Float[Array, "*batch"]]:
        value = self.sample(key)
        return value, self._log_prob_of(value, self._param())

    def entropy(self) -> Float[Array, "*batch"]:
        if self._probs is not None:
            return _entropy_from_probs(self._probs)
        return _entropy(self.logits)

    def mean(self) -> Float[Array, "*batch"]:
        return self.probs

    def mode(self) -> Bool[Array, "*batch"]:
        return self.logits > 0

    def mask(self, mask: BoolInput) -> "Bernoulli":
        """Returns the distribution with `True` forbidden where `mask` is `False`.

        A distribution built from `probs` stays one (with `p = 0` where
        masked), keeping its gradients with respect to the probabilities.

        Args:
            mask: Boolean array broadcasting with the parameter's shape.

        Returns:
            A new `Bernoulli` (with the broadcast shape).

        Raises:
            ValueError: If the shapes do not broadcast.
        """
        mask = jnp.asarray(mask).astype(bool)
        if self._probs is not None:
            probs, mask = broadcast_all(
                self._probs, mask, what="`Bernoulli.mask(mask)` and the probs"
            )
            return Bernoulli(probs=jnp.where(mask, probs, 0.0))
        logits, mask = broadcast_all(
            self.logits, mask, what="`Bernoulli.mask(mask)` and the logits"
        )
        return Bernoulli(logits=jnp.where(mask, logits, -jnp.inf))
