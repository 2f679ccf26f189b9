"""Names of ONNX inputs and outputs for the leaves of a pytree."""

from typing import Any

import jax.tree_util as jtu


def _key_name(key: Any) -> str:
    if isinstance(key, jtu.DictKey):
        return str(key.key)
    if isinstance(key, jtu.SequenceKey):
        return str(key.idx)
    if isinstance(key, jtu.GetAttrKey):
        return key.name
    if isinstance(key, jtu.FlattenedIndexKey):
        return str(key.key)
    return str(key)


def named_leaves(prefix: str, tree: Any) -> list[tuple[str, Any]]:
    """`(name, leaf)` pairs: `prefix` for a lone array, else `prefix.path`.

    For example the leaves of `{"pos": a, "vel": b}` under `"observation"`
    are named `"observation.pos"` and `"observation.vel"`; the leaves of a
    tuple `(a, b)` are `"observation.0"` and `"observation.1"`; and a
    `RecurrentPolicyState(hidden=h)` under `"state"` is `"state.hidden"`.
    An empty `prefix` names leaves by their paths alone.

    Raises:
        ValueError: If two leaves get the same name, as the leaves of
            `{"a.b": x, "a": {"b": y}}` do.
    """
    leaves = jtu.tree_flatten_with_path(tree)[0]
    named = []
    paths: dict[str, Any] = {}
    for path, leaf in leaves:
        parts = [prefix] if prefix else []
        name = ".".join(parts + [_key_name(key) for key in path])
        if name in paths:
            raise ValueError(
                f"The leaves at {jtu.keystr(paths[name])} and {jtu.keystr(path)} "
                f"of the {prefix or 'output'} would both be named {name!r} (nested "
                "keys are joined with dots), and ONNX names must be unique. Rename "
                "the keys so that their dotted paths differ, e.g. use no dots in "
                "`Dict` keys."
            )
        paths[name] = path
        named.append((name, leaf))
    return named
