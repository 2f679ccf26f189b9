import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lerax.utils._prng import FUSED_THREEFRY, fused_keys, fused_split, standard_keys


def _data(x):
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        return np.asarray(jr.key_data(x))
    return np.asarray(x)


def _assert_same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = _data(x), _data(y)
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


DRAWS = {
    "split": lambda k: jr.split(k),
    "split 7": lambda k: jr.split(k, 7),
    "split (3, 4)": lambda k: jr.split(k, (3, 4)),
    "fold_in": lambda k: jr.fold_in(k, 5),
    "fold_in large": lambda k: jr.fold_in(k, 2**31 + 7),
    "uniform": lambda k: jr.uniform(k, (5,)),
    "uniform scalar": lambda k: jr.uniform(k),
    "normal": lambda k: jr.normal(k, (3, 3)),
    "bits uint8": lambda k: jr.bits(k, (4,), jnp.uint8),
    "bits uint16": lambda k: jr.bits(k, (3,), jnp.uint16),
    "bits uint32": lambda k: jr.bits(k, (), jnp.uint32),
    "randint": lambda k: jr.randint(k, (9,), 0, 10),
    "permutation": lambda k: jr.permutation(k, 100),
    "categorical": lambda k: jr.categorical(k, jnp.log(jnp.arange(1.0, 6.0))),
    "bernoulli": lambda k: jr.bernoulli(k, 0.3, (6,)),
    "gumbel": lambda k: jr.gumbel(k, (4,)),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_fused_keys_draw_exactly_what_default_keys_draw(name):
    draw = DRAWS[name]
    key = jr.key(42)
    fused = fused_keys(key)
    assert jr.key_impl(fused) == jr.key_impl(jr.key(0, impl=FUSED_THREEFRY))
    _assert_same(jax.jit(draw)(key), jax.jit(draw)(fused))
    keys = jr.split(key, 3)
    _assert_same(jax.vmap(draw)(keys), jax.vmap(draw)(fused_keys(keys)))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(-(2**31), 2**31 - 1), data=st.integers(0, 2**32 - 1))
def test_seeding_and_hashing_match_for_any_seed(seed, data):
    key = jr.key(seed)
    _assert_same(key, jr.key(seed, impl=FUSED_THREEFRY))
    fused = fused_keys(key)
    _assert_same(jr.fold_in(key, data), jr.fold_in(fused, data))
    _assert_same(jr.split(key, 5), jr.split(fused, 5))


def test_relabelling_round_trips_and_leaves_other_leaves_alone():
    key = jr.key(3)
    tree = {"key": key, "x": jnp.arange(3), "raw": jr.PRNGKey(1), "none": None}
    fused = fused_keys(tree)
    assert jr.key_impl(fused["key"]) != jr.key_impl(key)
    assert fused["x"] is tree["x"] and fused["raw"] is tree["raw"]
    back = standard_keys(fused)
    assert jr.key_impl(back["key"]) == jr.key_impl(key)
    _assert_same(back["key"], key)


def test_without_partitionable_threefry_keys_are_left_alone():
    key = jr.key(0)
    with jax.threefry_partitionable(False):
        assert jr.key_impl(fused_keys(key)) == jr.key_impl(key)


def test_fused_split_is_split_and_hashes_again_under_vmap_like_the_default():
    key = jr.key(9)
    keys = jax.jit(lambda k: fused_split(k, 6))(key)
    assert jr.key_impl(keys) == jr.key_impl(jr.key(0, impl=FUSED_THREEFRY))
    _assert_same(keys, jr.split(key, 6))
    # the two-level pattern it exists for: vmapped draws from its keys
    nested = jax.jit(lambda k: jax.vmap(lambda q: jr.split(q, 3))(fused_split(k, 4)))
    _assert_same(nested(key), jax.vmap(lambda q: jr.split(q, 3))(jr.split(key, 4)))
