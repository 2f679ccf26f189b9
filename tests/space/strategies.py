"""Hypothesis strategies that generate lerax spaces (and masks for them).

Spaces are generated as *specs*: plain, hashable nested tuples that `build`
turns into a space. Building the same spec twice gives two independently
constructed spaces, and `mutate` derives a spec that differs in one parameter.
"""

from collections import OrderedDict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from lerax.space import (
    AbstractSpace,
    Box,
    Dict,
    Discrete,
    MultiBinary,
    MultiDiscrete,
    Tuple,
)

INT_RANGES = {
    "int32": (-1000, 1000),
    "int16": (-(2**15), 2**15 - 1),
    "int8": (-128, 127),
    "uint8": (0, 255),
}

# A few fixed shapes: eager JAX compiles once per new shape, so variety costs.
shapes = st.sampled_from([(), (), (0,), (1,), (3,), (2, 2)])


@st.composite
def _float_bounds(draw, dtype: str) -> tuple[float, float]:
    """One dimension's bounds: bounded, half-bounded or unbounded."""
    kind = draw(st.sampled_from(["bounded", "bounded", "lower", "upper", "none"]))
    limit = 2.0**100 if dtype == "float32" and draw(st.booleans()) else 1024.0
    width = 16 if dtype == "float16" else 32
    finite = st.floats(-limit, limit, width=width, allow_subnormal=False)
    a, b = draw(finite), draw(finite)
    if kind == "bounded":
        return float(min(a, b)), float(max(a, b))
    if kind == "lower":
        return float(a), float("inf")
    if kind == "upper":
        return float("-inf"), float(a)
    return float("-inf"), float("inf")


@st.composite
def _int_bounds(draw, dtype: str) -> tuple[float, float]:
    lo, hi = INT_RANGES[dtype]
    a, b = draw(st.integers(lo, hi)), draw(st.integers(lo, hi))
    low, high = float(min(a, b)), float(max(a, b))
    if dtype != "int32":
        # Infinite bounds become the dtype's limits, which flatten exactly.
        if draw(st.integers(0, 3)) == 0:
            low = float("-inf")
        if draw(st.integers(0, 3)) == 0:
            high = float("inf")
    return low, high


@st.composite
def box_specs(draw) -> tuple:
    dtype = draw(
        st.sampled_from(["float32", "float32", "float16", "int32", "int8", "uint8"])
    )
    shape = draw(shapes)
    size = int(np.prod(shape, dtype=np.int64))
    bounds = _int_bounds(dtype) if dtype in INT_RANGES else _float_bounds(dtype)
    pairs = draw(st.lists(bounds, min_size=size, max_size=size))
    low = tuple(p[0] for p in pairs)
    high = tuple(p[1] for p in pairs)
    return ("box", low, high, shape, dtype)


@st.composite
def discrete_specs(draw) -> tuple:
    return ("discrete", draw(st.integers(1, 6)), draw(st.integers(-5, 5)))


@st.composite
def multi_discrete_specs(draw) -> tuple:
    shape = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    size = int(np.prod(shape, dtype=np.int64))
    nvec = tuple(draw(st.lists(st.integers(1, 5), min_size=size, max_size=size)))
    if draw(st.booleans()):
        start = (0,) * size
    else:
        start = tuple(draw(st.lists(st.integers(-5, 5), min_size=size, max_size=size)))
    return ("multi_discrete", nvec, start, shape)


@st.composite
def multi_binary_specs(draw) -> tuple:
    return ("multi_binary", draw(st.sampled_from([(1,), (3,), (2, 2)])))


leaf_specs = st.one_of(
    box_specs(), discrete_specs(), multi_discrete_specs(), multi_binary_specs()
)

_keys = st.text(alphabet="abcxyz_", min_size=1, max_size=3)


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    dicts = st.builds(
        lambda ordered, items: ("dict", ordered, tuple(items)),
        st.booleans(),
        st.lists(st.tuples(_keys, children), max_size=3, unique_by=lambda kv: kv[0]),
    )
    tuples = st.builds(
        lambda items: ("tuple", tuple(items)), st.lists(children, max_size=3)
    )
    return st.one_of(dicts, tuples)


