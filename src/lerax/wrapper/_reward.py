"""Stateless reward wrappers: `TransformReward`, `ClipReward`."""

from collections.abc import Callable
from typing import final

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._custom_types import FloatScalarLike
from ..env import AbstractEnvLike
from ..utils._checks import concrete
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
        min: Lower bound, a real scalar (default -1); None (or `-inf`) for
            no lower bound.
        max: Upper bound, a real scalar (default 1); None (or `inf`) for no
            upper bound. At least one bound must be given, and `min <= max`.
    """

    env: AbstractEnvLike
    min: FloatScalarLike | None = -1.0
    max: FloatScalarLike | None = 1.0

    def __check_init__(self):
        if self.min is None and self.max is None:
            raise ValueError(
                "`ClipReward(min=None, max=None)` would leave every reward as it "
                "is: give at least one bound, or drop the wrapper."
            )
        values = {}
        for name, bound in (("min", self.min), ("max", self.max)):
            if bound is None:
                continue
            if isinstance(bound, (str, bytes)):
                raise TypeError(
                    f"`ClipReward({name}=...)` must be a number, got the string "
                    f"{bound!r} (convert it with float(...))."
                )
            if jnp.ndim(bound) != 0:
                raise ValueError(
                    f"`ClipReward({name}=...)` must be a scalar (rewards are "
                    f"scalars), got shape {jnp.shape(bound)}. Give one number per "
                    "bound; use `TransformReward` for anything else."
                )
            value = concrete(bound)  # None when traced: checked by the caller
            if value is not None:
                if np.isnan(value):
                    raise ValueError(
                        f"`ClipReward({name}=...)` must be a real number, got NaN "
                        "(which would make every reward NaN). Give a number, or "
                        "None for no bound on that side."
                    )
                values[name] = value
        if len(values) == 2 and values["min"] > values["max"]:
            raise ValueError(
                f"`ClipReward(min=..., max=...)` needs min <= max, got "
                f"min={self.min} > max={self.max}. Swap the two bounds."
            )

    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        return jnp.clip(reward, self.min, self.max)
