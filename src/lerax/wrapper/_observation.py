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
from ._base import AbstractObservationWrapper, require_box, require_transform
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

    def __check_init__(self):
        require_transform(
            "TransformObservation",
            "observation",
            self.observation_space,
            func=self.func,
        )

    def map_observation(self, observation: Any) -> Any:
        return self.func(observation)


@final
class ClipObservation(AbstractObservationWrapper):
    """Clips observations into `[low, high]` (default: the inner `Box` bounds).

    The new observation space is the intersection of `[low, high]` with the
    inner `Box`: a clip bound looser than the inner space's leaves that
    side as it is. A clip range that misses the inner space somewhere (e.g.
    `low` above the inner `high`) would leave no valid observation there,
    and is refused when the wrapper is built.

    Attributes:
        env: The wrapped environment (its observation space must be a `Box`).
        low: Lower clip bound (scalar or per dimension, broadcast to the
            space's shape), or None for the space's own bound.
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
        _check_clip_range(env.observation_space, self.low, self.high)

    @property
    def observation_space(self) -> Box:
        inner = self.env.observation_space
        low = inner.low if self.low is None else np.maximum(inner.low, self.low)
        high = inner.high if self.high is None else np.minimum(inner.high, self.high)
        return Box(low, high, inner.shape, dtype=inner.dtype)

    def map_observation(self, observation: Any) -> Any:
        space = self.observation_space
        return jnp.clip(observation, space.low, space.high).astype(space.dtype)


def _check_clip_range(inner: Box, low: Any, high: Any) -> None:
    """Raises `ValueError` unless `[low, high]` (None: `inner`'s own bound)
    is a range of `inner`'s shape that meets `inner` in every dimension."""
    bounds = {}
    for name, bound in (("low", low), ("high", high)):
        if bound is None:
            continue
        try:
            bounds[name] = np.broadcast_to(np.asarray(bound, np.float64), inner.shape)
        except ValueError:
            raise ValueError(
                f"`ClipObservation({name}=...)` must be a scalar or broadcast to "
                f"the observation space's shape {inner.shape}, got shape "
                f"{np.shape(bound)}. Give one bound, or one per dimension."
            ) from None
        if np.isnan(bounds[name]).any():
            raise ValueError(
                f"`ClipObservation({name}=...)` must not be NaN, got {bound}. "
                "Give a number, or None for the space's own bound."
            )
    if len(bounds) == 2 and not (bounds["low"] <= bounds["high"]).all():
        index = tuple(int(i) for i in np.argwhere(bounds["low"] > bounds["high"])[0])
        raise ValueError(
            "`ClipObservation(low=..., high=...)` needs low <= high, but at index "
            f"{index} low={bounds['low'][index]} > high={bounds['high'][index]}. "
            "Swap the bounds or fix them."
        )
    # a missing bound clips nothing on its side
    clip_low = bounds.get("low", np.full(inner.shape, -np.inf))
    clip_high = bounds.get("high", np.full(inner.shape, np.inf))
    empty = np.maximum(inner.low, clip_low) > np.minimum(inner.high, clip_high)
    if empty.any():
        index = tuple(int(i) for i in np.argwhere(empty)[0])
        raise ValueError(
            f"`ClipObservation(low=..., high=...)`: the clip range "
            f"[{clip_low[index]}, {clip_high[index]}] at index {index} lies outside "
            f"the observation space's range [{inner.low[index]}, "
            f"{inner.high[index]}] there, so no observation would be left. Give "
            "bounds that overlap the space's (`env.observation_space`)."
        )


@final
class RescaleObservation(AbstractObservationWrapper):
    """Maps observations affinely from the inner box onto `[min, max]`.

    Dimensions where the inner box is unbounded pass through unchanged. The
    new observation space has the inner box's floating dtype (as Gymnasium's
    `RescaleObservation`; a float64 box under `jax_enable_x64` is mapped in
    float64), float32 for an integer box.

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
