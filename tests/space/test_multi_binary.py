"""Tests for `MultiBinary`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.space import MultiBinary, MultiDiscrete


def many(space, key, n=4000, mask=None):
    draw = jax.jit(jax.vmap(lambda k: space.sample(key=k, mask=mask)))
    return np.asarray(draw(jr.split(key, n)))


class TestConstruction:
    def test_int_and_tuple(self):
        assert MultiBinary(3).shape == (3,)
        assert MultiBinary((2, 3)).shape == (2, 3)
        assert MultiBinary([2, 3]).shape == (2, 3)
        assert MultiBinary(np.int64(4)).shape == (4,)
        assert MultiBinary(np.array([2, 2])).shape == (2, 2)
        assert MultiBinary(3).dtype == jnp.bool_
        assert MultiBinary((2, 3)).flat_size == 6

    @pytest.mark.parametrize("n", [0, (2, 0), -1])
    def test_sizes_below_one(self, n):
        with pytest.raises(ValueError, match=r"MultiBinary\(n=...\)"):
            MultiBinary(n)

    def test_empty_shape(self):
        with pytest.raises(ValueError, match="empty"):
            MultiBinary(())

    @pytest.mark.parametrize("n", [2.5, [2.5], "ab", None, True])
    def test_non_integer(self, n):
        with pytest.raises(ValueError, match="int"):
            MultiBinary(n)


class TestSample:
    def test_bool_and_fair(self, getkey):
        space = MultiBinary((2, 3))
        sample = space.sample(key=getkey())
        assert sample.dtype == jnp.bool_ and sample.shape == (2, 3)
        samples = many(space, getkey())
        assert np.all(np.abs(samples.mean(axis=0) - 0.5) < 0.05)

    def test_mask_forces_false(self, getkey):
        space = MultiBinary(4)
        mask = jnp.array([True, False, True, False])
        samples = many(space, getkey(), mask=mask)
        assert not samples[:, [1, 3]].any()
        assert np.all(np.abs(samples[:, [0, 2]].mean(axis=0) - 0.5) < 0.05)

    def test_integer_mask(self, getkey):
        sample = MultiBinary(3).sample(key=getkey(), mask=np.zeros(3, int))
        assert not sample.any()

    @pytest.mark.parametrize("shape", [(3,), (2, 2, 1), ()])
    def test_wrong_mask_shape(self, shape, getkey):
        with pytest.raises(ValueError, match=r"mask of shape \(2, 2\)"):
            MultiBinary((2, 2)).sample(key=getkey(), mask=jnp.ones(shape, bool))

    def test_missing_key(self):
        with pytest.raises(TypeError, match="PRNG key"):
            MultiBinary(2).sample(key=None)


class TestContains:
    def test_numpy_int64_beyond_int32_is_not_wrapped(self):
        if jax.config.jax_enable_x64:
            pytest.skip("x64 enabled: int64 is not converted")
        assert np.array([2**32, 1]) not in MultiBinary(2)
        assert np.array([2**32 + 1, 1]) not in MultiBinary(2)
        assert np.array([0, 1]) in MultiBinary(2)

    def test_bool_and_zero_one_ints(self):
        space = MultiBinary(3)
        assert jnp.array([True, False, True]) in space
        assert jnp.array([1, 0, 1]) in space
        assert [1, 0, 0] in space
        assert np.array([1, 0, 1], dtype=np.uint8) in space
        assert jnp.array([2, 0, 1]) not in space
        assert jnp.array([-1, 0, 1]) not in space

    def test_multi_dimensional_gives_a_scalar(self):
        space = MultiBinary((2, 3))
        for x in [
            jnp.zeros((2, 3), bool),
            jnp.ones((2, 3), int),
            2 * jnp.ones((2, 3), int),
        ]:
            result = space.contains(x)
            assert np.shape(result) == ()
        assert jnp.ones((2, 3), int) in space
        assert 2 * jnp.ones((2, 3), int) not in space

    @pytest.mark.parametrize("x", [jnp.zeros(3), jnp.array([0.0, 1.0, 1.0])])
    def test_floats_are_a_concrete_false(self, x):
        result = MultiBinary(3).contains(x)
        assert isinstance(result, np.ndarray) and not result

    @pytest.mark.parametrize("x", [jnp.zeros(4, bool), jnp.zeros((3, 1), bool), True])
    def test_wrong_shape_is_a_concrete_false(self, x):
        result = MultiBinary(3).contains(x)
        assert isinstance(result, np.ndarray) and not result

    def test_jit(self):
        space = MultiBinary((2, 2))
        contains = jax.jit(space.contains)
        assert bool(contains(jnp.array([[0, 1], [1, 1]])))
        assert not bool(contains(jnp.array([[0, 1], [3, 1]])))
        assert bool(contains(jnp.array([[True, False], [False, False]])))


class TestFlatten:
    def test_round_trip(self):
        space = MultiBinary((2, 2))
        x = jnp.array([[True, False], [False, True]])
        flat = space.flatten_sample(x)
        assert flat.dtype == jnp.float32
        np.testing.assert_array_equal(flat, [1, 0, 0, 1])
        back = space.unflatten_sample(flat)
        assert back.dtype == jnp.bool_
        np.testing.assert_array_equal(back, x)

    def test_wrong_flat_size(self):
        with pytest.raises(ValueError, match=r"\(4,\)"):
            MultiBinary((2, 2)).unflatten_sample(jnp.zeros(3))


class TestCanonicalEqualityRepr:
    def test_canonical(self):
        canonical = MultiBinary((2, 1)).canonical()
        assert canonical.dtype == jnp.bool_ and not canonical.any()
        assert canonical in MultiBinary((2, 1))

    def test_equality(self):
        assert MultiBinary(3) == MultiBinary((3,))
        assert hash(MultiBinary(3)) == hash(MultiBinary([3]))
        assert MultiBinary(3) != MultiBinary(4)
        assert MultiBinary((3, 1)) != MultiBinary(3)
        assert MultiBinary(3) != MultiDiscrete([2, 2, 2])

    def test_repr(self):
        assert repr(MultiBinary(3)) == "MultiBinary(3)"
        assert repr(MultiBinary((2, 3))) == "MultiBinary((2, 3))"
