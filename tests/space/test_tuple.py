"""Tests for `Tuple`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.space import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple


def make():
    return Tuple([Discrete(3), Box(0.0, 1.0, (2,)), MultiBinary(2)])


class TestConstruction:
    def test_sequences(self):
        assert len(make()) == 3
        assert Tuple((Discrete(2),)) == Tuple([Discrete(2)])
        assert Tuple(s for s in [Discrete(2)]) == Tuple([Discrete(2)])
        assert len(Tuple([])) == 0

    def test_access(self):
        space = make()
        assert space[0] == Discrete(3)
        assert space[-1] == MultiBinary(2)
        assert list(space) == [Discrete(3), Box(0.0, 1.0, (2,)), MultiBinary(2)]
        assert space.shape is None and space.dtype is None

    def test_non_space_entry(self):
        with pytest.raises(TypeError, match="entry 1 must be a lerax space, got int"):
            Tuple([Discrete(2), 3])

    @pytest.mark.parametrize("spaces", [Discrete(2), Dict(a=Discrete(2)), 5, "ab"])
    def test_not_a_sequence_of_spaces(self, spaces):
        with pytest.raises(TypeError, match="lerax space"):
            Tuple(spaces)


class TestSample:
    def test_sample(self, getkey):
        sample = make().sample(key=getkey())
        assert type(sample) is tuple and len(sample) == 3
        assert sample in make()

    def test_masks(self, getkey):
        mask = (jnp.array([False, False, True]), None, jnp.zeros(2, bool))
        for _ in range(5):
            sample = make().sample(key=getkey(), mask=mask)
            assert sample[0] == 2
            assert not sample[2].any()

    def test_wrong_number_of_masks(self, getkey):
        with pytest.raises(ValueError, match="needs 3 masks, got 2"):
            make().sample(key=getkey(), mask=(None, None))

    def test_non_sequence_mask(self, getkey):
        with pytest.raises(TypeError, match="tuple or list"):
            make().sample(key=getkey(), mask=jnp.ones(3, bool))

    def test_missing_key(self):
        with pytest.raises(TypeError, match="PRNG key"):
            make().sample(key=None)

    def test_empty(self, getkey):
        assert Tuple([]).sample(key=getkey()) == ()


class TestContains:
    def test_tuple_and_list(self):
        x = (jnp.int32(1), jnp.array([0.5, 0.5]), jnp.array([True, False]))
        assert x in make()
        assert list(x) in make()
        assert (1, [0.5, 0.5], [1, 0]) in make()

    @pytest.mark.parametrize("length", [2, 4])
    def test_wrong_length_is_a_concrete_false(self, length):
        x = (jnp.int32(1), jnp.array([0.5, 0.5]), jnp.array([True, False]), 0)
        result = make().contains(x[:length])
        assert isinstance(result, np.ndarray) and not result

    @pytest.mark.parametrize("x", [None, {0: 1}, jnp.zeros(3), "abc"])
    def test_non_sequences(self, x):
        assert x not in make()

    def test_bad_value(self):
        assert (3, [0.5, 0.5], [1, 0]) not in make()
        assert (1, [0.5, 1.5], [1, 0]) not in make()

    def test_structural_mismatch_inside_is_concrete_under_jit(self):
        seen = []

        def check(x):
            result = make().contains(x)
            seen.append(isinstance(result, np.ndarray))
            return result

        x = (jnp.float32(1.0), jnp.array([0.5, 0.5]), jnp.array([True, False]))
        assert not bool(jax.jit(check)(x))
        assert seen == [True]

    def test_jit(self):
        contains = jax.jit(make().contains)
        good = (jnp.int32(1), jnp.array([0.5, 0.5]), jnp.array([True, False]))
        assert bool(contains(good))
        assert not bool(contains((jnp.int32(5),) + good[1:]))

    def test_empty(self):
        assert () in Tuple([])
        assert [] in Tuple([])
        assert (1,) not in Tuple([])


class TestFlatten:
    def test_round_trip(self):
        space = Tuple([Discrete(2, start=1), MultiDiscrete([2]), Box(0.0, 1.0, ())])
        x = (jnp.int32(2), jnp.array([1], jnp.int32), jnp.float32(0.25))
        flat = space.flatten_sample(x)
        np.testing.assert_array_equal(flat, [0, 1, 0, 1, 0.25])
        back = space.unflatten_sample(flat)
        assert type(back) is tuple
        for a, b in zip(back, x):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)

    def test_empty(self):
        assert Tuple([]).flatten_sample(()).shape == (0,)
        assert Tuple([]).unflatten_sample(jnp.zeros(0)) == ()

    @pytest.mark.parametrize(
        "spaces, sample, got",
        [
            ([Discrete(3), Discrete(2)], (1,), "tuple of length 1"),
            ([Discrete(3)], (1, 5, 7), "tuple of length 3"),
            ([Discrete(3), Discrete(2)], [1, 0, 0], "list of length 3"),
            ([Discrete(3), Discrete(2)], jnp.array([1, 0]), "ArrayImpl"),
            ([Discrete(3)], {"a": 1}, "dict"),
        ],
    )
    def test_wrong_structure_raises(self, spaces, sample, got):
        space = Tuple(spaces)
        with pytest.raises(ValueError, match=rf"Tuple\(.*{len(spaces)} entries.*{got}"):
            space.flatten_sample(sample)

    def test_wrong_flat_size(self):
        with pytest.raises(ValueError, match=r"\(7,\)"):
            make().unflatten_sample(jnp.zeros(8))


class TestCanonicalEqualityRepr:
    def test_canonical(self):
        canonical = make().canonical()
        assert type(canonical) is tuple
        assert canonical in make()

    def test_equality(self):
        assert make() == make()
        assert hash(make()) == hash(make())
        assert make() != Tuple([Discrete(3), Box(0.0, 1.0, (2,))])
        assert make() != Tuple([Discrete(4), Box(0.0, 1.0, (2,)), MultiBinary(2)])
        assert Tuple([Discrete(2), Discrete(3)]) != Tuple([Discrete(3), Discrete(2)])
        assert Tuple([]) == Tuple(())

    def test_repr(self):
        assert repr(Tuple([Discrete(2), MultiBinary(3)])) == (
            "Tuple(Discrete(2), MultiBinary(3))"
        )
