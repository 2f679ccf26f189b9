"""Tests for `Box`."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.space import Box, Discrete


def many(space, key, n=20_000):
    """`n` samples drawn with a jitted vmap (one compilation)."""
    draw = jax.jit(jax.vmap(lambda k: space.sample(key=k)))
    return np.asarray(draw(jr.split(key, n)))


@pytest.fixture(scope="module")
def float_samples():
    # One compiled draw covers every kind of dimension: bounded, half-bounded
    # below/above, unbounded, and a bounded range too wide for high - low.
    box = Box([-1.0, 2.0, -np.inf, -np.inf, -3e38], [3.0, np.inf, -1.0, np.inf, 3e38])
    return box, many(box, jr.key(1234))


class TestConstruction:
    def test_scalar_bounds_with_shape(self):
        box = Box(-1.0, 2.0, shape=(3,))
        assert box.shape == (3,)
        assert box.dtype == jnp.float32
        np.testing.assert_array_equal(box.low, [-1.0, -1.0, -1.0])
        np.testing.assert_array_equal(box.high, [2.0, 2.0, 2.0])

    def test_shape_is_inferred_by_broadcasting(self):
        box = Box(np.zeros((2, 1)), np.ones((1, 3)))
        assert box.shape == (2, 3)

    def test_scalar_box(self):
        box = Box(0.0, 1.0, shape=())
        assert box.shape == ()
        assert box.flat_size == 1
        assert Box(0.0, 1.0).shape == ()

    def test_int_shape_is_accepted(self):
        assert Box(0.0, 1.0, shape=4).shape == (4,)

    def test_bounds_are_read_only_numpy(self):
        box = Box(0.0, 1.0, (2,))
        assert isinstance(box.low, np.ndarray)
        with pytest.raises(ValueError):
            box.low[0] = 5.0

    def test_source_arrays_are_copied(self):
        low = np.zeros(2)
        box = Box(low, 1.0)
        low[0] = -5.0
        assert box.low[0] == 0.0

    def test_float64_becomes_jax_canonical_dtype(self):
        box = Box(0.0, 1.0, (2,), dtype=np.float64)
        assert box.dtype == jax.dtypes.canonicalize_dtype(np.float64)
        sample = box.sample(key=jr.key(0))
        assert sample.dtype == box.dtype

    def test_int64_becomes_jax_canonical_dtype(self, getkey):
        box = Box(0, 5, (2,), dtype=np.int64)
        assert box.sample(key=getkey()).dtype == box.dtype

    @pytest.mark.parametrize("dtype", [np.int32, np.int16, np.int8, np.uint8])
    def test_integer_dtypes(self, dtype, getkey):
        box = Box(0, 9, (4,), dtype=dtype)
        assert box.dtype == dtype
        assert box.low.dtype == dtype
        sample = box.sample(key=getkey())
        assert sample.dtype == dtype
        assert sample in box

    def test_integer_bounds_are_rounded_inwards(self):
        box = Box(0.5, 2.5, (), dtype=np.int32)
        assert box.low == 1 and box.high == 2

    def test_integer_infinite_bounds_become_dtype_limits(self):
        box = Box(-np.inf, np.inf, (2,), dtype=np.int8)
        np.testing.assert_array_equal(box.low, [-128, -128])
        np.testing.assert_array_equal(box.high, [127, 127])

    def test_huge_float_bounds_are_clipped_to_the_dtype(self, getkey):
        box = Box(-1e300, 1e300, (3,))
        assert np.isfinite(box.low).all() and np.isfinite(box.high).all()
        assert box.is_bounded()
        sample = box.sample(key=getkey())
        assert np.isfinite(np.asarray(sample)).all()
        assert sample in box

    def test_bounded_flags(self):
        box = Box([0.0, -np.inf, 0.0, -np.inf], [1.0, 1.0, np.inf, np.inf])
        np.testing.assert_array_equal(box.bounded_below, [True, False, True, False])
        np.testing.assert_array_equal(box.bounded_above, [True, True, False, False])
        assert not box.is_bounded()
        assert Box(0, 1, (2,)).is_bounded()


class TestBadInput:
    def test_low_greater_than_high(self):
        with pytest.raises(ValueError, match=r"low <= high.*index \(1,\)"):
            Box([0.0, 2.0], [1.0, 1.0])

    @pytest.mark.parametrize("low, high", [(np.nan, 1.0), (0.0, np.nan)])
    def test_nan_bounds(self, low, high):
        with pytest.raises(ValueError, match="NaN"):
            Box(low, high, (2,))

    def test_infinite_low_plus_or_high_minus(self):
        with pytest.raises(ValueError, match=r"\+inf"):
            Box(np.inf, np.inf)
        with pytest.raises(ValueError, match="-inf"):
            Box(-np.inf, -np.inf)

    def test_incompatible_bound_shapes(self):
        with pytest.raises(ValueError, match="incompatible shapes"):
            Box(np.zeros(2), np.ones(3))

    def test_bounds_do_not_broadcast_to_shape(self):
        with pytest.raises(ValueError, match="broadcast"):
            Box(np.zeros(3), np.ones(3), shape=(2,))

    def test_negative_shape(self):
        with pytest.raises(ValueError, match="non-negative"):
            Box(0.0, 1.0, shape=(-1,))

    def test_non_integer_shape(self):
        with pytest.raises(ValueError, match="int"):
            Box(0.0, 1.0, shape=(2.5,))

    def test_bad_dtype(self):
        with pytest.raises(TypeError, match="floating or integer"):
            Box(0, 1, dtype=bool)
        with pytest.raises(TypeError, match="floating or integer"):
            Box(0, 1, dtype=np.complex64)
        with pytest.raises(TypeError, match="dtype"):
            Box(0, 1, dtype="not-a-dtype")

    def test_integer_box_without_integers(self):
        with pytest.raises(ValueError, match="no integer"):
            Box(0.2, 0.8, (), dtype=np.int32)

    def test_integer_bounds_outside_dtype_range(self):
        with pytest.raises(ValueError, match="range"):
            Box(300, 400, (), dtype=np.uint8)

    def test_non_numeric_bounds(self):
        with pytest.raises(TypeError, match="real numbers"):
            Box("a", "b")

    def test_traced_bounds(self):
        with pytest.raises(TypeError, match="traced"):
            jax.jit(lambda low: Box(low, 1.0))(0.0)

    def test_mask_is_refused(self, getkey):
        with pytest.raises(ValueError, match="mask"):
            Box(0, 1).sample(key=getkey(), mask=jnp.ones(()))

    def test_missing_key(self):
        with pytest.raises(TypeError, match="PRNG key"):
            Box(0, 1).sample(key=None)


class TestSample:
    def test_shape_dtype_and_containment(self, getkey):
        box = Box(-2.0, 3.0, (2, 3))
        sample = box.sample(key=getkey())
        assert sample.shape == (2, 3)
        assert sample.dtype == jnp.float32
        assert sample in box

    def test_uniform_where_bounded(self, float_samples):
        _, samples = float_samples
        column = samples[:, 0]
        assert column.min() >= -1.0 and column.max() <= 3.0
        assert abs(column.mean() - 1.0) < 0.05
        assert abs(column.var() - 16 / 12) < 0.05
        counts, _ = np.histogram(column, bins=4, range=(-1.0, 3.0))
        assert np.all(np.abs(counts / len(column) - 0.25) < 0.02)

    def test_half_bounded_below_is_shifted_exponential(self, float_samples):
        _, samples = float_samples
        column = samples[:, 1]
        assert column.min() >= 2.0
        assert abs(column.mean() - 3.0) < 0.05
        assert abs(column.var() - 1.0) < 0.1

    def test_half_bounded_above_is_reflected_exponential(self, float_samples):
        _, samples = float_samples
        column = samples[:, 2]
        assert column.max() <= -1.0
        assert abs(column.mean() + 2.0) < 0.05

    def test_unbounded_is_standard_normal(self, float_samples):
        _, samples = float_samples
        column = samples[:, 3]
        assert abs(column.mean()) < 0.05
        assert abs(column.var() - 1.0) < 0.05

    def test_huge_bounded_interval_is_finite_and_spread(self, float_samples):
        box, samples = float_samples
        column = samples[:, 4]
        assert np.isfinite(column).all()
        assert column.min() < -1e38 and column.max() > 1e38
        assert np.all((samples >= box.low) & (samples <= box.high))

    def test_degenerate_interval(self, getkey):
        box = Box(0.1, 0.1, (3,))
        np.testing.assert_array_equal(box.sample(key=getkey()), box.low)

    def test_float16_half_bounded_near_the_limit_stays_finite(self, getkey):
        box = Box(65000.0, np.inf, (1000,), dtype=np.float16)
        samples = np.asarray(box.sample(key=getkey()))
        assert samples.dtype == np.float16
        assert np.isfinite(samples).all() and (samples >= 65000.0).all()

    def test_integer_uniform_and_int32_edges(self, getkey):
        top = int(np.iinfo(np.int32).max)
        box = Box([-2, top - 3, -np.inf], [3, top, np.inf], dtype=np.int32)
        samples = many(box, getkey(), 12_000)
        assert samples.dtype == np.int32
        values, counts = np.unique(samples[:, 0], return_counts=True)
        np.testing.assert_array_equal(values, [-2, -1, 0, 1, 2, 3])
        assert np.all(np.abs(counts / len(samples) - 1 / 6) < 0.02)
        # The top of int32 is reachable.
        np.testing.assert_array_equal(
            np.unique(samples[:, 1]), np.arange(top - 3, top + 1)
        )
        # The whole int32 range is covered.
        assert samples[:, 2].min() < -(2**30) and samples[:, 2].max() > 2**30

    @pytest.mark.parametrize("dtype", [np.uint8, np.int8])
    def test_integer_full_range_reaches_both_ends(self, dtype, getkey):
        info = np.iinfo(dtype)
        box = Box(-np.inf, np.inf, (), dtype=dtype)
        samples = many(box, getkey())
        assert samples.dtype == dtype
        assert samples.min() == info.min and samples.max() == info.max

    def test_works_under_jit(self, getkey):
        box = Box(0.0, 1.0, (2,))
        sample = jax.jit(lambda key: box.sample(key=key))(getkey())
        assert sample in box
        key = getkey()
        eager = box.sample(key=key)
        np.testing.assert_allclose(
            jax.jit(lambda k: box.sample(key=k))(key), eager, rtol=1e-6
        )


class TestContains:
    def test_inside_and_outside(self):
        box = Box(0.0, 1.0, (2,))
        assert jnp.array([0.0, 1.0]) in box
        assert jnp.array([0.5, 1.5]) not in box
        assert jnp.array([-0.1, 0.5]) not in box

    def test_returns_scalar_bool(self):
        result = Box(0.0, 1.0, (2, 2)).contains(jnp.zeros((2, 2)))
        assert result.shape == () and result.dtype == jnp.bool_

    def test_python_numbers_and_lists(self):
        assert 0.5 in Box(0.0, 1.0, ())
        assert 1 in Box(0.0, 1.0, ())
        assert 2 not in Box(0.0, 1.0, ())
        assert [0.5, 0.25] in Box(0.0, 1.0, (2,))
        assert [[0.5, 0.25]] not in Box(0.0, 1.0, (2,))

    def test_wrong_shape_is_a_concrete_false(self):
        box = Box(0.0, 1.0, (2,))
        for x in [jnp.zeros(3), jnp.zeros((2, 1)), jnp.zeros(()), 0.5]:
            result = box.contains(x)
            assert isinstance(result, np.ndarray) and not result

    def test_subnormal_values_and_bounds_are_compared_exactly(self):
        # XLA reads subnormal numbers as zero, so `-1e-45 >= 0.0` held and
        # Box(0, 0) contained -1e-45 (Gymnasium's `contains` does not)
        tiny = np.float32(1e-45)
        point = Box(0.0, 0.0, ())
        for value, inside in [(-tiny, False), (tiny, False), (np.float32(-0.0), True)]:
            assert bool(point.contains(value)) is inside
            assert bool(jax.jit(point.contains)(value)) is inside
        above_zero = Box(tiny, 1.0, ())
        assert np.float32(0.0) not in above_zero and tiny in above_zero
        assert np.float32(np.nan) not in Box(-np.inf, np.inf, ())
        assert np.array([np.inf, -np.inf], np.float32) in Box(-np.inf, np.inf, (2,))

    def test_huge_python_ints(self):
        assert 2**40 in Box(-np.inf, np.inf, ())
        assert [2**40, 0] not in Box(0.0, 1.0, (2,))
        assert 2**40 not in Box(-np.inf, np.inf, (), dtype=np.int32)

    def test_integer_values_in_float_box(self):
        assert np.array([0, 1], dtype=np.int32) in Box(0.0, 1.0, (2,))

    def test_integer_values_are_compared_exactly_with_float_bounds(self):
        # 2**24 + 1 rounds to 2**24 in float32: compare as integers instead.
        box = Box(0, 2**24, ())
        assert np.int32(2**24) in box
        assert np.int32(2**24 + 1) not in box
        assert not bool(jax.jit(box.contains)(jnp.int32(2**24 + 1)))
        assert bool(jax.jit(box.contains)(jnp.int32(2**24)))
        fractional = Box(0.5, 2.5, ())
        assert [int(v in fractional) for v in np.arange(-1, 5, dtype=np.int32)] == [
            0,
            0,
            1,
            1,
            0,
            0,
        ]
        assert np.int32(np.iinfo(np.int32).max) in Box(-np.inf, np.inf, ())
        assert np.uint8(3) not in Box(-np.inf, 2.0, ())

    def test_numpy_int64_beyond_int32_is_not_wrapped(self):
        if jax.config.jax_enable_x64:
            pytest.skip("x64 enabled: int64 is not converted")
        # JAX would wrap 2**32 + 1 to 1 without x64.
        assert np.array([2**32 + 1]) not in Box(0, 5, (1,))
        assert np.array([2**32 + 1]) not in Box(0, 5, (1,), dtype=np.int32)
        assert np.array([2**32 + 1], np.uint64) not in Box(0, 5, (1,))
        assert np.array([-(2**32) + 1]) not in Box(-5, 5, (1,))
        assert np.array([2**40]) in Box(0, np.inf, (1,))
        assert np.array([3]) in Box(0, 5, (1,), dtype=np.int32)

    def test_bool_is_not_in_a_box(self):
        result = Box(0.0, 1.0, (2,)).contains(jnp.array([True, False]))
        assert isinstance(result, np.ndarray) and not result

    def test_float_is_not_in_an_integer_box(self):
        box = Box(0, 5, (2,), dtype=np.int32)
        assert jnp.array([1, 2]) in box
        assert jnp.array([1.0, 2.0]) not in box
        assert np.array([1, 2], dtype=np.int64) in box

    def test_integer_box_with_other_integer_dtypes(self):
        box = Box(-5, 5, (2,), dtype=np.int32)
        assert np.array([1, 2], dtype=np.uint8) in box
        assert np.array([1, 200], dtype=np.uint8) not in box
        assert np.array([-5, 5], dtype=np.int8) in box
        assert np.array([1, 2**31], dtype=np.uint32) not in box

    def test_non_arrays(self):
        box = Box(0.0, 1.0, (2,))
        for x in [None, "ab", {"a": 1}, [0.5, [0.5]], object()]:
            assert x not in box

    def test_nan_and_inf(self):
        assert jnp.array(jnp.nan) not in Box(-np.inf, np.inf, ())
        assert jnp.array(jnp.inf) in Box(0.0, np.inf, ())
        assert jnp.array(jnp.inf) not in Box(0.0, 1.0, ())

    def test_empty_box(self):
        box = Box(0.0, 1.0, (0,))
        assert jnp.zeros((0,)) in box
        assert box.flat_size == 0

    def test_jit(self):
        box = Box([0.0, -1.0], [1.0, 1.0])
        contains = jax.jit(box.contains)
        assert bool(contains(jnp.array([0.5, -1.0])))
        assert not bool(contains(jnp.array([0.5, -1.5])))

    def test_jit_with_the_space_as_an_argument(self):
        box = Box(0.0, 1.0, (2,))
        contains = jax.jit(lambda space, x: space.contains(x))
        assert bool(contains(box, jnp.array([0.2, 0.3])))
        assert not bool(contains(Box(0.0, 0.1, (2,)), jnp.array([0.2, 0.3])))

    def test_structural_mismatch_is_concrete_under_jit(self):
        box = Box(0.0, 1.0, (2,))
        seen = []

        def check(x):
            result = box.contains(x)
            seen.append(isinstance(result, np.ndarray))
            return result

        assert not bool(jax.jit(check)(jnp.zeros(3)))
        assert seen == [True]


class TestFlatten:
    def test_flatten_and_unflatten(self):
        box = Box(-1.0, 1.0, (2, 2))
        x = jnp.array([[0.1, 0.2], [0.3, -0.4]])
        flat = box.flatten_sample(x)
        assert flat.shape == (4,) and flat.dtype == jnp.float32
        np.testing.assert_array_equal(box.unflatten_sample(flat), x)

    def test_integer_round_trip(self):
        box = Box(-100, 100, (3,), dtype=np.int16)
        x = jnp.array([-100, 7, 100], dtype=jnp.int16)
        back = box.unflatten_sample(box.flatten_sample(x))
        assert back.dtype == jnp.int16
        np.testing.assert_array_equal(back, x)

    def test_scalar(self):
        box = Box(0.0, 1.0, ())
        assert box.flatten_sample(jnp.float32(0.5)).shape == (1,)
        assert box.unflatten_sample(jnp.array([0.5])).shape == ()

    def test_wrong_flat_size(self):
        with pytest.raises(ValueError, match=r"\(4,\)"):
            Box(0.0, 1.0, (2, 2)).unflatten_sample(jnp.zeros(3))


class TestCanonical:
    def test_values(self):
        box = Box([0.0, 2.0, -np.inf, -np.inf, -5.0], [1.0, np.inf, -3.0, np.inf, 5.0])
        np.testing.assert_array_equal(box.canonical(), [0.5, 2.0, -3.0, 0.0, 0.0])

    def test_integer(self):
        box = Box([-3, 0, 1], [-2, 10, 1], dtype=np.int32)
        canonical = box.canonical()
        assert canonical.dtype == jnp.int32
        np.testing.assert_array_equal(canonical, [-3, 5, 1])
        assert canonical in box

    def test_extreme_bounds(self):
        for box in [
            Box(-3e38, 3e38, (2,)),
            Box(-np.inf, np.inf, (2,), dtype=np.int32),
            Box(60000, np.inf, (2,), dtype=np.float16),
        ]:
            canonical = box.canonical()
            assert np.isfinite(np.asarray(canonical, np.float64)).all()
            assert canonical in box


class TestEqualityAndRepr:
    def test_equal_by_value(self):
        a = Box(0.0, 1.0, (2,))
        b = Box(np.zeros(2), [1, 1])
        assert a == b and hash(a) == hash(b)
        assert len({a, b}) == 1

    def test_negative_zero(self):
        a, b = Box(-0.0, 1.0, (2,)), Box(0.0, 1.0, (2,))
        assert a == b and hash(a) == hash(b)

    def test_float64_request_equals_float32_without_x64(self):
        if jax.config.jax_enable_x64:
            pytest.skip("x64 enabled")
        assert Box(0, 1, (2,), dtype=np.float64) == Box(0, 1, (2,))

    @pytest.mark.parametrize(
        "other",
        [
            Box(0.0, 2.0, (2,)),
            Box(-1.0, 1.0, (2,)),
            Box(0.0, 1.0, (3,)),
            Box(0.0, 1.0, (2, 1)),
            Box(0.0, 1.0, (2,), dtype=np.float16),
            Box(0, 1, (2,), dtype=np.int32),
            Box(0.0, np.inf, (2,)),
        ],
    )
    def test_different_parameters(self, other):
        assert Box(0.0, 1.0, (2,)) != other

    def test_not_equal_to_other_things(self):
        assert Box(0, 1, ()) != Discrete(2)
        assert Box(0, 1, ()) != "Box"
        assert Box(0, 1, ()) != 1

    def test_repr(self):
        assert repr(Box(0.0, 1.0, (2,))) == "Box(low=0.0, high=1.0, shape=(2,))"
        assert repr(Box([0.0, 1.0], [2.0, 3.0])) == (
            "Box(low=[0., 1.], high=[2., 3.], shape=(2,))"
        )
        assert repr(Box(-np.inf, 5, (), dtype=np.int32)) == (
            "Box(low=-2147483648, high=5, shape=(), dtype=int32)"
        )
        assert repr(Box(0.1, np.inf, (3,))) == "Box(low=0.1, high=inf, shape=(3,))"
        assert repr(Box(0, 1, (2,))) == repr(Box(np.zeros(2), np.ones(2)))


class TestX64:
    """64-bit integer boxes (only meaningful with `jax_enable_x64`)."""

    def test_uint64_box_up_to_the_dtype_maximum(self, getkey):
        with jax.enable_x64(True):
            for box in [
                Box(0, np.inf, (3,), dtype=np.uint64),
                Box(5, 2**63 + 10, (3,), dtype=np.uint64),
            ]:
                assert box.dtype == np.uint64
                assert box.canonical() in box
                assert np.array([7, 7, 7], np.uint64) in box
                samples = np.asarray(many(box, getkey(), 2000))
                assert samples.dtype == np.uint64
                assert bool(jax.vmap(box.contains)(samples).all())
                # Spread over the range, not stuck at 0.
                assert samples.max() > 2**62 and len(np.unique(samples)) > 1000
            box = Box(0, np.inf, (), dtype=np.uint64)
            assert int(box.high) == 2**64 - 1
            assert np.uint64(2**64 - 1) in box
            assert int(box.canonical()) == 2**63 - 1

    def test_small_uint64_box_samples_every_value(self, getkey):
        with jax.enable_x64(True):
            box = Box(0, 10, (3,), dtype=np.uint64)
            samples = np.asarray(many(box, getkey(), 2000))
            np.testing.assert_array_equal(np.unique(samples), np.arange(11))

    def test_int64_bounds_are_exact(self):
        with jax.enable_x64(True):
            low, high = 2**62 + 1, 2**62 + 3
            for box in [
                Box(
                    np.array([low], np.int64),
                    np.array([high], np.int64),
                    dtype=np.int64,
                ),
                Box(low, high, (1,), dtype=np.int64),
            ]:
                assert int(box.low[0]) == low and int(box.high[0]) == high
                assert np.array([2**62], np.int64) not in box
                assert np.array([low + 1], np.int64) in box
                assert int(box.canonical()[0]) == low + 1
            with pytest.raises(ValueError, match="holds no integer"):
                Box(high, low, (1,), dtype=np.int64)
