"""Values that XLA computes once instead of once per consumer.

XLA's CPU fusion copies a cheap elementwise producer into every kernel that
consumes it rather than writing it to memory once. A random draw is such a
producer: the Threefry hash, the conversion of its bits to floats and what
follows are all cheap integer and float operations. In an off-policy step
the action feeds the env's transition, its reward, the replay buffer's
columns and the logs, each a separate kernel, so the whole hash was compiled
into each of them; a Gaussian policy's noise likewise feeds the action, its
log-probability and their gradients. (`lax.optimization_barrier` does not
help: XLA's CPU pipeline removes it before fusion.)

`computed_once` divides by a one that XLA cannot prove is one, which makes the
value an expensive instruction; XLA does not copy those, so consumers read the
value from memory. Dividing by one is exact, so the values are unchanged,
bit for bit. Measured on SAC's training program on Pendulum-v1: 16,451 ->
12,823 lines of optimised HLO and 2.7-2.9 -> 2.4-2.5 s of compilation, with
bitwise the same trained parameters (floating-point results computed from
the same numbers can still differ in the last bit elsewhere, e.g. TD3's,
because XLA may contract a multiply-add differently inside a new fusion).
Applying it to the env's auto-reset draw was measured and not adopted: there
the draw had few consumers and the programs grew.
"""

from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax
from jaxtyping import Array, Key


def _runtime_one(key: Key[Array, ""]) -> Array:
    """`True`, computed from `key`'s bits at run time (any uint32 `b` has
    `b | 1 != 0`), so XLA cannot fold it into a constant."""
    data = key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = jr.key_data(key)
    bits = jnp.ravel(data)[0].astype(jnp.uint32)
    return lax.ne(lax.bitwise_or(bits, jnp.uint32(1)), jnp.uint32(0))


def computed_once(tree: Any, key: Key[Array, ""]) -> Any:
    """`tree` unchanged (every numeric leaf divided by an exact one), computed
    once by XLA and read by every consumer instead of recomputed inside each.

    Use it on random draws (and values cheaply derived from them) that have
    several consumers inside a loop body; `key` is any key at hand (typed or
    raw; its bits only make the one unknown to the compiler). Boolean leaves
    and non-arrays are returned as they are."""
    one = _runtime_one(key)

    def once(leaf):
        if not isinstance(leaf, jax.Array) or leaf.dtype == jnp.bool_:
            return leaf
        if jnp.issubdtype(leaf.dtype, jnp.inexact) or jnp.issubdtype(
            leaf.dtype, jnp.integer
        ):
            return lax.div(leaf, one.astype(leaf.dtype))
        return leaf

    return jax.tree.map(once, tree)


def normal(key: Key[Array, ""], shape: tuple[int, ...], dtype: Any = None) -> Array:
    """`jax.random.normal(key, shape, dtype)` (default dtype: JAX's default
    float), bit for bit, computed once (`computed_once`): a Gaussian
    policy's noise feeds the action, its log-probability and their
    gradients."""
    if dtype is None:
        dtype = jnp.result_type(float)
    return computed_once(jr.normal(key, shape, dtype=dtype), key)
