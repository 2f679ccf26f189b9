"""Property tests over generated spaces (nested Dict/Tuple included)."""

import os

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lerax.space import AbstractSpace, Dict, Discrete, MultiDiscrete, Tuple

from .strategies import (
    assert_tree_equal,
    build,
    maskable_spaces,
    masks_for,
    mutate,
    respects_mask,
    space_specs,
    spaces,
    tree_all_finite,
)

seeds = st.integers(0, 2**31 - 1)
# Modest by default (the folder must stay fast); raise for a thorough run with
# LERAX_SPACE_EXAMPLES=1000.
EXAMPLES = int(os.environ.get("LERAX_SPACE_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None)


def assert_leaf_types(space: AbstractSpace, sample) -> None:
    """Leaf samples have the space's shape and dtype; composites recurse."""
    if isinstance(space, Dict):
        assert isinstance(sample, dict)
        assert tuple(sample) == space.keys()
        for key, sub in space.items():
            assert_leaf_types(sub, sample[key])
    elif isinstance(space, Tuple):
        assert isinstance(sample, tuple) and len(sample) == len(space)
        for sub, value in zip(space, sample):
            assert_leaf_types(sub, value)
    else:
        assert isinstance(sample, jax.Array)
        assert sample.shape == space.shape
        assert sample.dtype == space.dtype


def assert_flat_layout(space: AbstractSpace, value, flat: np.ndarray) -> None:
    """Discrete parts are one-hot, Box/MultiBinary parts the values themselves,
    composites the concatenation of their parts in order."""
    assert flat.shape == (space.flat_size,)
    if isinstance(space, Dict | Tuple):
        items = space.items() if isinstance(space, Dict) else enumerate(space)
        offset = 0
        for index, sub in items:
            assert_flat_layout(sub, value[index], flat[offset : offset + sub.flat_size])
            offset += sub.flat_size
    elif isinstance(space, Discrete):
        expected = np.zeros(space.n, np.float32)
        expected[int(value) - space.start] = 1.0
        np.testing.assert_array_equal(flat, expected)
    elif isinstance(space, MultiDiscrete):
        index = (np.asarray(value) - space.start).ravel()
        offsets = np.concatenate([[0], np.cumsum(space.nvec.ravel())[:-1]])
        expected = np.zeros(space.flat_size, np.float32)
        expected[offsets + index] = 1.0
        np.testing.assert_array_equal(flat, expected)
    else:
        expected = np.asarray(value).astype(np.float32).ravel()
        np.testing.assert_array_equal(flat, expected)


@SETTINGS
@given(space=spaces, seed=seeds)
def test_samples_and_canonical_are_contained_and_round_trip(space, seed):
    # One test for several properties: eager JAX compiles per new shape, so
    # exercising each generated space once keeps the suite fast.
    sample = space.sample(key=jr.key(seed))
    assert_leaf_types(space, sample)
    assert bool(space.contains(sample))
    assert sample in space
    assert tree_all_finite(sample)
    # Same key, same sample.
    assert_tree_equal(space.sample(key=jr.key(seed)), sample)
    # canonical() is a fixed, finite element.
    canonical = space.canonical()
    assert_leaf_types(space, canonical)
    assert tree_all_finite(canonical)
    assert canonical in space
    assert_tree_equal(canonical, space.canonical())
    # flatten/unflatten round-trips exactly, with the documented layout.
    for value in (sample, canonical):
        flat = space.flatten_sample(value)
        assert flat.shape == (space.flat_size,)
        assert flat.dtype == jnp.float32
        assert_flat_layout(space, value, np.asarray(flat))
        assert_tree_equal(space.unflatten_sample(flat), value)


@settings(max_examples=max(EXAMPLES // 4, 1), deadline=None, database=None)
@given(space=spaces, seed=seeds)
def test_samples_are_contained_under_jit(space, seed):
    sample = jax.jit(lambda key: space.sample(key=key))(jr.key(seed))
    assert_tree_equal(sample, space.sample(key=jr.key(seed)), exact=False)
    assert bool(jax.jit(space.contains)(sample))


@SETTINGS
@given(data=st.data(), space=maskable_spaces, seed=seeds)
def test_masked_samples_respect_the_mask(data, space, seed):
    mask = data.draw(masks_for(space))
    sample = space.sample(key=jr.key(seed), mask=mask)
    assert sample in space
    assert respects_mask(space, sample, mask)


@SETTINGS
@given(spec=space_specs)
def test_equal_specs_build_equal_spaces(spec):
    a, b = build(spec), build(spec)
    assert a is not b
    assert a == b
    assert hash(a) == hash(b)
    assert repr(a) == repr(b)
    assert not (a != b)


@SETTINGS
@given(data=st.data(), spec=space_specs)
def test_different_parameters_give_different_spaces(data, spec):
    other = data.draw(mutate(spec))
    a, b = build(spec), build(other)
    assert a != b
    assert repr(a) != repr(b)


@SETTINGS
@given(a=spaces, b=spaces)
def test_equality_is_consistent_with_hash(a, b):
    if a == b:
        assert hash(a) == hash(b)
        assert repr(a) == repr(b)
    assert (a == b) == (b == a)


@SETTINGS
@given(space=spaces)
def test_spaces_have_no_array_leaves(space):
    # All data is static, so spaces never become tracers under jit.
    assert jax.tree.leaves(space) == []


@settings(max_examples=max(EXAMPLES // 6, 1), deadline=None, database=None)
@given(space=spaces, seed=seeds)
def test_flattening_a_batch_is_refused_naming_vmap(space, seed):
    # a batch where one element is expected failed later, inside a matrix
    # product of the network fed with it ("dot_general requires ...")
    import pytest
    from hypothesis import assume

    one = space.sample(key=jr.key(seed))
    leaves = jax.tree.leaves(one)
    assume(leaves and all(np.size(leaf) > 0 for leaf in leaves))
    batch = jax.vmap(lambda k: space.sample(key=k))(jr.split(jr.key(seed), 3))
    with pytest.raises(ValueError, match=r"got an array of shape \(3,.*jax\.vmap"):
        space.flatten_sample(batch)
    flat = jax.vmap(space.flatten_sample)(batch)
    assert flat.shape == (3, space.flat_size)
