"""`TimeLimit`: truncates episodes after a fixed number of steps."""

from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int, Key

from .._custom_types import Info
from ..env import AbstractEnvLike
from ._base import AbstractStatefulWrapper, AbstractWrapperState


@final
class TimeLimitState(AbstractWrapperState):
    """State of `TimeLimit`: steps taken in the current episode."""

    env_state: Any
    step_count: Int[Array, ""]


@final
class TimeLimit(AbstractStatefulWrapper):
    """Sets `truncated` once an episode has lasted `max_episode_steps` steps
    (as Gymnasium's `TimeLimit`); the inner env's own truncation still counts.

    Attributes:
        env: The wrapped environment.
        max_episode_steps: The episode length limit: a whole number >= 1, or
            an array of them (one per env; checked when concrete).
    """

    env: AbstractEnvLike
    max_episode_steps: int

    def __check_init__(self):
        steps = self.max_episode_steps
        if isinstance(steps, jax.core.Tracer):
            return  # a traced limit (e.g. vmapped over) is checked by its maker
        if not isinstance(steps, (int, float, np.number, np.ndarray, jax.Array)) or (
            isinstance(steps, (np.ndarray, jax.Array))
            and not np.issubdtype(steps.dtype, np.number)
            and steps.dtype != np.bool_
        ):
            # a JAX array (a curriculum's) is fine; text or None are not
            raise TypeError(
                f"`TimeLimit(max_episode_steps=...)` must be a positive int, got "
                f"{steps!r}."
            )
        # concrete: Python and NumPy numbers, NumPy and (untraced) JAX arrays,
        # one limit or one per env; every element must be a whole number >= 1
        values = np.asarray(steps)
        if values.dtype == np.bool_ or not np.all(
            np.isfinite(values) & (values >= 1) & (values == np.floor(values))
        ):
            raise ValueError(
                f"`TimeLimit(max_episode_steps=...)` must be a positive int (or an "
                f"array of them, one per env), got {steps!r}. Give the number of "
                "steps after which an episode is truncated, at least 1."
            )

    @property
    def observation_space(self):
        return self.env.observation_space

    def wrap(self, env_state: Any, *, key: Key[Array, ""]) -> TimeLimitState:
        del key
        return TimeLimitState(env_state, jnp.zeros((), jnp.int32))

    def carry_over(self, state: TimeLimitState, env_state: Any, *, key: Key[Array, ""]):
        del state, key
        return TimeLimitState(env_state, jnp.zeros((), jnp.int32))

    def advance(self, state: TimeLimitState, action: Any, next_env_state: Any, *, key):
        del action, key
        return TimeLimitState(next_env_state, state.step_count + 1)

    def observation(self, state: TimeLimitState, *, key: Key[Array, ""]) -> Any:
        return self.env.observation(state.env_state, key=key)

    def reward(
        self, state: TimeLimitState, action: Any, next_state: TimeLimitState, *, key
    ):
        return self.env.reward(state.env_state, action, next_state.env_state, key=key)

    def truncate(self, state: TimeLimitState) -> Bool[Array, ""]:
        return self.env.truncate(state.env_state) | (
            state.step_count >= self.max_episode_steps
        )

    def transition_info(
        self, state: TimeLimitState, action: Any, next_state: TimeLimitState
    ) -> Info:
        return self.env.transition_info(state.env_state, action, next_state.env_state)
