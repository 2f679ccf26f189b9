"""Operations on categorical log-probabilities along the last axis.

Zero-probability entries are stored as `-inf`. Every function here keeps
values *and gradients* finite in their presence: `0 * log 0` is taken as 0
through a double `where`, so that no `0 * inf` reaches the backward pass.

Each function is jitted, so eager use compiles it once per shape instead of
once per primitive; inside an outer `jax.jit` it is simply inlined.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ._utils import check_host, smallest_normal


def check_host_logits(logits: ArrayLike, name: str) -> None:
    """Raises `ValueError` for concrete host logits that are NaN or `+inf`,
    or that are `-inf` for every label of a row (the last axis).

    `-inf` is allowed for some labels (a label of probability zero), but a
    row with no finite logit has zero total probability, as `probs` summing
    to zero, which `check_host_probs` refuses too. JAX arrays pass (see
    `_utils.host_array`).
    """
    check_host(
        logits,
        lambda x: ~np.isnan(x) & (x < np.inf),
        f"{name} must be real or -inf (probability zero), not NaN or +inf",
    )
    check_host(
        logits,
        lambda x: np.any(np.atleast_1d(x) > -np.inf, axis=-1),
        f"{name} must have a finite entry in every row (the last axis): a row "
        "of -inf gives every label probability zero",
    )


def check_host_probs(probs: ArrayLike, name: str) -> None:
    """Raises `ValueError` for concrete host probabilities that are negative
    or not finite, or whose sum along the last axis is zero, also where every
    entry of a row is subnormal in the dtype they are stored in (float32,
    bfloat16 or float64: XLA reads subnormal numbers as zero, so such a row
    gave NaN log-probabilities). JAX arrays pass (see `_utils.host_array`)."""
    check_host(
        probs,
        lambda p: np.all(np.isfinite(p) & (p >= 0)) and np.all(np.sum(p, axis=-1) > 0),
        f"{name} must be finite and non-negative, with a positive sum along "
        "the last axis",
    )
    normal = smallest_normal(probs)
    if normal is None:
        return
    tiny, dtype = normal
    check_host(
        probs,
        lambda p: np.all(np.max(np.atleast_1d(p), axis=-1) >= tiny),
        f"{name} needs an entry of at least {tiny:.4g} (the smallest normal "
        f"{dtype}) in every row of the last axis: XLA reads "
        "smaller (subnormal) numbers as zero, so the row would have no "
        "probability. Scale the row up (only the ratios matter)",
    )


@jax.jit
def logits_from_probs(probs: Float[Array, "*batch n"]) -> Float[Array, "*batch n"]:
    """`log(probs)`, with `-inf` (and a zero gradient) where `probs == 0`."""
    positive = probs > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, probs, 1.0)), -jnp.inf)


@jax.jit
def log_normalised_probs(
    probs: Float[Array, "*batch n"],
) -> Float[Array, "*batch n"]:
    """`log(probs / sum(probs))` along the last axis, `-inf` where `probs == 0`.

    Normalising in probability space keeps the gradient with respect to a
    zero entry exact (`-1 / sum(probs)` on the other log-probabilities);
    `normalise(logits_from_probs(probs))` would lose it, its zero entries
    being constant `-inf` logits.

    A row whose sum overflows (e.g. `[1e38, 3e38]` in float32, whose sum is
    `inf`, which made every log-probability `-inf`) is summed as
    `probs * 2**-e`, with `2**e` the power of two near its largest entry,
    and `e log 2` added back. The scaling is two multiplications by powers
    of two at most 64 in magnitude (a single factor `2**-128` would be
    subnormal, which XLA flushes to zero; so is the reciprocal by which it
    divides) and carries no gradient (the result does not depend on it).
    """
    log_probs = logits_from_probs(probs)
    total = jnp.sum(probs, axis=-1, keepdims=True)
    peak = jax.lax.stop_gradient(jnp.max(probs, axis=-1, keepdims=True))
    _, exponent = jnp.frexp(peak)  # 0 for a zero peak
    first = -(exponent // 2)
    one = jnp.ones((), probs.dtype)
    scaled = probs * jnp.ldexp(one, first) * jnp.ldexp(one, -exponent - first)
    log_total = jnp.where(
        jnp.isinf(total),
        jnp.log(jnp.sum(scaled, axis=-1, keepdims=True))
        + exponent.astype(probs.dtype) * np.log(2.0).astype(probs.dtype),
        jnp.log(total),
    )
    return log_probs - log_total


@jax.jit
def normalise(logits: Float[Array, "*batch n"]) -> Float[Array, "*batch n"]:
    """Shifts logits so that they are normalised log-probabilities."""
    return logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)


@jax.jit
def apply_mask(
    logits: Float[Array, "*batch n"], mask: Bool[Array, "*batch n"]
) -> Float[Array, "*batch n"]:
    """Sets forbidden entries to `-inf` and renormalises.

    `logits` and `mask` must have the same shape. A row in which the mask
    keeps no entry of positive probability is returned unchanged, so that a
    degenerate mask cannot turn the distribution into NaN.
    """
    kept = mask & (logits > -jnp.inf)
    usable = jnp.any(kept, axis=-1, keepdims=True)
    masked = jnp.where(kept, logits, -jnp.inf)
    return normalise(jnp.where(usable, masked, logits))


@jax.jit
def entropy(logits: Float[Array, "*batch n"]) -> Float[Array, "*batch"]:
    """Entropy of normalised log-probabilities, skipping zero-probability entries."""
    finite = logits > -jnp.inf
    safe = jnp.where(finite, logits, 0.0)
    return -jnp.sum(jnp.where(finite, jnp.exp(safe) * safe, 0.0), axis=-1)


@jax.jit
def pick(
    logits: Float[Array, "*batch n"], index: Int[Array, "*batch"]
) -> Float[Array, "*batch"]:
    """`logits[..., index]`, or `-inf` where `index` is out of range or not
    a whole number (a float label such as `1.5` has probability 0).

    `index` must have the batch shape of `logits` (no broadcasting here).
    """
    n = logits.shape[-1]
    index = jnp.asarray(index)
    inside = (index >= 0) & (index < n)
    if jnp.issubdtype(index.dtype, jnp.inexact):
        inside = inside & (index == jnp.floor(index))
    clipped = jnp.clip(index, 0, n - 1).astype(jnp.int32)
    picked = jnp.take_along_axis(logits, clipped[..., None], axis=-1)[..., 0]
    return jnp.where(inside, picked, -jnp.inf)
