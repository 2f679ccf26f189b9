"""JAX's default PRNG (Threefry-2x32) with a hash XLA can fuse.

On CPU, JAX lowers every Threefry hash to a rolled loop of five iterations,
each a handful of separate kernels, to keep compile times down. Inside a
sequential rollout (one `lax.scan` step per env step) those loops run at
every step: in PPO on CartPole they were a third of the rollout's time.

`FUSED_THREEFRY` is a PRNG implementation (`jax.extend.random`) that computes
exactly what the default `threefry2x32` implementation computes, bit for bit
(same seeds, `split`, `fold_in` and random bits, under the default
`jax_threefry_partitionable=True`), but writes the 20 hash rounds as plain
integer operations that XLA fuses into the surrounding kernels.
`fused_keys` relabels the keys a rollout consumes and `standard_keys` turns
any key that reaches a state or an output back into a default key, so callers
see default keys only. (Floating-point values computed from the same random
bits can still differ in the last bit, as after any change to a compiled
program: XLA may contract a multiply-add differently inside a new fusion.)

The fused hash also compiles faster than the rolled loop (about half the
time for a draw of a few thousand numbers), so one-off draws outside loops
use it too: network initialisation and env resets. One pattern must be
avoided: a vectorised hash of keys that are themselves a fused hash's output
(`vmap(split)(split(key, n))`) fuses into one kernel that recomputes the
inner hash for every use, which takes seconds to compile; `fused_split`
puts an `optimization_barrier` between the two levels.
"""

import math
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax
from jax.extend.random import define_prng_impl

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)  # Salmon et al. 2011, Threefry key schedule


def _rotate_left(x, distance: int):
    return lax.bitwise_or(
        lax.shift_left(x, np.uint32(distance)),
        lax.shift_right_logical(x, np.uint32(32 - distance)),
    )


def threefry2x32(k0, k1, x0, x1):
    """The Threefry-2x32 block cipher, 20 rounds, unrolled: counters
    `(x0, x1)` encrypted under the key `(k0, k1)` (all `uint32`).

    Written with `lax` operations rather than operators: the hash is traced
    again wherever a key is split or drawn from (the PRNG's lowering), and
    `jnp`'s operators would wrap each of its ~150 operations in a call of
    its own, which made lowering the PPO training program ~0.2 s slower."""
    schedule = (k0, k1, lax.bitwise_xor(lax.bitwise_xor(k0, k1), _PARITY))
    x0 = lax.add(x0, schedule[0])
    x1 = lax.add(x1, schedule[1])
    for block in range(5):
        for distance in _ROTATIONS[block % 2]:
            x0 = lax.add(x0, x1)
            x1 = lax.bitwise_xor(_rotate_left(x1, distance), x0)
        x0 = lax.add(x0, schedule[(block + 1) % 3])
        x1 = lax.add(lax.add(x1, schedule[(block + 2) % 3]), np.uint32(block + 1))
    return x0, x1


def _counters(shape: tuple[int, ...]):
    # the 64-bit counters 0..size-1 as (high, low) words, as JAX lays them out
    size = math.prod(shape)
    if size >= 2**32:
        raise NotImplementedError("more than 2**32 random words from one key")
    low = lax.iota(np.uint32, size).reshape(shape)
    return jnp.zeros(shape, np.uint32), low


def _seed(seed):
    # the seed's bits as (high, low) words; a 32-bit seed has no high word
    seed = jnp.asarray(seed)
    low = lax.convert_element_type(seed, np.uint32)
    high = jnp.zeros((), np.uint32)
    if jnp.iinfo(seed.dtype).bits == 64:
        high = lax.convert_element_type(
            lax.shift_right_logical(seed, jnp.asarray(32, seed.dtype)), np.uint32
        )
    return jnp.stack([high, low])


def _split(key, shape):
    high, low = _counters(tuple(shape))
    a, b = threefry2x32(key[0], key[1], high, low)
    return jnp.stack([a, b], axis=-1)


def _fold_in(key, data):
    a, b = threefry2x32(
        key[0], key[1], jnp.zeros((1,), np.uint32), jnp.asarray(data, np.uint32)[None]
    )
    return jnp.concatenate([a, b])


def _random_bits(key, bit_width: int, shape):
    high, low = _counters(tuple(shape))
    a, b = threefry2x32(key[0], key[1], high, low)
    if bit_width == 64:
        return lax.bitwise_or(
            lax.shift_left(lax.convert_element_type(a, np.uint64), np.uint64(32)),
            lax.convert_element_type(b, np.uint64),
        )
    bits = lax.bitwise_xor(a, b)
    if bit_width == 32:
        return bits
    return lax.convert_element_type(bits, np.uint8 if bit_width == 8 else np.uint16)


FUSED_THREEFRY = define_prng_impl(
    key_shape=(2,),
    seed=_seed,
    split=_split,
    random_bits=_random_bits,
    fold_in=_fold_in,
    name="lerax_fused_threefry2x32",
    tag="lfry",
)


_DEFAULT = jax.eval_shape(lambda: jr.key(0, impl="threefry2x32")).dtype
_FUSED = jax.eval_shape(lambda: jr.key(0, impl=FUSED_THREEFRY)).dtype


def _is_key(x, dtype) -> bool:
    return isinstance(x, jax.Array) and x.dtype == dtype


def fused_keys(tree: Any) -> Any:
    """`tree` with its default (`threefry2x32`) typed keys relabelled as
    `FUSED_THREEFRY` keys: same key data, same random numbers. Other leaves,
    and everything when `jax_threefry_partitionable` is off (whose bit
    layout this copy does not reproduce), are returned unchanged."""
    if not jax.config.jax_threefry_partitionable:
        return tree

    def relabel(x):
        if _is_key(x, _DEFAULT):
            return jr.wrap_key_data(jr.key_data(x), impl=FUSED_THREEFRY)
        return x

    return jax.tree.map(relabel, tree)


def standard_keys(tree: Any) -> Any:
    """`tree` with its `FUSED_THREEFRY` keys relabelled as default keys."""

    def relabel(x):
        if _is_key(x, _FUSED):
            return jr.wrap_key_data(jr.key_data(x), impl="threefry2x32")
        return x

    return jax.tree.map(relabel, tree)


def fused_split(key: Any, num: int) -> Any:
    """`jax.random.split(key, num)` hashed with `FUSED_THREEFRY` (the same
    keys, returned as `FUSED_THREEFRY` keys), materialised behind an
    `optimization_barrier` so that hashing them again under `vmap` does not
    fuse the two hash levels into one slowly compiling kernel."""
    return lax.optimization_barrier(jr.split(fused_keys(key), num))
