"""`lax.scan` for carries that hold non-array leaves (functions, Python scalars)."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax


def filter_scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int = 1,
) -> tuple[Any, Any]:
    """`jax.lax.scan` whose carry may contain non-array leaves.

    The carry is split into its arrays (scanned) and everything else (held
    fixed). `f` must not change the non-array part. `reverse=True` scans from
    the last element of `xs` to the first, as in `jax.lax.scan` (and the
    earlier lerax's `filter_scan`).

    Raises:
        ValueError: If `f` changes the carry's non-array part.
    """
    dynamic, static = eqx.partition(init, eqx.is_array)

    def body(carry, x):
        new_carry, y = f(eqx.combine(carry, static), x)
        new_dynamic, new_static = eqx.partition(new_carry, eqx.is_array)
        if not _same_static(new_static, static):
            raise ValueError(
                "filter_scan: the step function changed a non-array part of the carry."
            )
        return new_dynamic, y

    dynamic, ys = jax.lax.scan(
        body, dynamic, xs, length=length, reverse=reverse, unroll=unroll
    )
    return eqx.combine(dynamic, static), ys


def _same_static(a: Any, b: Any) -> bool:
    try:
        return jax.tree.structure(a) == jax.tree.structure(b) and all(
            x is y or x == y for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
        )
    except Exception:  # noqa: BLE001 - incomparable leaves count as different
        return False


def filter_cond(
    predicate: Any,
    true_fn: Callable[..., Any],
    false_fn: Callable[..., Any],
    *operands: Any,
    **kwargs: Any,
) -> Any:
    """`jax.lax.cond` whose operands and outputs may contain non-array leaves.

    The branch that `predicate` selects is called as `fn(*operands, **kwargs)`
    (usually one operand; several, and keywords, as the earlier lerax's
    `filter_cond(pred, true_fun, false_fun, *args, **kwargs)` allowed).
    Both branches must return the same non-array parts (the non-array part
    of `true_fn`'s output is the one returned).
    """
    dynamic, static = eqx.partition((operands, kwargs), eqx.is_array)
    out_static = []

    def wrap(fn):
        def branch(dynamic):
            args, kw = eqx.combine(dynamic, static)
            out = fn(*args, **kw)
            out_dynamic, static_part = eqx.partition(out, eqx.is_array)
            out_static.append(static_part)
            return out_dynamic

        return branch

    out_dynamic = jax.lax.cond(predicate, wrap(true_fn), wrap(false_fn), dynamic)
    return eqx.combine(out_dynamic, out_static[0])
