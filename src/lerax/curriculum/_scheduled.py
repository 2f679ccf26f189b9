"""`ScheduledCurriculum`: an env constant that follows a fixed schedule."""

import dataclasses
from collections.abc import Callable
from typing import Any, final

from jaxtyping import Array, Key

from ..callback._base import AbstractStatelessCallback, IterationContext
from ._base import write_env_field


@final
class ScheduledCurriculum(AbstractStatelessCallback):
    """Sets an env constant to `schedule_fn(iteration)` before every iteration.

    The iteration with zero-based index `i` runs with the field equal to
    `schedule_fn(i)`: `prepare_state` writes `schedule_fn(state.iteration)`
    before the compiled loop (so the first iteration already follows the
    schedule, and a resumed run continues it), and `apply_curriculum` writes
    the next value after each iteration. The field becomes an array of its
    original dtype (see `lerax.curriculum` for why). Compose several with
    `lerax.callback.CallbackList` (or pass a list as `callback=`).

    Example:
        ```python
        env = lerax.env.make("Pendulum-v1")  # a TimeLimit around Pendulum
        heavier = ScheduledCurriculum(
            lambda env: env.env.mass, linear_schedule(0.5, 1.5, total=100)
        )
        policy = algo.learn(env, policy, 200_000, key=key, callback=heavier)
        ```

    Attributes:
        where: Selects the field in the training state's env, as for
            `equinox.tree_at` (`lambda env: env.mass`).
        schedule_fn: `iteration -> value` (see `linear_schedule`,
            `step_schedule`, `cosine_schedule`); the value is cast to the
            field's dtype and must broadcast to its shape.
    """

    where: Callable[[Any], Any]
    schedule_fn: Callable[[Any], Array]

    def __check_init__(self):
        for name in ("where", "schedule_fn"):
            if not callable(getattr(self, name)):
                raise TypeError(
                    f"`ScheduledCurriculum({name}=...)` must be callable, got "
                    f"{type(getattr(self, name)).__name__}."
                )

    def _write(self, state: Any) -> Any:
        value = self.schedule_fn(state.iteration)
        env = write_env_field("ScheduledCurriculum", self.where, state.env, value)
        return dataclasses.replace(state, env=env)

    def prepare_state(self, state: Any, callback_state: Any) -> Any:
        del callback_state
        return self._write(state)

    def apply_curriculum(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> tuple[Any, Any]:
        del key
        return self._write(ctx.state), ctx.callback_state
