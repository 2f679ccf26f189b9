"""Tests for `MultiDiscrete`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.space import MultiBinary, MultiDiscrete


def many(space, key, n=4000):
    draw = jax.jit(jax.vmap(lambda k: space.sample(key=k)))
    return np.asarray(draw(jr.split(key, n)))


# One space and one compiled masked draw per mask layout (the mask is an
# argument), shared by the masked-sampling tests: compiling is what costs.
MASKED = MultiDiscrete([3, 2], start=[1, -1])
_draw_masked = jax.jit(
    jax.vmap(lambda k, m: MASKED.sample(key=k, mask=m), in_axes=(0, None))
)


def many_masked(key, mask, n=4000):
    return np.asarray(_draw_masked(jr.split(key, n), jnp.asarray(mask, bool)))


class TestConstruction:
    def test_attributes(self):
        space = MultiDiscrete([3, 2])
        assert space.shape == (2,)
        assert space.dtype == jnp.int32
        np.testing.assert_array_equal(space.nvec, [3, 2])
        np.testing.assert_array_equal(space.start, [0, 0])
        assert space.nvec.dtype == np.int32 and space.start.dtype == np.int32
        assert space.flat_size == 5

    def test_read_only(self):
        space = MultiDiscrete([3, 2])
        with pytest.raises(ValueError):
            space.nvec[0] = 7

    def test_start_broadcasts(self):
        space = MultiDiscrete([[2, 3], [4, 5]], start=-1)
        assert space.shape == (2, 2)
        np.testing.assert_array_equal(space.start, -np.ones((2, 2)))

    def test_integral_floats_are_accepted(self):
        assert MultiDiscrete(np.array([3.0, 2.0])) == MultiDiscrete([3, 2])

    @pytest.mark.parametrize("nvec", [[], np.zeros((0, 2), int)])
    def test_empty(self, nvec):
        with pytest.raises(ValueError, match="empty"):
            MultiDiscrete(nvec)

    @pytest.mark.parametrize("nvec", [[3, 0], [-1], 0])
    def test_entries_below_one(self, nvec):
        with pytest.raises(ValueError, match=">= 1"):
            MultiDiscrete(nvec)

    @pytest.mark.parametrize("nvec", [[2.5], [True, True], ["a"], [np.nan], [[1], 2]])
    def test_non_integer_nvec(self, nvec):
        with pytest.raises(ValueError, match="integers"):
            MultiDiscrete(nvec)

    def test_non_integer_start(self):
        with pytest.raises(ValueError, match=r"start=.*integers"):
            MultiDiscrete([3, 3], start=0.5)

    def test_start_shape_mismatch(self):
        with pytest.raises(ValueError, match="broadcast"):
            MultiDiscrete([3, 3], start=[1, 2, 3])

    def test_int32_overflow(self):
        with pytest.raises(ValueError, match="int32"):
            MultiDiscrete([2**31])
        with pytest.raises(ValueError, match="int32"):
            MultiDiscrete([5], start=2**31 - 2)


class TestSample:
    def test_range(self, getkey):
        space = MultiDiscrete([[2, 3], [4, 1]], start=[[0, -3], [5, 7]])
        samples = many(space, getkey(), 500)
        assert samples.shape == (500, 2, 2) and samples.dtype == np.int32
        assert np.all(samples >= space.start)
        assert np.all(samples < space.start + space.nvec)
        assert np.all(samples[:, 1, 1] == 7)
        assert set(np.unique(samples[:, 1, 0])) == {5, 6, 7, 8}

    def test_padded_mask(self, getkey):
        # The True at [1, 2] lies beyond nvec[1] = 2 and must be ignored.
        samples = many_masked(getkey(), [[False, True, True], [True, False, True]])
        assert set(np.unique(samples[:, 0])) == {2, 3}
        assert np.all(samples[:, 1] == -1)
        assert abs((samples[:, 0] == 2).mean() - 0.5) < 0.05

    def test_flat_mask(self, getkey):
        samples = many_masked(getkey(), [True, False, True, False, True])
        assert set(np.unique(samples[:, 0])) == {1, 3}
        assert np.all(samples[:, 1] == 0)

    def test_nothing_allowed_gives_start(self, getkey):
        samples = many_masked(getkey(), [[False, False, False], [False, True, False]])
        assert np.all(samples == np.array([1, 0]))

    def test_masked_frequencies(self, getkey):
        samples = many_masked(getkey(), [[True, False, True], [True, True, False]])
        values, counts = np.unique(samples[:, 0], return_counts=True)
        np.testing.assert_array_equal(values, [1, 3])
        assert np.all(np.abs(counts / len(samples) - 1 / 2) < 0.03)
        values, counts = np.unique(samples[:, 1], return_counts=True)
        np.testing.assert_array_equal(values, [-1, 0])
        assert np.all(np.abs(counts / len(samples) - 1 / 2) < 0.03)

    def test_two_dimensional_padded_mask(self, getkey):
        space = MultiDiscrete([[2, 3], [3, 3]])
        mask = np.zeros((2, 2, 3), bool)
        mask[0, 0, 1] = mask[0, 1, 2] = mask[1, 0, 0] = mask[1, 1, 1] = True
        sample = space.sample(key=getkey(), mask=mask)
        np.testing.assert_array_equal(sample, [[1, 2], [0, 1]])

    def test_wrong_mask_shape(self, getkey):
        with pytest.raises(ValueError, match=r"\(2, 3\) \(padded\) or \(5,\) \(flat\)"):
            MultiDiscrete([3, 2]).sample(key=getkey(), mask=jnp.ones((4,), bool))

    def test_per_entry_masks_as_gymnasium_gives_them(self, getkey):
        per_entry = (np.array([True, False, True]), np.array([False, True]))
        flat = np.concatenate(per_entry)
        np.testing.assert_array_equal(
            MASKED.padded_mask(per_entry), MASKED.padded_mask(flat)
        )
        sample = MASKED.sample(key=getkey(), mask=per_entry)
        assert int(sample[0]) in (1, 3) and int(sample[1]) == 0
        with pytest.raises(ValueError, match=r"2 arrays of shapes \[\(3,\), \(2,\)\]"):
            MASKED.sample(key=getkey(), mask=(np.ones(2, bool), np.ones(2, bool)))

    def test_no_flat_layout_for_2d_nvec(self, getkey):
        space = MultiDiscrete([[2, 2]])
        with pytest.raises(ValueError, match=r"\(1, 2, 2\) \(padded\), got \(4,\)"):
            space.sample(key=getkey(), mask=jnp.ones((4,), bool))

    def test_padded_mask_conversion(self):
        space = MultiDiscrete([3, 1])
        padded = space.padded_mask(jnp.array([1, 0, 1, 1]))
        np.testing.assert_array_equal(
            padded, [[True, False, True], [True, False, False]]
        )

    def test_missing_key(self):
        with pytest.raises(TypeError, match="PRNG key"):
            MultiDiscrete([2]).sample(key=None)


class TestContains:
    def test_numpy_int64_beyond_int32_is_not_wrapped(self):
        if jax.config.jax_enable_x64:
            pytest.skip("x64 enabled: int64 is not converted")
        assert np.array([2**32, 1]) not in MultiDiscrete([3, 3])
        assert np.array([2, 1]) in MultiDiscrete([3, 3])

    def test_values(self):
        space = MultiDiscrete([3, 2])
        assert jnp.array([2, 1]) in space
        assert jnp.array([3, 1]) not in space
        assert [0, 0] in space

    def test_negative_values(self):
        assert jnp.array([-1, 0]) not in MultiDiscrete([3, 2])
        assert jnp.array([-1, 0]) in MultiDiscrete([3, 2], start=-1)
        assert jnp.array([-2, 0]) not in MultiDiscrete([3, 2], start=-1)

    def test_other_integer_dtypes(self):
        space = MultiDiscrete([3, 2], start=-1)
        assert np.array([1, 0], dtype=np.uint32) in space
        assert np.array([1, 0], dtype=np.int8) in space
        assert np.array([2**31, 0], dtype=np.uint32) not in space

    @pytest.mark.parametrize(
        "x", [jnp.array([1, 0, 0]), jnp.array([[1, 0]]), jnp.int32(1), [[1, 0]]]
    )
    def test_wrong_shape_is_a_concrete_false(self, x):
        result = MultiDiscrete([3, 2]).contains(x)
        assert isinstance(result, np.ndarray) and not result

    @pytest.mark.parametrize("x", [jnp.array([1.0, 0.0]), jnp.array([True, False])])
    def test_wrong_dtype_is_a_concrete_false(self, x):
        result = MultiDiscrete([3, 2]).contains(x)
        assert isinstance(result, np.ndarray) and not result

    def test_returns_scalar(self):
        result = MultiDiscrete([[3, 2], [2, 2]]).contains(jnp.zeros((2, 2), int))
        assert result.shape == ()

    def test_jit(self):
        space = MultiDiscrete([3, 2], start=[0, -1])
        contains = jax.jit(space.contains)
        assert bool(contains(jnp.array([2, -1])))
        assert not bool(contains(jnp.array([2, 1])))
        assert not bool(contains(jnp.array([-1, 0])))


class TestFlatten:
    def test_non_whole_float_raises(self):
        with pytest.raises(ValueError, match="whole number"):
            MultiDiscrete([3, 2]).flatten_sample(np.array([1.5, 0.0]))
        flat = MultiDiscrete([3, 2]).flatten_sample(np.array([2.0, 0.0]))
        np.testing.assert_array_equal(flat, [0, 0, 1, 1, 0])

    def test_one_hot_concatenation(self):
        space = MultiDiscrete([3, 2], start=[1, -1])
        flat = space.flatten_sample(jnp.array([2, 0]))
        assert flat.dtype == jnp.float32
        np.testing.assert_array_equal(flat, [0, 1, 0, 0, 1])
        np.testing.assert_array_equal(space.unflatten_sample(flat), [2, 0])

    def test_two_dimensional(self):
        space = MultiDiscrete([[2, 3], [1, 2]])
        x = jnp.array([[1, 2], [0, 1]])
        flat = space.flatten_sample(x)
        np.testing.assert_array_equal(flat, [0, 1, 0, 0, 1, 1, 0, 1])
        back = space.unflatten_sample(flat)
        assert back.dtype == jnp.int32
        np.testing.assert_array_equal(back, x)

    def test_scalar_nvec(self):
        space = MultiDiscrete(4)
        assert space.shape == ()
        flat = space.flatten_sample(jnp.int32(2))
        np.testing.assert_array_equal(flat, [0, 0, 1, 0])
        assert space.unflatten_sample(flat) == 2

    def test_under_jit(self):
        space = MultiDiscrete([3, 2])
        flat = jax.jit(space.flatten_sample)(jnp.array([1, 1]))
        np.testing.assert_array_equal(jax.jit(space.unflatten_sample)(flat), [1, 1])

    def test_wrong_flat_size(self):
        with pytest.raises(ValueError, match=r"\(5,\)"):
            MultiDiscrete([3, 2]).unflatten_sample(jnp.zeros(6))


class TestCanonicalEqualityRepr:
    def test_canonical(self):
        space = MultiDiscrete([3, 2], start=[-1, 4])
        canonical = space.canonical()
        np.testing.assert_array_equal(canonical, [-1, 4])
        assert canonical.dtype == jnp.int32
        assert canonical in space

    def test_equality(self):
        a = MultiDiscrete([3, 2])
        b = MultiDiscrete(np.array([3, 2], dtype=np.int64), start=0)
        assert a == b and hash(a) == hash(b)
        assert a != MultiDiscrete([3, 3])
        assert a != MultiDiscrete([3, 2], start=[0, 1])
        assert a != MultiDiscrete([[3, 2]])
        assert MultiDiscrete([2, 2]) != MultiBinary(2)

    def test_repr(self):
        assert repr(MultiDiscrete([3, 2])) == "MultiDiscrete([3, 2])"
        assert repr(MultiDiscrete([3, 2], start=[0, -1])) == (
            "MultiDiscrete([3, 2], start=[0, -1])"
        )
        assert repr(MultiDiscrete([[2], [3]])) == "MultiDiscrete([[2], [3]])"


def test_sampling_at_the_top_of_int32(getkey):
    top = 2**31 - 1
    space = MultiDiscrete([2, 3], start=[top - 1, -(2**31)])
    samples = many(space, getkey(), 300)
    assert set(np.unique(samples[:, 0])) == {top - 1, top}
    assert set(np.unique(samples[:, 1])) == {-(2**31), -(2**31) + 1, -(2**31) + 2}
    assert np.all([space.contains(s) for s in samples[:5]])
