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
    unroll: int = 1,
) -> tuple[Any, Any]:
    """`jax.lax.scan` whose carry may contain non-array leaves.

    The carry is split into its arrays (scanned) and everything else (held
    fixed). `f` must not change the non-array part.

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

    dynamic, ys = jax.lax.scan(body, dynamic, xs, length=length, unroll=unroll)
    return eqx.combine(dynamic, static), ys


def _same_static(a: Any, b: Any) -> bool:
    try:
        return jax.tree.structure(a) == jax.tree.structure(b) and all(
            x is y or x == y for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
        )
    except Exception:  # noqa: BLE001 - incomparable leaves count as different
        return False
