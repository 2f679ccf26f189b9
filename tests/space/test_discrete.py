"""Tests for `Discrete`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.space import Discrete, MultiDiscrete, Tuple


def many(space, key, n=6000):
    draw = jax.jit(jax.vmap(lambda k: space.sample(key=k)))
    return np.asarray(draw(jr.split(key, n)))


# One space and one compiled masked draw (the mask is an argument) shared by
# the masked-sampling tests: compiling is what costs time here.
MASKED = Discrete(5, start=10)
_draw_masked = jax.jit(
    jax.vmap(lambda k, m: MASKED.sample(key=k, mask=m), in_axes=(0, None))
)


def many_masked(key, mask, n=6000):
    return np.asarray(_draw_masked(jr.split(key, n), jnp.asarray(mask, bool)))


class TestConstruction:
    def test_attributes(self):
        space = Discrete(5)
        assert space.n == 5 and space.start == 0
        assert space.shape == ()
        assert space.dtype == jnp.int32
        assert space.flat_size == 5
        assert Discrete(3, start=-2).start == -2

    def test_numpy_integers_are_accepted(self):
        space = Discrete(np.int64(3), start=np.int32(1))
        assert type(space.n) is int and type(space.start) is int
        assert space == Discrete(3, start=1)
        assert Discrete(np.array(4)).n == 4

    @pytest.mark.parametrize("n", [0, -1])
    def test_non_positive_n(self, n):
        with pytest.raises(ValueError, match="positive"):
            Discrete(n)

    @pytest.mark.parametrize("n", [2.5, 2.0, "3", None, True])
    def test_non_integer_n(self, n):
        with pytest.raises(ValueError, match=r"Discrete\(n=...\).*int"):
            Discrete(n)

    def test_non_integer_start(self):
        with pytest.raises(ValueError, match=r"start=.*int"):
            Discrete(3, start=0.5)

    def test_values_must_fit_int32(self):
        with pytest.raises(ValueError, match="int32"):
            Discrete(10, start=2**31 - 5)
        with pytest.raises(ValueError, match="int32"):
            Discrete(2, start=-(2**31) - 1)


class TestSample:
    def test_range_and_dtype(self, getkey):
        space = Discrete(4, start=-1)
        sample = space.sample(key=getkey())
        assert sample.shape == () and sample.dtype == jnp.int32
        assert sample in space

    def test_uniform(self, getkey):
        samples = many(Discrete(3, start=5), getkey())
        values, counts = np.unique(samples, return_counts=True)
        np.testing.assert_array_equal(values, [5, 6, 7])
        assert np.all(np.abs(counts / len(samples) - 1 / 3) < 0.03)

    def test_masked_frequencies_are_uniform_over_allowed(self, getkey):
        samples = many_masked(getkey(), [True, False, True, False, True])
        values, counts = np.unique(samples, return_counts=True)
        np.testing.assert_array_equal(values, [10, 12, 14])
        assert np.all(np.abs(counts / len(samples) - 1 / 3) < 0.03)

    def test_single_allowed_value(self, getkey):
        samples = many_masked(getkey(), [0, 0, 0, 1, 0])
        assert np.all(samples == 13)

    def test_nothing_allowed_gives_start(self, getkey):
        assert np.all(many_masked(getkey(), np.zeros(5)) == 10)
        space = Discrete(4, start=-3)
        assert space.sample(key=getkey(), mask=jnp.zeros(4, bool)) == -3

    def test_numpy_and_list_masks(self, getkey):
        space = Discrete(3)
        assert space.sample(key=getkey(), mask=np.array([False, True, False])) == 1
        assert space.sample(key=getkey(), mask=[False, False, True]) == 2

    @pytest.mark.parametrize("shape", [(4,), (5, 1), ()])
    def test_wrong_mask_shape(self, shape, getkey):
        with pytest.raises(ValueError, match=r"mask of shape \(5,\)"):
            Discrete(5).sample(key=getkey(), mask=jnp.ones(shape, bool))

    def test_traced_mask(self, getkey):
        space = Discrete(3)
        sample = jax.jit(lambda k, m: space.sample(key=k, mask=m))(
            getkey(), jnp.array([False, False, True])
        )
        assert sample == 2

    def test_missing_key(self):
        with pytest.raises(TypeError, match="PRNG key"):
            Discrete(2).sample(key=None)


class TestContains:
    def test_numpy_64_bit_ints_are_not_wrapped(self):
        import gymnasium.spaces as gs

        values = [
            np.int64(2**32 + 1),
            np.int64(-(2**32) + 1),
            np.uint64(2**63),
            np.uint64(2**32 + 2),
            np.int64(2),
            np.array(2**32),
        ]
        for value in values:
            expected = bool(gs.Discrete(3).contains(value))
            assert bool(Discrete(3).contains(value)) is expected, value
            assert (value in Discrete(3)) is expected, value
        # Gymnasium refuses every uint64 here (it cannot cast to int64 safely);
        # lerax judges the value.
        assert np.uint64(1) in Discrete(3)

    def test_values(self):
        space = Discrete(3, start=-1)
        assert [int(v in space) for v in range(-3, 4)] == [0, 0, 1, 1, 1, 0, 0]

    def test_scalar_inputs(self):
        space = Discrete(3)
        assert 2 in space
        assert np.int64(2) in space
        assert jnp.int32(1) in space
        assert np.array(0, dtype=np.uint8) in space

    def test_no_overflow_with_other_integer_dtypes(self):
        assert np.uint32(1) in Discrete(3, start=-1)
        assert np.int8(5) in Discrete(300)
        assert np.int8(-128) not in Discrete(300)
        assert np.uint8(200) not in Discrete(5, start=-10)
        assert 2**40 not in Discrete(3)

    @pytest.mark.parametrize(
        "x", [1.0, np.float32(1.0), jnp.array(1.0), True, jnp.array(True)]
    )
    def test_wrong_dtype_is_a_concrete_false(self, x):
        result = Discrete(3).contains(x)
        assert isinstance(result, np.ndarray) and not result

    @pytest.mark.parametrize("x", [[1], jnp.array([1]), jnp.zeros((1, 1), int)])
    def test_wrong_shape_is_a_concrete_false(self, x):
        result = Discrete(3).contains(x)
        assert isinstance(result, np.ndarray) and not result

    @pytest.mark.parametrize("x", [None, "1", {"a": 1}])
    def test_non_arrays(self, x):
        assert x not in Discrete(3)

    def test_jit(self):
        space = Discrete(3, start=2)
        contains = jax.jit(space.contains)
        assert [bool(contains(jnp.int32(v))) for v in range(1, 6)] == [
            False,
            True,
            True,
            True,
            False,
        ]
        assert bool(jax.jit(space.contains)(np.uint32(3)))


class TestFlatten:
    def test_one_hot(self):
        space = Discrete(4, start=1)
        flat = space.flatten_sample(jnp.int32(3))
        assert flat.dtype == jnp.float32
        np.testing.assert_array_equal(flat, [0, 0, 1, 0])
        assert space.unflatten_sample(flat) == 3
        assert space.unflatten_sample(flat).dtype == jnp.int32

    def test_python_int(self):
        np.testing.assert_array_equal(Discrete(2).flatten_sample(1), [0, 1])

    @pytest.mark.parametrize("sample", [jnp.array([1]), np.array([[1]]), [1]])
    def test_one_element_array_is_a_scalar(self, sample):
        flat = Discrete(3).flatten_sample(sample)
        assert flat.shape == (3,)
        np.testing.assert_array_equal(flat, [0, 1, 0])
        pair = Tuple([Discrete(3), Discrete(2)]).flatten_sample((sample, 0))
        np.testing.assert_array_equal(pair, [0, 1, 0, 1, 0])

    @pytest.mark.parametrize("sample", [1.7, np.float32(0.5), jnp.array([2.5])])
    def test_non_whole_float_raises(self, sample):
        # Gymnasium's `flatten` refuses float samples (IndexError).
        with pytest.raises(ValueError, match="whole number"):
            Discrete(3).flatten_sample(sample)

    def test_whole_float_is_encoded(self):
        space = Discrete(3, start=1)
        np.testing.assert_array_equal(space.flatten_sample(2.0), [0, 1, 0])
        traced = jax.jit(space.flatten_sample)(jnp.float32(3.0))
        np.testing.assert_array_equal(traced, [0, 0, 1])

    def test_round_trip_all_values(self):
        space = Discrete(5, start=-2)
        for v in range(-2, 3):
            assert space.unflatten_sample(space.flatten_sample(jnp.int32(v))) == v

    def test_wrong_flat_size(self):
        with pytest.raises(ValueError, match=r"\(3,\)"):
            Discrete(3).unflatten_sample(jnp.zeros(4))


class TestCanonicalEqualityRepr:
    def test_canonical(self):
        canonical = Discrete(3, start=-4).canonical()
        assert canonical == -4 and canonical.dtype == jnp.int32
        assert canonical in Discrete(3, start=-4)

    def test_equality(self):
        assert Discrete(3) == Discrete(3)
        assert hash(Discrete(3, start=1)) == hash(Discrete(3, start=1))
        assert Discrete(3) != Discrete(4)
        assert Discrete(3) != Discrete(3, start=1)
        assert Discrete(3) != MultiDiscrete([3])
        assert Discrete(3) != 3

    def test_repr(self):
        assert repr(Discrete(3)) == "Discrete(3)"
        assert repr(Discrete(3, start=-1)) == "Discrete(3, start=-1)"
        assert repr(Discrete(np.int64(3))) == "Discrete(3)"


def test_sampling_at_the_edges_of_int32(getkey):
    top, bottom = 2**31 - 1, -(2**31)
    space = Tuple([Discrete(3, start=top - 2), Discrete(2, start=bottom)])
    high, low = many(space, getkey(), 300)
    np.testing.assert_array_equal(np.unique(high), [top - 2, top - 1, top])
    np.testing.assert_array_equal(np.unique(low), [bottom, bottom + 1])
    masked = space[0].sample(key=getkey(), mask=jnp.array([False, False, True]))
    assert masked == top
    assert space[0].unflatten_sample(space[0].flatten_sample(masked)) == top
