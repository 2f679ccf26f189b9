"""`EpisodeStatistics`: undiscounted return and length of every episode."""

from typing import Any, final

import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, Key

from .._custom_types import Info
from ..env import AbstractEnvLike
from ._base import AbstractStatefulWrapper, AbstractWrapperState


@final
class EpisodeStatisticsState(AbstractWrapperState):
    """State of `EpisodeStatistics`: totals of the running episode."""

    env_state: Any
    episode_return: Float[Array, ""]
    episode_length: Int[Array, ""]
    last_reward: Float[Array, ""]


@final
class EpisodeStatistics(AbstractStatefulWrapper):
    """Records the undiscounted return and the length of each episode.

    Every `step` puts `info["episode"] = {"return": ..., "length": ...}`: the
    totals of the current episode including this step. On a step with
    `terminated | truncated` they are the finished episode's final totals
    (read them there; the next step starts from zero). Truncated episodes
    are counted wherever it sits in the chain: an episode that any part of
    the chain ends (a `TimeLimit` inside or outside it, or the env itself)
    restarts the totals of every wrapper, so `EpisodeStatistics(TimeLimit(env,
    n))` and `TimeLimit(EpisodeStatistics(env), n)` record the same episodes.
    It sums the rewards of the env it wraps: put it inside reward wrappers
    (`NormalizeReward`, `ClipReward`, ...) to record the raw return, outside
    them to record the return the agent is trained on. `lerax.env.make`
    does not add it; wrap the env yourself.

    Attributes:
        env: The wrapped environment.
    """

    env: AbstractEnvLike

    @property
    def observation_space(self):
        return self.env.observation_space

    def wrap(self, env_state: Any, *, key: Key[Array, ""]) -> EpisodeStatisticsState:
        del key
        return _fresh(env_state)

    def carry_over(self, state: EpisodeStatisticsState, env_state: Any, *, key):
        del state, key
        return _fresh(env_state)

    def advance(
        self, state: EpisodeStatisticsState, action: Any, next_env_state: Any, *, key
    ):
        reward = jnp.asarray(
            self.env.reward(state.env_state, action, next_env_state, key=key),
            jnp.float32,
        )
        return EpisodeStatisticsState(
            next_env_state,
            state.episode_return + reward,
            state.episode_length + 1,
            reward,
        )

    def observation(self, state: EpisodeStatisticsState, *, key: Key[Array, ""]):
        return self.env.observation(state.env_state, key=key)

    def reward(self, state, action: Any, next_state: EpisodeStatisticsState, *, key):
        del state, action, key
        return next_state.last_reward

    def truncate(self, state: EpisodeStatisticsState) -> Bool[Array, ""]:
        return self.env.truncate(state.env_state)

    def transition_info(
        self, state, action: Any, next_state: EpisodeStatisticsState
    ) -> Info:
        info = dict(
            self.env.transition_info(state.env_state, action, next_state.env_state)
        )
        info["episode"] = {
            "return": next_state.episode_return,
            "length": next_state.episode_length,
        }
        return info


def _fresh(env_state: Any) -> EpisodeStatisticsState:
    zero = jnp.zeros((), jnp.float32)
    return EpisodeStatisticsState(env_state, zero, jnp.zeros((), jnp.int32), zero)
