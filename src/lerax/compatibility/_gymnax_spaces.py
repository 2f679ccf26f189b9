"""Converting spaces between lerax and gymnax.

gymnax has `Discrete` (values `0, ..., n - 1`), `Box`, `Dict` and `Tuple`.
lerax spaces gymnax cannot express directly become integer `Box`es holding
the same values: `Discrete` with a non-zero `start`, `MultiDiscrete`, and
`MultiBinary` (an int32 box of 0/1). Converting such a box back gives a
lerax integer `Box` with the same elements, not the original type.
"""

from collections import OrderedDict
from typing import Any

import jax.numpy as jnp
import numpy as np

from .._extras import require
from ..space import AbstractSpace, Box, Dict, Discrete, MultiBinary, MultiDiscrete
from ..space import Tuple as TupleSpace
from ._common import bool_box_to_multi_binary

gymnax_spaces = require("gymnax.environments.spaces", "gym")


def lerax_to_gymnax_space(space: AbstractSpace) -> Any:
    """Converts a lerax space to a gymnax space with the same elements.

    Args:
        space: A lerax space.

    Returns:
        A `gymnax.environments.spaces.Space` (see the module notes for the
        spaces gymnax lacks).

    Raises:
        TypeError: If `space` is not a lerax space this function knows.
    """
    if isinstance(space, Discrete):
        if space.start == 0:
            return gymnax_spaces.Discrete(space.n)
        return gymnax_spaces.Box(
            jnp.int32(space.start), jnp.int32(space.start + space.n - 1), (), jnp.int32
        )
    if isinstance(space, Box):
        return gymnax_spaces.Box(
            jnp.asarray(space.low), jnp.asarray(space.high), space.shape, space.dtype
        )
    if isinstance(space, MultiDiscrete):
        high = space.start.astype(np.int64) + space.nvec - 1
        return gymnax_spaces.Box(
            jnp.asarray(space.start, jnp.int32),
            jnp.asarray(high, jnp.int32),
            space.shape,
            jnp.int32,
        )
    if isinstance(space, MultiBinary):
        return gymnax_spaces.Box(
            jnp.zeros(space.shape, jnp.int32),
            jnp.ones(space.shape, jnp.int32),
            space.shape,
            jnp.int32,
        )
    if isinstance(space, Dict):
        return gymnax_spaces.Dict(
            OrderedDict((k, lerax_to_gymnax_space(s)) for k, s in space.items())
        )
    if isinstance(space, TupleSpace):
        return gymnax_spaces.Tuple([lerax_to_gymnax_space(s) for s in space])
    raise TypeError(
        f"`lerax_to_gymnax_space` cannot convert {space!r} (type "
        f"{type(space).__name__}); it supports Discrete, Box, MultiDiscrete, "
        "MultiBinary, Dict and Tuple."
    )


def gymnax_space_to_lerax_space(space: Any) -> AbstractSpace:
    """Converts a gymnax space to the lerax space with the same elements.

    Args:
        space: A `gymnax.environments.spaces.Space` (`Discrete`, `Box`,
            `Dict` or `Tuple`).

    Returns:
        A lerax space (`Discrete` is int32; a float64 box becomes float32
        unless `jax_enable_x64` is set; a bool box of free bits becomes a
        `MultiBinary`).

    Raises:
        TypeError: If `space` is not one of gymnax's spaces, or is a scalar
            or partly fixed bool box.
    """
    if isinstance(space, gymnax_spaces.Discrete):
        return Discrete(int(space.n))
    if isinstance(space, gymnax_spaces.Box):
        low, high = np.asarray(space.low), np.asarray(space.high)
        if np.dtype(space.dtype) == np.bool_:
            return bool_box_to_multi_binary(
                low, high, tuple(space.shape), "gymnax_space_to_lerax_space"
            )
        return Box(low, high, tuple(space.shape), np.dtype(space.dtype))
    if isinstance(space, gymnax_spaces.Dict):
        return Dict(
            OrderedDict(
                (k, gymnax_space_to_lerax_space(s)) for k, s in space.spaces.items()
            )
        )
    if isinstance(space, gymnax_spaces.Tuple):
        return TupleSpace([gymnax_space_to_lerax_space(s) for s in space.spaces])
    raise TypeError(
        f"`gymnax_space_to_lerax_space` cannot convert {space!r} (type "
        f"{type(space).__name__}); it supports gymnax's Discrete, Box, Dict and "
        "Tuple spaces."
    )


def _cast_leaves(space: AbstractSpace, value: Any, dtype_of: Any) -> Any:
    """`value` with each leaf cast to `dtype_of(leaf_space)`, through the
    `Dict`/`Tuple` containers of `space` (JAX arrays, traceable)."""
    if isinstance(space, Dict):
        return {k: _cast_leaves(s, value[k], dtype_of) for k, s in space.items()}
    if isinstance(space, TupleSpace):
        return tuple(_cast_leaves(s, v, dtype_of) for s, v in zip(space, value))
    return jnp.asarray(value).astype(dtype_of(space))


def cast_to(space: AbstractSpace, value: Any) -> Any:
    """Casts a value's leaves to `space`'s dtypes (JAX arrays, traceable)."""
    return _cast_leaves(space, value, lambda s: s.dtype)


def to_gymnax_value(space: AbstractSpace, value: Any) -> Any:
    """Casts an element of a lerax space to the dtypes of
    `lerax_to_gymnax_space(space)` (JAX arrays, traceable): a `MultiBinary`
    value (bool in lerax) becomes the int32 of its gymnax box; other leaves
    keep their dtype, which the gymnax space already has."""
    discrete = (Discrete, MultiDiscrete, MultiBinary)
    return _cast_leaves(
        space, value, lambda s: jnp.int32 if isinstance(s, discrete) else s.dtype
    )
