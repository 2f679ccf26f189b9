"""`LevelCurriculum`: advance through difficulty levels as the agent improves."""

import dataclasses
import math
from collections.abc import Callable
from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Key

from ..callback._base import IterationContext
from ._base import (
    AbstractAdaptiveCurriculum,
    AdaptiveCurriculumState,
    check_metric_fn,
    check_smoothing,
    concrete_real,
    write_env_field,
)


@final
class LevelCurriculum(AbstractAdaptiveCurriculum):
    """Moves an env constant through `levels` when a smoothed metric passes a threshold.

    Training starts at `levels[0]`. After each iteration the running metric
    of completed episodes (see `AbstractAdaptiveCurriculum`) is compared with
    `threshold`; once it is above it, and at least `min_episodes` episodes
    have ended at this level, the curriculum moves to the next level (one
    per iteration at most, staying at the last), writes `levels[level]`
    into the env and starts measuring afresh (the running metric restarts
    from NaN). Higher metrics are better: negate `metric_fn` otherwise.

    Episodes that end just after a level change may have begun before it;
    with `min_episodes` at least `num_envs`, each env finishes one episode
    at the new level before the next change.

    Example:
        ```python
        longer = LevelCurriculum(
            lambda env: env.env.length,
            levels=[0.5, 0.75, 1.0],
            metric_fn=lambda rollout: rollout.episode_return,
            threshold=-400.0,
        )
        ```

    Attributes:
        where: Selects the field in the training state's env
            (`lambda env: env.mass`).
        levels: The field's values per level, leading axis = levels.
        metric_fn: `rollout -> values` shaped `[num_steps, num_envs]`, read
            where episodes end.
        threshold: The running metric must exceed it to advance.
        smoothing: EMA weight of one completed episode, in `(0, 1]`.
        min_episodes: Completed episodes needed at a level before advancing.
    """

    where: Callable[[Any], Any]
    levels: Float[Array, "levels ..."]
    metric_fn: Callable[[Any], Array]
    threshold: float
    smoothing: float
    min_episodes: int

    def __init__(
        self,
        where: Callable[[Any], Any],
        levels: Float[ArrayLike, "levels ..."],
        metric_fn: Callable[[Any], Array],
        threshold: float,
        smoothing: float = 0.05,
        min_episodes: int = 1,
    ):
        if not callable(where):
            raise TypeError(
                "`LevelCurriculum(where=...)` must be callable, got "
                f"{type(where).__name__}."
            )
        check_metric_fn("LevelCurriculum", metric_fn)
        try:
            levels_ = jnp.asarray(levels)
        except (TypeError, ValueError) as error:
            raise TypeError(
                "`LevelCurriculum(levels=...)` must be a sequence of numbers or an "
                f"array, got {type(levels).__name__}."
            ) from error
        if levels_.ndim == 0 or levels_.shape[0] < 1:
            raise ValueError(
                "`LevelCurriculum(levels=...)` needs at least one level on its "
                f"leading axis, got shape {levels_.shape}."
            )
        if not (
            jnp.issubdtype(levels_.dtype, jnp.integer)
            or jnp.issubdtype(levels_.dtype, jnp.floating)
        ):
            raise TypeError(
                "`LevelCurriculum(levels=...)` must hold numbers (the env field's "
                f"value at each level), got dtype {levels_.dtype}. Pass numbers "
                "(e.g. 1.0 and 0.0 instead of True and False)."
            )
        if not isinstance(levels_, jax.core.Tracer) and not bool(
            jnp.all(jnp.isfinite(levels_))
        ):
            raise ValueError(
                f"`LevelCurriculum(levels=...)` must be finite, got {levels!r}."
            )
        threshold_ = concrete_real(
            "LevelCurriculum", "threshold", threshold, "a number (one scalar)"
        )
        if threshold_ is not None and math.isnan(threshold_):
            raise ValueError(
                "`LevelCurriculum(threshold=...)` is NaN: no metric would ever pass "
                "it. Pass the value the running metric must exceed."
            )
        check_smoothing("LevelCurriculum", smoothing)
        if (
            isinstance(min_episodes, (bool, np.bool_))
            or not isinstance(min_episodes, (int, np.integer))
            or min_episodes < 1
        ):
            raise ValueError(
                "`LevelCurriculum(min_episodes=...)` must be an int >= 1, got "
                f"{min_episodes!r}."
            )
        min_episodes = int(min_episodes)
        self.where = where
        self.levels = levels_
        self.metric_fn = metric_fn
        self.threshold = threshold
        self.smoothing = smoothing
        self.min_episodes = min_episodes

    @property
    def num_levels(self) -> int:
        """How many levels there are."""
        return self.levels.shape[0]

    def _write(self, state: Any, level: Any) -> Any:
        env = write_env_field(
            "LevelCurriculum", self.where, state.env, self.levels[level]
        )
        return dataclasses.replace(state, env=env)

    def prepare_state(self, state: Any, callback_state: AdaptiveCurriculumState) -> Any:
        return self._write(state, callback_state.level)

    def apply_curriculum(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> tuple[Any, AdaptiveCurriculumState]:
        del key
        s: AdaptiveCurriculumState = ctx.callback_state
        advance = (
            (s.running_metric > self.threshold)
            & (s.episodes >= self.min_episodes)
            & (s.level < self.num_levels - 1)
        )
        level = s.level + advance.astype(s.level.dtype)
        new = AdaptiveCurriculumState(
            level,
            jnp.where(advance, jnp.nan, s.running_metric),
            jnp.where(advance, 0, s.episodes),
        )
        return self._write(ctx.state, level), new
