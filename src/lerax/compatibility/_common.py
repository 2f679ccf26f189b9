"""Helpers shared by the Gymnasium and gymnax space converters (no optional
imports)."""

from typing import Any

import numpy as np

from ..space import MultiBinary


def what_is(obj: Any) -> str:
    """What `obj` is, for an error message: its type's name, or for a class
    given where an instance belongs, that class and the fix."""
    if isinstance(obj, type):
        name = obj.__name__
        return f"the class {name} itself (create an instance: `{name}(...)`)"
    return type(obj).__name__


def bool_box_to_multi_binary(
    low: Any, high: Any, shape: tuple[int, ...], caller: str
) -> MultiBinary:
    """The `MultiBinary` holding the same elements as a bool `Box` (of
    Gymnasium or gymnax) with bounds `low` and `high`.

    Raises:
        TypeError: If the box is scalar or some of its bits are fixed (a
            bound not False/True), which `MultiBinary` cannot express.
    """
    low, high = np.broadcast_to(low, shape), np.broadcast_to(high, shape)
    if not shape or low.any() or not high.all():
        raise TypeError(
            f"`{caller}` converts a bool `Box` to a lerax `MultiBinary`, which "
            "needs a non-scalar shape and free bits (bounds False and True); got "
            f"shape {tuple(shape)} with low {low} and high {high}. Use an integer "
            "`Box` of 0/1 instead."
        )
    return MultiBinary(tuple(int(d) for d in shape))
