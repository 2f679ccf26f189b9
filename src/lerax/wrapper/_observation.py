"""Stateless observation wrappers."""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..env import AbstractEnvLike
from ..space import (
    AbstractSpace,
    Box,
    Dict,
    Discrete,
    MultiBinary,
    MultiDiscrete,
    Tuple,
)
from ._base import AbstractObservationWrapper, require_box
from ._rescale import affine, rescaled_box, static_bound


@final
class TransformObservation(AbstractObservationWrapper):
    """Applies `func` to every observation.

    Attributes:
        env: The wrapped environment.
        func: Maps an inner observation to an element of `observation_space`.
        observation_space: The new observation space.
    """

    env: AbstractEnvLike
    func: Callable[[Any], Any] = eqx.field(static=True)
    observation_space: AbstractSpace

    def map_observation(self, observation: Any) -> Any:
        return self.func(observation)


@final
class ClipObservation(AbstractObservationWrapper):
    """Clips observations into `[low, high]` (default: the inner `Box` bounds).

    Attributes:
        env: The wrapped environment (its observation space must be a `Box`).
        low: Lower clip bound (scalar or per dimension), or None for the
            space's own bound.
        high: Upper clip bound, or None for the space's own bound.
    """

    env: AbstractEnvLike
    low: Any = eqx.field(static=True, default=None)
    high: Any = eqx.field(static=True, default=None)

    def __init__(self, env: AbstractEnvLike, low: Any = None, high: Any = None):
        require_box(env, "ClipObservation", "observation")
        self.env = env
        self.low = None if low is None else static_bound(low)
        self.high = None if high is None else static_bound(high)
        self.observation_space  # validates the bounds now  # noqa: B018

    @property
    def observation_space(self) -> Box:
        inner = self.env.observation_space
        low = inner.low if self.low is None else np.maximum(inner.low, self.low)
        high = inner.high if self.high is None else np.minimum(inner.high, self.high)
        return Box(low, high, inner.shape, dtype=inner.dtype)

    def map_observation(self, observation: Any) -> Any:
        space = self.observation_space
        return jnp.clip(observation, space.low, space.high).astype(space.dtype)


@final
class RescaleObservation(AbstractObservationWrapper):
    """Maps observations affinely from the inner box onto `[min, max]`.

    Dimensions where the inner box is unbounded pass through unchanged.

    Attributes:
        env: The wrapped environment (its observation space must be a `Box`).
        min: The new lower bound (scalar or per dimension).
        max: The new upper bound (scalar or per dimension).
    """

    env: AbstractEnvLike
    min: Any = eqx.field(static=True, default=-1.0, converter=static_bound)
    max: Any = eqx.field(static=True, default=1.0, converter=static_bound)

    def __check_init__(self):
        require_box(self.env, "RescaleObservation", "observation")
        rescaled_box(
            self.env.observation_space, self.min, self.max, "RescaleObservation"
        )

    @property
    def observation_space(self) -> Box:
        return rescaled_box(
            self.env.observation_space, self.min, self.max, "RescaleObservation"
        )

    def map_observation(self, observation: Any) -> Any:
        return affine(observation, self.env.observation_space, self.observation_space)


@final
class FlattenObservation(AbstractObservationWrapper):
    """Flattens observations of any space into a float32 vector
    (`observation_space.flatten_sample`; discrete parts are one-hot).

    The new `observation_space` keeps the bounds of the parts: a `Box` part
    keeps its own bounds and one-hot (discrete) parts lie in `[0, 1]`, as
    Gymnasium's `flatten_space`.

    Attributes:
        env: The wrapped environment.
    """

    env: AbstractEnvLike

    @property
    def observation_space(self) -> Box:
        inner = self.env.observation_space
        low, high = _flat_bounds(inner)
        return Box(low, high, (inner.flat_size,))

    def map_observation(self, observation: Any) -> Any:
        return self.env.observation_space.flatten_sample(observation)


def _flat_bounds(space: AbstractSpace) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of `space.flatten_sample`'s output, element by element."""
    if isinstance(space, Box):
        return (
            space.low.astype(np.float64).reshape(-1),
            space.high.astype(np.float64).reshape(-1),
        )
    if isinstance(space, (Discrete, MultiDiscrete, MultiBinary)):
        return np.zeros(space.flat_size), np.ones(space.flat_size)
    if isinstance(space, (Dict, Tuple)):
        parts = [
            _flat_bounds(sub)
            for sub in (space.spaces_ if isinstance(space, Dict) else space.spaces)
        ]
        if not parts:
            return np.zeros(0), np.zeros(0)
        return (
            np.concatenate([low for low, _ in parts]),
            np.concatenate([high for _, high in parts]),
        )
    return np.full(space.flat_size, -np.inf), np.full(space.flat_size, np.inf)