space_specs = st.recursive(leaf_specs, _extend, max_leaves=5)

# Spaces whose leaves all take masks (Box takes none), for the mask tests.
maskable_specs = st.recursive(
    st.one_of(discrete_specs(), multi_discrete_specs(), multi_binary_specs()),
    _extend,
    max_leaves=4,
)


def build(spec: tuple) -> AbstractSpace:
    """Constructs the space a spec describes (a fresh object on every call)."""
    kind = spec[0]
    if kind == "box":
        _, low, high, shape, dtype = spec
        low_array = np.array(low, dtype=np.float64).reshape(shape)
        high_array = np.array(high, dtype=np.float64).reshape(shape)
        return Box(low_array, high_array, shape=shape, dtype=np.dtype(dtype))
    if kind == "discrete":
        return Discrete(spec[1], start=spec[2])
    if kind == "multi_discrete":
        _, nvec, start, shape = spec
        return MultiDiscrete(
            np.array(nvec, dtype=np.int64).reshape(shape),
            start=np.array(start, dtype=np.int64).reshape(shape),
        )
    if kind == "multi_binary":
        return MultiBinary(spec[1])
    if kind == "dict":
        _, ordered, items = spec
        built = [(key, build(child)) for key, child in items]
        return Dict(OrderedDict(built) if ordered else dict(built))
    if kind == "tuple":
        return Tuple([build(child) for child in spec[1]])
    raise AssertionError(kind)


spaces = space_specs.map(build)
maskable_spaces = maskable_specs.map(build)


@st.composite
def mutate(draw, spec: tuple) -> tuple:
    """A spec that differs from `spec` in exactly one parameter."""
    kind = spec[0]
    if kind == "box":
        _, low, high, shape, dtype = spec
        options = ["axis"]
        if dtype in ("float32", "float16"):
            options.append("dtype")
        if low:
            options.append("bound")
        choice = draw(st.sampled_from(options))
        if choice == "axis":
            return ("box", low, high, (*shape, 1), dtype)
        if choice == "dtype":
            other = "float16" if dtype == "float32" else "float32"
            # Keep the bounds representable in both dtypes.
            clipped = tuple(float(np.clip(v, -1024.0, 1024.0)) for v in low)
            clipped_high = tuple(float(np.clip(v, -1024.0, 1024.0)) for v in high)
            return ("box", clipped, clipped_high, shape, other)
        i = draw(st.integers(0, len(low) - 1))
        lo, hi = list(low), list(high)
        if dtype in INT_RANGES:
            d_lo, d_hi = INT_RANGES[dtype]
            lo_i = max(lo[i], d_lo)
            hi_i = min(hi[i], d_hi)
            if lo_i > d_lo:
                lo[i] = lo_i - 1
            elif hi_i < d_hi:
                hi[i] = hi_i + 1
            else:
                return ("box", low, high, (*shape, 1), dtype)
        elif np.isfinite(hi[i]):
            hi[i] = float("inf")
        elif np.isfinite(lo[i]):
            lo[i] = float("-inf")
        else:
            lo[i], hi[i] = 0.0, 1.0
        return ("box", tuple(lo), tuple(hi), shape, dtype)
    if kind == "discrete":
        if draw(st.booleans()):
            return ("discrete", spec[1] + 1, spec[2])
        return ("discrete", spec[1], spec[2] - 1)
    if kind == "multi_discrete":
        _, nvec, start, shape = spec
        i = draw(st.integers(0, len(nvec) - 1))
        if draw(st.booleans()):
            nvec = nvec[:i] + (nvec[i] + 1,) + nvec[i + 1 :]
        else:
            start = start[:i] + (start[i] - 1,) + start[i + 1 :]
        return ("multi_discrete", nvec, start, shape)
    if kind == "multi_binary":
        shape = spec[1]
        if draw(st.booleans()):
            return ("multi_binary", (*shape, 1))
        return ("multi_binary", (shape[0] + 1, *shape[1:]))
    if kind == "dict":
        _, ordered, items = spec
        options = ["add"] + (["rename", "drop", "child"] if items else [])
        choice = draw(st.sampled_from(options))
        if choice == "add":
            new_key = "new" + "".join(k for k, _ in items)
            return ("dict", ordered, (*items, (new_key, ("discrete", 2, 0))))
        i = draw(st.integers(0, len(items) - 1))
        key, child = items[i]
        rest = items[:i] + items[i + 1 :]
        if choice == "drop":
            return ("dict", ordered, rest)
        if choice == "rename":
            new_key = key + "".join(k for k, _ in items) + "!"
            return ("dict", ordered, items[:i] + ((new_key, child),) + items[i + 1 :])
        return (
            "dict",
            ordered,
            items[:i] + ((key, draw(mutate(child))),) + items[i + 1 :],
        )
    if kind == "tuple":
        items = spec[1]
        options = ["append"] + (["drop", "child"] if items else [])
        choice = draw(st.sampled_from(options))
        if choice == "append":
            return ("tuple", (*items, ("discrete", 2, 0)))
        i = draw(st.integers(0, len(items) - 1))
        if choice == "drop":
            return ("tuple", items[:i] + items[i + 1 :])
        return ("tuple", items[:i] + (draw(mutate(items[i])),) + items[i + 1 :])
    raise AssertionError(kind)


