"""`SelectObservation`: keep only some components of a vector observation."""

from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..env import AbstractEnvLike
from ..space import Box
from ._base import AbstractObservationWrapper, require_box


@final
class SelectObservation(AbstractObservationWrapper):
    """Keeps the listed components of a 1-D `Box` observation, e.g. to hide
    velocities and make a task partially observable (CartPole with
    `indices=(0, 2)` sees only positions and needs memory).

    Attributes:
        env: The wrapped environment (a 1-D `Box` observation space).
        indices: The components to keep, in order.
    """

    env: AbstractEnvLike
    indices: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, env: AbstractEnvLike, indices: Sequence[int]):
        require_box(env, "SelectObservation", "observation")
        space = env.observation_space
        if len(space.shape) != 1:
            raise ValueError(
                f"`SelectObservation` needs a 1-D Box observation space, got {space!r}."
            )
        indices = tuple(int(i) for i in indices)
        if not indices or any(
            not -space.shape[0] <= i < space.shape[0] for i in indices
        ):
            raise ValueError(
                f"`SelectObservation(indices=...)` must be non-empty and within "
                f"[-{space.shape[0]}, {space.shape[0]}), got {indices}."
            )
        self.env = env
        self.indices = indices

    @property
    def observation_space(self) -> Box:
        inner = self.env.observation_space
        index = np.asarray(self.indices)
        return Box(inner.low[index], inner.high[index], dtype=inner.dtype)

    def map_observation(self, observation: Any) -> Any:
        return jnp.asarray(observation)[np.asarray(self.indices)]
