"""Stateless reward wrappers: `TransformReward`, `ClipReward`."""

from collections.abc import Callable
from typing import final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..env import AbstractEnvLike
from ._base import AbstractRewardWrapper


@final
class TransformReward(AbstractRewardWrapper):
    """Applies `func` to every reward.

    Attributes:
        env: The wrapped environment.
        func: Maps a scalar reward to a scalar reward.
    """

    env: AbstractEnvLike
    func: Callable[[Float[Array, ""]], Float[Array, ""]] = eqx.field(static=True)

    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        return jnp.asarray(self.func(reward), jnp.float32)


@final
class ClipReward(AbstractRewardWrapper):
    """Clips every reward into `[min, max]`.

    Attributes:
        env: The wrapped environment.
        min: Lower bound (default -1).
        max: Upper bound (default 1).
    """

    env: AbstractEnvLike
    min: float = -1.0
    max: float = 1.0

    def __check_init__(self):
        if isinstance(self.min, (int, float)) and isinstance(self.max, (int, float)):
            if self.min > self.max:
                raise ValueError(
                    f"`ClipReward(min=..., max=...)` needs min <= max, got {self.min} > {self.max}."
                )

    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        return jnp.clip(reward, self.min, self.max)
