"""Tests for `Dict`."""

from collections import OrderedDict
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.space import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple


def make():
    return Dict(
        {
            "position": Box(-1.0, 1.0, (2,)),
            "action": Discrete(3, start=1),
            "flags": MultiBinary(2),
        }
    )


class TestConstruction:
    def test_plain_dict_keys_are_sorted(self):
        assert make().keys() == ("action", "flags", "position")

    def test_kwargs_are_sorted(self):
        space = Dict(b=Discrete(2), a=Discrete(3))
        assert space.keys() == ("a", "b")
        assert space == Dict({"a": Discrete(3), "b": Discrete(2)})

    def test_ordered_dict_keeps_its_order(self):
        space = Dict(OrderedDict([("b", Discrete(2)), ("a", Discrete(3))]))
        assert space.keys() == ("b", "a")
        assert list(space) == ["b", "a"]

    def test_mapping_and_kwargs(self):
        space = Dict({"b": Discrete(2)}, a=Discrete(3))
        assert space.keys() == ("a", "b")

    def test_other_mappings(self):
        space = Dict(MappingProxyType({"b": Discrete(2), "a": Discrete(3)}))
        assert space.keys() == ("a", "b")

    def test_empty(self):
        space = Dict()
        assert len(space) == 0
        assert space.flat_size == 0
        assert {} in space

    def test_access(self):
        space = make()
        assert space["action"] == Discrete(3, start=1)
        assert len(space) == 3
        assert dict(space.items())["flags"] == MultiBinary(2)
        assert space.spaces == {
            "action": Discrete(3, start=1),
            "flags": MultiBinary(2),
            "position": Box(-1.0, 1.0, (2,)),
        }
        with pytest.raises(KeyError, match="missing"):
            space["missing"]

    def test_non_space_value(self):
        with pytest.raises(TypeError, match=r"'a' must be a lerax space, got int"):
            Dict(a=3)
        with pytest.raises(TypeError, match="lerax space"):
            Dict({"a": Discrete(2), "b": [Discrete(2)]})

    def test_non_str_key(self):
        with pytest.raises(TypeError, match="keys must be str"):
            Dict({1: Discrete(2), "a": Discrete(2)})

    def test_non_mapping(self):
        with pytest.raises(TypeError, match="mapping"):
            Dict([("a", Discrete(2))])
        with pytest.raises(TypeError, match="mapping"):
            Dict(Discrete(2))

    def test_duplicate_key(self):
        with pytest.raises(TypeError, match="twice"):
            Dict({"a": Discrete(2)}, a=Discrete(3))


class TestSample:
    def test_sample(self, getkey):
        space = make()
        sample = space.sample(key=getkey())
        assert type(sample) is dict
        assert tuple(sample) == space.keys()
        assert sample in space

    def test_masks(self, getkey):
        space = make()
        mask = {"action": jnp.array([False, True, False]), "flags": jnp.zeros(2, bool)}
        for _ in range(5):
            sample = space.sample(key=getkey(), mask=mask)
            assert sample["action"] == 2
            assert not sample["flags"].any()

    def test_unknown_mask_key(self, getkey):
        with pytest.raises(ValueError, match="unknown keys"):
            make().sample(key=getkey(), mask={"nope": None})

    def test_non_mapping_mask(self, getkey):
        with pytest.raises(TypeError, match="mapping"):
            make().sample(key=getkey(), mask=[None, None, None])

    def test_wrong_sub_mask_shape(self, getkey):
        with pytest.raises(ValueError, match=r"\(3,\)"):
            make().sample(key=getkey(), mask={"action": jnp.ones(4, bool)})

    def test_missing_key(self):
        with pytest.raises(TypeError, match="PRNG key"):
            make().sample(key=None)

    def test_under_jit(self, getkey):
        space = make()
        sample = jax.jit(lambda k: space.sample(key=k))(getkey())
        assert sample in space


