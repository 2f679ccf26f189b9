"""`computed_once` and `normal`: exact identities that XLA computes once."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jax import lax

from lerax.utils._fusion import computed_once, normal
from lerax.utils._prng import fused_keys


def _bits(x):
    x = np.asarray(x)
    return x.view(f"u{x.dtype.itemsize}")


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float16, jnp.bfloat16])
@pytest.mark.parametrize("shape", [(), (3, 4)])
def test_normal_draws_jax_normal_bit_for_bit(dtype, shape):
    keys = jr.split(jr.key(7), 5)
    expected = jax.vmap(lambda k: jr.normal(k, shape, dtype=dtype))(keys)
    drawn = jax.jit(jax.vmap(lambda k: normal(k, shape, dtype)))(keys)
    assert drawn.dtype == expected.dtype and drawn.shape == expected.shape
    np.testing.assert_array_equal(_bits(drawn), _bits(expected))
    # the default dtype is JAX's default float, as jax.random.normal's
    assert normal(jr.key(0), (2,)).dtype == jr.normal(jr.key(0), (2,)).dtype


def test_computed_once_returns_its_input_exactly():
    floats = jnp.array([0.0, -0.0, 1.5, -3.25e30, jnp.inf, -jnp.inf, jnp.nan])
    ints = jnp.array([np.iinfo(np.int32).min, -1, 0, 7, np.iinfo(np.int32).max])
    tree = {
        "f": floats,
        "h": floats.astype(jnp.float16),
        "i": ints,
        "u": jnp.array([0, 2**32 - 1], jnp.uint32),
        "b": jnp.array([True, False]),
        "none": None,
    }
    # typed and raw keys alike, including one whose bits are all zero
    for key in (jr.key(3), jr.PRNGKey(0), jr.wrap_key_data(jnp.zeros(2, jnp.uint32))):
        out = jax.jit(computed_once)(tree, key)
        assert out["none"] is None
        for name in ("f", "h", "i", "u", "b"):
            assert out[name].dtype == tree[name].dtype
            np.testing.assert_array_equal(_bits(out[name]), _bits(tree[name]))


def _program(once: bool):
    # a draw read by three kernels: two buffer writes and a running sum
    def body(carry, key):
        first, second, total, index = carry
        x = jr.uniform(key, (1,))
        if once:
            x = computed_once(x, key)
        first = lax.dynamic_update_slice(first, x, (index,))
        second = lax.dynamic_update_slice(second, 2 * x, (index,))
        return (first, second, total + jnp.sum(x**2), index + 1), None

    def run(key):
        init = (jnp.zeros(100), jnp.zeros(100), jnp.float32(0), 0)
        # the rollouts' unrolled hash (`fused_keys`), which XLA can copy
        return lax.scan(body, init, fused_keys(jr.split(key, 100)))[0]

    return jax.jit(run)


def test_a_draw_read_by_several_kernels_is_hashed_once():
    plain, once = _program(False), _program(True)
    key = jr.key(0)
    for a, b in zip(plain(key), once(key), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def hash_operations(program):
        return program.lower(key).compile().as_text().count("shift-right-logical")

    # XLA copies the plain draw's hash into each consumer's kernel
    assert hash_operations(once) <= hash_operations(plain) // 2
