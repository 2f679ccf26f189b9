"""Action wrappers: `TransformAction`, `ClipAction`, `RescaleAction`."""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

from ..env import AbstractEnvLike
from ..env._base import tree_layout
from ..space import AbstractSpace, Box
from ._base import AbstractActionWrapper, require_box, require_transform
from ._rescale import affine, rescaled_box, static_bound


def _identity(x: Any) -> Any:
    return x


def _layout(tree: Any) -> tuple[Any, list[str]]:
    """`tree_layout` with each leaf written `shape dtype`, for messages."""
    treedef, leaves = tree_layout(tree)
    return treedef, [f"{shape} {dtype}" for shape, dtype in leaves]


@final
class TransformAction(AbstractActionWrapper):
    """Applies `func` to every action before the inner env sees it.

    Attributes:
        env: The wrapped environment.
        func: Maps an element of `action_space` to one of the inner env's.
        action_space: The new (outer) action space.
        mask_func: Maps the inner env's action mask to a mask of
            `action_space` (identity by default).
    """

    env: AbstractEnvLike
    func: Callable[[Any], Any] = eqx.field(static=True)
    action_space: AbstractSpace
    mask_func: Callable[[Any], Any] = eqx.field(static=True, default=_identity)

    def __check_init__(self):
        require_transform(
            "TransformAction",
            "action",
            self.action_space,
            func=self.func,
            mask_func=self.mask_func,
        )

    def map_action(self, action: Any) -> Any:
        mapped = self.func(action)
        # what the inner env receives must be one of its actions in structure,
        # shape and dtype (checked while tracing; values are the env's concern)
        inner = self.env.action_space
        expected = _layout(jax.eval_shape(lambda k: inner.sample(key=k), jr.key(0)))
        got = _layout(mapped)
        if got != expected:
            got_text, expected_text = ", ".join(got[1]), ", ".join(expected[1])
            raise ValueError(
                f"`TransformAction`: `func` maps an action to {got_text}, but the "
                f"wrapped env takes {expected_text} ({inner!r}). Make `func` return "
                "that shape and dtype (e.g. `.astype(...)`)."
            )
        return mapped

    def map_mask(self, mask: Any) -> Any:
        return self.mask_func(mask)


@final
class ClipAction(AbstractActionWrapper):
    """Accepts any real action and clips it into the inner `Box` bounds.

    The outer action space is the unbounded box of the same shape.

    Attributes:
        env: The wrapped environment (its action space must be a `Box`).
    """

    env: AbstractEnvLike

    def __check_init__(self):
        require_box(self.env, "ClipAction", "action")

    @property
    def action_space(self) -> Box:
        inner = self.env.action_space
        return Box(-jnp.inf, jnp.inf, inner.shape, dtype=inner.dtype)

    def map_action(self, action: Any) -> Any:
        inner = self.env.action_space
        return jnp.clip(action, inner.low, inner.high).astype(inner.dtype)

    def map_mask(self, mask: Any) -> Any:
        return mask


@final
class RescaleAction(AbstractActionWrapper):
    """Exposes actions in `[min, max]` and maps them affinely onto the inner box.

    Dimensions where the inner box is unbounded pass through unchanged. The
    new action space has the inner box's floating dtype (as Gymnasium's
    `RescaleAction`), float32 for an integer box.

    Attributes:
        env: The wrapped environment (its action space must be a `Box`).
        min: The new lower bound (scalar or per dimension).
        max: The new upper bound (scalar or per dimension).
    """

    env: AbstractEnvLike
    min: Any = eqx.field(static=True, default=-1.0, converter=static_bound)
    max: Any = eqx.field(static=True, default=1.0, converter=static_bound)

    def __check_init__(self):
        require_box(self.env, "RescaleAction", "action")
        rescaled_box(self.env.action_space, self.min, self.max, "RescaleAction")

    @property
    def action_space(self) -> Box:
        return rescaled_box(self.env.action_space, self.min, self.max, "RescaleAction")

    def map_action(self, action: Any) -> Any:
        return affine(action, self.action_space, self.env.action_space)

    def map_mask(self, mask: Any) -> Any:
        return mask