@st.composite
def masks_for(draw, space: AbstractSpace) -> Any:
    """A valid mask for `space` (None where the space takes no mask)."""
    if isinstance(space, Discrete):
        return np.array(
            draw(st.lists(st.booleans(), min_size=space.n, max_size=space.n))
        )
    if isinstance(space, MultiBinary):
        size = space.flat_size
        bits = draw(st.lists(st.booleans(), min_size=size, max_size=size))
        return np.array(bits, dtype=bool).reshape(space.shape)
    if isinstance(space, MultiDiscrete):
        width = int(space.nvec.max())
        flat = space.nvec.ndim == 1 and draw(st.booleans())
        size = space.flat_size if flat else space.nvec.size * width
        bits = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
        return bits if flat else bits.reshape(space.shape + (width,))
    if isinstance(space, Dict):
        return {key: draw(masks_for(sub)) for key, sub in space.items()}
    if isinstance(space, Tuple):
        return tuple(draw(masks_for(sub)) for sub in space)
    return None


def respects_mask(space: AbstractSpace, sample: Any, mask: Any) -> bool:
    """Whether `sample` is allowed by `mask` (a mask from `masks_for`)."""
    if mask is None:
        return True
    if isinstance(space, Discrete):
        index = int(sample) - space.start
        return bool(mask[index]) if mask.any() else index == 0
    if isinstance(space, MultiBinary):
        return not bool(np.any(np.asarray(sample) & ~mask))
    if isinstance(space, MultiDiscrete):
        padded = np.asarray(space.padded_mask(mask))
        index = np.asarray(sample) - space.start
        chosen = np.take_along_axis(padded, index[..., None], axis=-1)[..., 0]
        empty = ~padded.any(axis=-1)
        return bool(np.all(np.where(empty, index == 0, chosen)))
    if isinstance(space, Dict):
        return all(respects_mask(sub, sample[k], mask[k]) for k, sub in space.items())
    if isinstance(space, Tuple):
        return all(respects_mask(sub, s, m) for sub, s, m in zip(space, sample, mask))
    raise AssertionError(space)


def assert_tree_equal(a: Any, b: Any, *, exact: bool = True) -> None:
    """Same structure, and leaves with equal shapes, dtypes and values.

    With `exact=False` floats may differ by rounding (XLA fuses jitted code,
    so jitted and eager float results can differ in the last bit).
    """
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        x, y = jnp.asarray(x), jnp.asarray(y)
        assert x.shape == y.shape
        assert x.dtype == y.dtype
        if exact or not jnp.issubdtype(x.dtype, jnp.floating):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        else:
            np.testing.assert_allclose(
                np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=1e-5
            )


def tree_all_finite(tree: Any) -> bool:
    return all(
        bool(np.all(np.isfinite(np.asarray(leaf, dtype=np.float64))))
        for leaf in jax.tree.leaves(tree)
    )
