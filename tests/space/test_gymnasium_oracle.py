"""Generated spaces (nested Dict/Tuple included) against Gymnasium's own:
`flatdim`, `flatten`, `unflatten` and `contains` on both libraries' samples,
and `contains` on values at and just beyond the bounds."""

import os
import warnings
from collections import OrderedDict

import gymnasium.spaces as gs
import jax.random as jr
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .strategies import build, leaf_specs, space_specs

# Few by default (eager JAX compiles per new shape, and nested spaces have
# many); raise for a thorough run with LERAX_SPACE_EXAMPLES=1000.
EXAMPLES = int(os.environ.get("LERAX_SPACE_EXAMPLES", "30"))
SETTINGS = settings(max_examples=max(EXAMPLES // 2, 1), deadline=None, database=None)


def gymnasium_space(spec: tuple) -> gs.Space | None:
    """The Gymnasium space a spec describes, or None where Gymnasium has no
    equivalent (an unsigned Box with an infinite bound, an empty Dict/Tuple,
    whose `flatten` fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gymnasium's precision warnings
        return _gymnasium_space(spec)


def _gymnasium_space(spec: tuple) -> gs.Space | None:
    kind = spec[0]
    if kind == "box":
        _, low, high, shape, dtype = spec
        if np.dtype(dtype).kind == "u" and not np.all(np.isfinite(low + high)):
            return None
        low_array = np.array(low, np.float64).reshape(shape)
        high_array = np.array(high, np.float64).reshape(shape)
        return gs.Box(low_array, high_array, shape=shape, dtype=np.dtype(dtype))
    if kind == "discrete":
        return gs.Discrete(spec[1], start=spec[2])
    if kind == "multi_discrete":
        _, nvec, start, shape = spec
        return gs.MultiDiscrete(
            np.array(nvec).reshape(shape), start=np.array(start).reshape(shape)
        )
    if kind == "multi_binary":
        return gs.MultiBinary(spec[1])
    children = spec[2] if kind == "dict" else spec[1]
    if not children:
        return None
    built = [
        _gymnasium_space(child[1] if kind == "dict" else child) for child in children
    ]
    if any(space is None for space in built):
        return None
    if kind == "tuple":
        return gs.Tuple(built)
    pairs = [(child[0], space) for child, space in zip(children, built)]
    return gs.Dict(OrderedDict(pairs) if spec[1] else dict(pairs))


def as_numpy(sample):
    if isinstance(sample, dict):
        return {key: as_numpy(value) for key, value in sample.items()}
    if isinstance(sample, tuple):
        return tuple(as_numpy(value) for value in sample)
    return np.asarray(sample)


def assert_same_flat(gym_space, space, value) -> None:
    expected = gs.flatten(gym_space, as_numpy(value)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(space.flatten_sample(value)), expected)


@settings(max_examples=max(EXAMPLES // 5, 1), deadline=None, database=None)
@given(spec=space_specs, seed=st.integers(0, 2**31 - 1))
def test_flatten_contains_and_unflatten_agree_with_gymnasium(spec, seed):
    gym_space = gymnasium_space(spec)
    assume(gym_space is not None)
    space = build(spec)
    assert space.flat_size == gs.flatdim(gym_space)
    if isinstance(gym_space, gs.Dict):
        assert space.keys() == tuple(gym_space.keys())  # the flat layout's order
    ours = space.sample(key=jr.key(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gymnasium's casting warnings
        assert gym_space.contains(as_numpy(ours))
        assert_same_flat(gym_space, space, ours)
        gym_space.seed(seed)
        theirs = gym_space.sample()
        assert bool(space.contains(theirs))
        assert_same_flat(gym_space, space, theirs)
        flat = gs.flatten(gym_space, theirs).astype(np.float32)
        assert_same_flat(gym_space, space, space.unflatten_sample(flat))


def _near_bounds(space, dtype: np.dtype) -> list:
    """Values at, just below and just above each finite bound (as `dtype`)."""
    if isinstance(space, gs.Discrete | gs.MultiDiscrete):
        start = np.ravel(space.start)
        count = np.ravel(space.n if isinstance(space, gs.Discrete) else space.nvec)
        ends = np.concatenate([start, start + count - 1])
    elif isinstance(space, gs.Box):
        ends = np.concatenate([np.ravel(space.low), np.ravel(space.high)])
        ends = ends[np.isfinite(ends)]
    else:
        return []
    values = []
    for end in ends:
        if dtype.kind == "f":
            end = dtype.type(end)
            values += [end, np.nextafter(end, dtype.type(-np.inf))]
            values += [np.nextafter(end, dtype.type(np.inf))]
        else:
            info = np.iinfo(dtype)
            end = int(end)
            values += [v for v in (end - 1, end, end + 1) if info.min <= v <= info.max]
    return [dtype.type(v) for v in values]


@SETTINGS
@given(spec=leaf_specs, data=st.data())
def test_contains_agrees_with_gymnasium_at_the_bounds(spec, data):
    gym_space = gymnasium_space(spec)
    assume(gym_space is not None)
    space = build(spec)
    dtype = np.dtype(space.dtype)
    if spec[0] == "multi_binary":
        dtype, elements = np.dtype(np.int64), st.integers(-1, 2)
    elif dtype.kind == "f":
        elements = st.floats(width=8 * min(dtype.itemsize, 8))
    else:
        info = np.iinfo(dtype)
        elements = st.integers(int(info.min), int(info.max))
    special = _near_bounds(gym_space, dtype)
    if special:
        elements = st.one_of(elements, st.sampled_from(special))
    value = data.draw(hnp.arrays(dtype, space.shape, elements=elements))
    if spec[0] == "discrete":
        value = np.int64(value)  # Gymnasium's Discrete takes integer scalars
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = bool(gym_space.contains(value))
    assert bool(space.contains(value)) == expected