class TestContains:
    def good(self):
        return {
            "position": jnp.array([0.0, 0.5]),
            "action": jnp.int32(2),
            "flags": jnp.array([True, False]),
        }

    def test_plain_dict_in_any_order(self):
        assert self.good() in make()
        reordered = OrderedDict(reversed(list(self.good().items())))
        assert reordered in make()
        assert MappingProxyType(self.good()) in make()

    def test_python_values(self):
        assert {"position": [0.0, 0.5], "action": 1, "flags": [1, 0]} in make()

    def test_missing_and_extra_keys(self):
        missing = self.good()
        del missing["flags"]
        extra = {**self.good(), "more": jnp.int32(0)}
        for x in [missing, extra]:
            result = make().contains(x)
            assert isinstance(result, np.ndarray) and not result

    @pytest.mark.parametrize("x", [None, [1, 2, 3], (1, 2, 3), jnp.zeros(3)])
    def test_non_mappings(self, x):
        assert x not in make()

    def test_bad_value(self):
        assert {**self.good(), "action": jnp.int32(0)} not in make()
        assert {**self.good(), "position": jnp.array([0.0, 2.0])} not in make()

    def test_structural_mismatch_inside_is_concrete(self):
        x = {**self.good(), "position": jnp.zeros(3)}
        result = make().contains(x)
        assert isinstance(result, np.ndarray) and not result

        seen = []

        def check(x):
            result = make().contains(x)
            seen.append(isinstance(result, np.ndarray))
            return result

        assert not bool(jax.jit(check)(x))
        assert seen == [True]

    def test_jit(self):
        contains = jax.jit(make().contains)
        assert bool(contains(self.good()))
        assert not bool(contains({**self.good(), "action": jnp.int32(7)}))

    def test_nested(self):
        space = Dict(
            inner=Dict(x=Discrete(2)), pair=Tuple([Discrete(2), MultiBinary(1)])
        )
        assert {"inner": {"x": 1}, "pair": (0, [True])} in space
        assert {"inner": {"x": 2}, "pair": (0, [True])} not in space
        assert {"inner": {"y": 1}, "pair": (0, [True])} not in space


class TestFlatten:
    def test_layout_follows_key_order(self):
        space = Dict(b=Discrete(2), a=Box(0.0, 1.0, (1,)))
        flat = space.flatten_sample({"a": jnp.array([0.25]), "b": jnp.int32(1)})
        np.testing.assert_array_equal(flat, [0.25, 0.0, 1.0])
        ordered = Dict(OrderedDict(b=Discrete(2), a=Box(0.0, 1.0, (1,))))
        flat = ordered.flatten_sample({"a": jnp.array([0.25]), "b": jnp.int32(1)})
        np.testing.assert_array_equal(flat, [0.0, 1.0, 0.25])

    def test_round_trip(self):
        space = Dict(a=MultiDiscrete([3, 2]), b=Box(-1.0, 1.0, ()))
        x = {"a": jnp.array([2, 0], jnp.int32), "b": jnp.float32(-0.5)}
        flat = space.flatten_sample(x)
        assert flat.shape == (space.flat_size,) == (6,)
        back = space.unflatten_sample(flat)
        assert type(back) is dict and tuple(back) == ("a", "b")
        np.testing.assert_array_equal(back["a"], x["a"])
        assert back["b"] == x["b"]

    def test_empty(self):
        assert Dict().flatten_sample({}).shape == (0,)
        assert Dict().unflatten_sample(jnp.zeros(0)) == {}

    @pytest.mark.parametrize(
        "sample, problem",
        [
            ({"a": 1}, r"missing keys \['b'\]"),
            ({"a": 1, "b": 0, "zzz": 99}, r"unknown keys \['zzz'\]"),
            ({"a": 1, "c": 0}, r"missing keys \['b'\] and unknown keys \['c'\]"),
            ((1, 0), "got a tuple"),
        ],
    )
    def test_wrong_structure_raises(self, sample, problem):
        space = Dict(a=Discrete(3), b=Discrete(2))
        with pytest.raises(ValueError, match=r"Dict\(.*\['a', 'b'\].*" + problem):
            space.flatten_sample(sample)

    def test_any_mapping_with_the_keys_is_flattened(self):
        space = Dict(a=Discrete(3), b=Discrete(2))
        flat = space.flatten_sample(MappingProxyType({"b": 1, "a": 2}))
        np.testing.assert_array_equal(flat, [0, 0, 1, 0, 1])

    def test_wrong_flat_size(self):
        with pytest.raises(ValueError, match=r"needs shape \(7,\), got \(5,\)"):
            make().unflatten_sample(jnp.zeros(5))


class TestCanonicalEqualityRepr:
    def test_canonical(self):
        canonical = make().canonical()
        assert tuple(canonical) == make().keys()
        assert canonical in make()

    def test_equality(self):
        assert make() == make()
        assert hash(make()) == hash(make())
        assert make() != Dict(action=Discrete(3, start=1), flags=MultiBinary(2))
        assert make() != Dict(
            position=Box(-1.0, 1.0, (2,)), action=Discrete(3), flags=MultiBinary(2)
        )
        assert Dict(a=Discrete(2)) != Dict(b=Discrete(2))
        assert Dict(a=Discrete(2)) != Tuple([Discrete(2)])

    def test_order_matters_because_it_fixes_the_layout(self):
        sorted_space = Dict(a=Discrete(2), b=Discrete(3))
        reordered = Dict(OrderedDict(b=Discrete(3), a=Discrete(2)))
        assert sorted_space != reordered
        assert sorted_space == Dict(OrderedDict(a=Discrete(2), b=Discrete(3)))

    def test_repr(self):
        assert repr(Dict(b=Discrete(2), a=MultiBinary(3))) == (
            "Dict({'a': MultiBinary(3), 'b': Discrete(2)})"
        )
        assert repr(Dict()) == "Dict({})"
