"""Action wrappers: `TransformAction`, `ClipAction`, `RescaleAction`."""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp

from ..env import AbstractEnvLike
from ..space import AbstractSpace, Box
from ._base import AbstractActionWrapper, require_box
from ._rescale import affine, rescaled_box, static_bound


def _identity(x: Any) -> Any:
    return x


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

    def map_action(self, action: Any) -> Any:
        return self.func(action)

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

    Dimensions where the inner box is unbounded pass through unchanged.

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
