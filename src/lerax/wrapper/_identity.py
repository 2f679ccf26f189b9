"""`Identity`: a wrapper that changes nothing."""

from typing import final

from jaxtyping import Array, Float

from ..env import AbstractEnvLike
from ._base import AbstractRewardWrapper


@final
class Identity(AbstractRewardWrapper):
    """Forwards everything unchanged (useful as a placeholder or in tests).

    Attributes:
        env: The wrapped environment.
    """

    env: AbstractEnvLike

    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        return reward
