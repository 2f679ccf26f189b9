"""`TimeLimit`: truncates episodes after a fixed number of steps."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int, Key

from .._custom_types import Info
from ..env import AbstractEnvLike
from ._base import AbstractStatefulWrapper, AbstractWrapperState

# the step counter is an int32: it saturates here, and a larger limit acts as
# this one (an episode of over two billion steps is truncated there)
_MAX_STEPS = int(np.iinfo(np.int32).max)


def _capped(steps: Any) -> Any:
    """`max_episode_steps` with integers beyond int32 capped at `2**31 - 1`.

    The step count is compared with the limit as an int32: a larger Python
    int is an error under `jit`, and a larger NumPy integer wraps round
    when it becomes a JAX array (`2**40` to 0, which truncates every step).
    Anything else (JAX arrays, floats, invalid values) is left for
    `__check_init__`."""
    if isinstance(steps, (bool, np.bool_)):
        return steps
    if isinstance(steps, int):
        return min(steps, _MAX_STEPS)
    if isinstance(steps, (np.integer, np.ndarray)) and np.issubdtype(
        np.asarray(steps).dtype, np.integer
    ):
        capped = np.minimum(steps, _MAX_STEPS).astype(np.int32)
        return capped if isinstance(steps, np.ndarray) else capped[()]
    return steps


@final
class TimeLimitState(AbstractWrapperState):
    """State of `TimeLimit`: steps taken in the current episode."""

    env_state: Any
    step_count: Int[Array, ""]


@final
class TimeLimit(AbstractStatefulWrapper):
    """Sets `truncated` once an episode has lasted `max_episode_steps` steps
    (as Gymnasium's `TimeLimit`); the inner env's own truncation still counts.

    The step count is an int32: limits beyond `2**31 - 1` steps (e.g. a
    huge number meant as "no limit") act as `2**31 - 1`.

    Attributes:
        env: The wrapped environment.
        max_episode_steps: The episode length limit: a whole number >= 1, or
            an array of them (one per env; checked when concrete).
    """

    env: AbstractEnvLike
    max_episode_steps: int = eqx.field(converter=_capped)

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
        # saturating, so the count never wraps round to negative
        count = state.step_count
        return TimeLimitState(next_env_state, count + (count < _MAX_STEPS))

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
