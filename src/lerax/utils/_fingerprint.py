"""Structural fingerprints: a hash of what a module is, not of its values.

The fingerprint is the SHA-256 of a canonical JSON description that we build
ourselves (it does not depend on how JAX or Equinox print pytrees, so it is
stable across their versions). It covers:

- every Equinox module's class (qualified name) and fields,
  in declaration order, static or not;
- array leaves by shape and dtype (not values);
- Python scalars, strings and None by value (hyper-parameters such as an
  exploration epsilon are part of the structure);
- functions (activations) by qualified name (also when wrapped, without
  arguments, in `jax.tree_util.Partial`), `functools.partial` by its
  function, arguments and keywords;
- containers (tuple, list, dict) recursively; NumPy dtypes by name; lerax's
  static arrays (space bounds) by shape, dtype and content.
"""

import dataclasses
import functools
import hashlib
import json
import types
from typing import Any

import equinox as eqx
import jax
import numpy as np

FINGERPRINT_VERSION = "lerax-fingerprint-1"
FINGERPRINT_SIZE = 32


def describe(obj: Any, *, closures: bool = False, values: bool = False) -> Any:
    """A JSON-serialisable canonical description of `obj`'s structure.

    With `closures`, a function is also described by the values it captured
    (an optax schedule by its start and end values, not only its name);
    policy fingerprints leave them out, so files stay loadable. With
    `values`, a concrete array of at most `MAX_DESCRIBED_VALUES` entries is
    also described by its values (hyper-parameters given as arrays, such as
    one learning rate of a sweep); otherwise arrays are described by shape
    and dtype only."""
    return _describe(obj, set(), closures, values)


MAX_DESCRIBED_VALUES = 4096
"""The largest array `describe(values=True)` describes by its values."""


def fingerprint(obj: Any) -> bytes:
    """The 32-byte structural fingerprint of `obj` (see the module docstring)."""
    text = json.dumps(
        [FINGERPRINT_VERSION, describe(obj)], sort_keys=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).digest()


def _described_number(description: Any) -> int | float | None:
    """The number a `describe` node `["int", n]` or `["float", repr]` stands
    for (None for any other node)."""
    if not isinstance(description, (list, tuple)) or len(description) != 2:
        return None
    kind, value = description
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _same_number(a: int | float, b: int | float) -> bool:
    """Whether two numbers are the same hyper-parameter: equal as floats
    (an int and its float), or equal once rounded to float32, the precision
    values are used at by default (`np.float32(0.1)` and `0.1`). Two ints
    must be equal."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    try:
        x, y = float(a), float(b)
    except OverflowError:
        return False
    if x == y or (x != x and y != y):  # NaN matches NaN
        return True
    with np.errstate(over="ignore"):
        return bool(np.float32(x) == np.float32(y))


def equivalent(saved: Any, built: Any) -> bool:
    """Whether two descriptions (`describe`, possibly through JSON) describe
    the same thing, numbers compared by value (`_same_number`) rather than by
    type and spelling: a file saved with `epsilon=0` loads with
    `epsilon=0.0`. Booleans stay distinct from numbers."""
    if saved == built:
        return True
    a, b = _described_number(saved), _described_number(built)
    if a is not None and b is not None:
        return _same_number(a, b)
    if isinstance(saved, dict) and isinstance(built, dict):
        return saved.keys() == built.keys() and all(
            equivalent(saved[k], built[k]) for k in saved
        )
    if isinstance(saved, (list, tuple)) and isinstance(built, (list, tuple)):
        return len(saved) == len(built) and all(
            equivalent(x, y) for x, y in zip(saved, built)
        )
    return False


def _qualified(obj: Any) -> str:
    # Qualified names only: module paths of libraries (and of lerax) are
    # private and move between versions, which must not invalidate files.
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return name or type(obj).__qualname__


def _describe(
    obj: Any, seen: set[int], closures: bool = False, values: bool = False
) -> Any:
    from ..space._utils import StaticArray

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return ["int", int(obj)]
    if isinstance(obj, (float, np.floating)):
        return ["float", repr(float(obj))]
    if isinstance(obj, complex):
        return ["complex", repr(obj)]
    if isinstance(obj, (jax.Array, np.ndarray, jax.ShapeDtypeStruct)):
        described = ["array", [int(d) for d in obj.shape], str(obj.dtype)]
        concrete = not isinstance(obj, (jax.ShapeDtypeStruct, jax.core.Tracer))
        key = jax.dtypes.issubdtype(obj.dtype, jax.dtypes.prng_key)
        if values and concrete and not key and obj.size <= MAX_DESCRIBED_VALUES:
            described.append([repr(v) for v in np.asarray(obj).ravel().tolist()])
        return described
    if isinstance(obj, StaticArray):
        a = obj.array
        return [
            "static_array",
            list(a.shape),
            a.dtype.str,
            hashlib.sha256(a.tobytes()).hexdigest(),
        ]
    if isinstance(obj, np.dtype) or (
        isinstance(obj, type) and issubclass(obj, np.generic)
    ):
        return ["dtype", np.dtype(obj).str]
    if id(obj) in seen:
        return ["cycle", type(obj).__qualname__]
    if isinstance(obj, eqx.Module):
        seen = seen | {id(obj)}
        fields = []
        for field in dataclasses.fields(obj):
            static = bool(field.metadata.get("static", False))
            value = getattr(obj, field.name, None)
            fields.append(
                [field.name, static, _describe(value, seen, closures, values)]
            )
        return ["module", _qualified(type(obj)), fields]
    if isinstance(obj, (tuple, list)):
        return [type(obj).__name__, [_describe(v, seen, closures, values) for v in obj]]
    if isinstance(obj, dict):
        return [
            "dict",
            [[str(k), _describe(v, seen, closures, values)] for k, v in obj.items()],
        ]
    if isinstance(obj, jax.tree_util.Partial) and not obj.args and not obj.keywords:
        # a plain function made leafless (`lerax.policy._networks.leafless`)
        # is described as the function itself
        return _describe(obj.func, seen, closures, values)
    if type(obj).__name__ == "_HashableCallableShim" and hasattr(obj, "fun"):
        # `jax.tree_util.Partial(functools.partial(...))` keeps the partial in
        # this shim (Equinox's MLP makes its activation one): describe what
        # it wraps, or every partial activation would look alike
        return _describe(obj.fun, seen, closures, values)
    if isinstance(obj, functools.partial):
        return [
            "partial",
            _describe(obj.func, seen, closures, values),
            [_describe(a, seen, closures, values) for a in obj.args],
            [
                [k, _describe(v, seen, closures, values)]
                for k, v in sorted(obj.keywords.items())
            ],
        ]
    if isinstance(obj, type):
        return ["type", _qualified(obj)]
    if callable(obj) or isinstance(
        obj, (types.FunctionType, types.BuiltinFunctionType)
    ):
        if closures and getattr(obj, "__closure__", None):
            names = obj.__code__.co_freevars
            captured = []
            for name, cell in zip(names, obj.__closure__):
                try:
                    value = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                captured.append(
                    [name, _describe(value, seen | {id(obj)}, closures, values)]
                )
            return ["callable", _qualified(obj), captured]
        return ["callable", _qualified(obj)]
    return ["object", _qualified(type(obj))]
