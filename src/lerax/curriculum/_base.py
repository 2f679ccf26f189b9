"""Shared machinery of the curricula: writing an env field, adaptive metrics.

A curriculum is a training callback that edits a constant of the env held
in the training state (`state.env`) between iterations. Such a field may
start as a Python number, which is part of the compiled loop's *static*
structure and cannot take a traced value. So every curriculum also
implements `prepare_state`: before the loop starts (at `init` and at every
`train`), it turns the field into an array of the same dtype and writes the
value the next iteration should see. From then on the loop's carry keeps
one structure and only the array's value changes.

Fields derived from an edited constant at construction time are not
recomputed (e.g. `Pendulum.action_space` from `max_torque`): curricula are
meant for constants the dynamics, rewards or initial states read directly
(masses, lengths, gravity, noise scales, goal positions).
"""

import abc
import inspect
import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, Key

from ..callback._base import AbstractIterationCallback, IterationContext, ResetContext
from ..utils._checks import real_scalar


def write_env_field(
    owner: str, where: Callable[[Any], Any], env: Any, value: Any
) -> Any:
    """Returns `env` with the field `where(env)` set to `value` (an array).

    The value is cast to the field's dtype (rounded for integer fields) and
    broadcast to its shape, so the env's structure never changes between
    iterations.

    Raises:
        TypeError: If `where` does not select a numeric field.
        ValueError: If `where` fails on the env, selects a static field, or
            the value's shape does not fit the field.
    """
    try:
        current = where(env)
    except Exception as error:  # noqa: BLE001 - re-raised with context
        raise ValueError(
            f"`{owner}(where=...)` failed on the env ({type(env).__name__}): "
            f"{type(error).__name__}: {error}. `where` gets the env of the "
            "training state (wrappers included, e.g. `lambda env: env.env.mass` "
            "for a `TimeLimit`)."
        ) from error
    if isinstance(current, bool) or not (
        isinstance(current, (int, float)) or eqx.is_array(current)
    ):
        raise TypeError(
            f"`{owner}(where=...)` must select a numeric env field (a Python "
            f"number or an array), got {type(current).__name__}."
        )
    current = jnp.asarray(current)
    if jnp.issubdtype(current.dtype, jnp.bool_):
        raise TypeError(f"`{owner}(where=...)` selects a boolean field.")
    value = jnp.asarray(value)
    if jnp.issubdtype(current.dtype, jnp.integer) and not jnp.issubdtype(
        value.dtype, jnp.integer
    ):
        value = jnp.round(value)
    try:
        value = jnp.broadcast_to(value.astype(current.dtype), current.shape)
    except ValueError as error:
        raise ValueError(
            f"`{owner}`: the value has shape {value.shape} but the env field has "
            f"shape {current.shape}."
        ) from error
    try:
        return eqx.tree_at(where, env, value)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{owner}(where=...)` must select an ordinary field of the env; a "
            "static field (`eqx.field(static=True)`) is part of the compiled "
            "program and cannot be changed during training."
        ) from error


class AdaptiveCurriculumState(eqx.Module):
    """The state of an adaptive curriculum (kept in `state.callback_state`).

    Attributes:
        level: The current level (index into the curriculum's levels).
        running_metric: Exponential moving average of the metric over the
            episodes completed at this level (NaN before the first one).
        episodes: Episodes completed (over all envs) since the level began.
    """

    level: Int[Array, ""]
    running_metric: Float[Array, ""]
    episodes: Int[Array, ""]


def _fresh_state() -> AdaptiveCurriculumState:
    return AdaptiveCurriculumState(
        jnp.zeros((), jnp.int32),
        jnp.full((), jnp.nan, jnp.float32),
        jnp.zeros((), jnp.int32),
    )


class AbstractAdaptiveCurriculum(AbstractIterationCallback):
    """A curriculum driven by a metric of COMPLETED episodes.

    After every iteration it reads the iteration's rollout
    (`ctx.rollout`, leading axes `[num_steps, num_envs]`), takes
    `metric_fn(rollout)` at the steps that end an episode (in any env), and
    folds those values into `running_metric`, an exponential moving average
    with weight `smoothing` *per episode*: `n` episodes with mean `m` give
    `running = (1 - smoothing)**n * running + (1 - (1 - smoothing)**n) * m`
    (the first episodes at a level set it to their mean). In-progress
    episodes never count, and the average is a scalar whatever `num_envs`
    is. Subclasses decide what to do with it in `apply_curriculum`.

    Attributes:
        metric_fn: `rollout -> values` shaped like `rollout.done`
            (`[num_steps, num_envs]`); only entries where an episode ended
            are used. E.g. `lambda r: r.episode_return` (the undiscounted
            return) or `lambda r: r.episode_length`. Checked at
            construction: a function that cannot take one argument (such
            as the earlier lerax's `metric_fn(done, reward, locals)`) is
            refused with a `TypeError`.
        smoothing: EMA weight of one episode, in `(0, 1]` (1: the mean of the
            last iteration's completed episodes).
    """

    metric_fn: eqx.AbstractVar[Callable[[Any], Array]]
    smoothing: eqx.AbstractVar[float]

    def __check_init__(self):
        check_metric_fn(type(self).__name__, self.metric_fn)

    def reset(
        self, ctx: ResetContext, *, key: Key[Array, ""]
    ) -> AdaptiveCurriculumState:
        """Level 0, no episodes seen (running metric NaN)."""
        del ctx, key
        return _fresh_state()

    def on_iteration(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> AdaptiveCurriculumState:
        """Folds the episodes this iteration completed into the running metric."""
        del key
        state: AdaptiveCurriculumState = ctx.callback_state
        rollout = ctx.rollout
        done = rollout.terminated | rollout.truncated
        values = jnp.asarray(self.metric_fn(rollout))
        if values.shape != done.shape:
            raise ValueError(
                f"`{type(self).__name__}(metric_fn=...)` must return one value per "
                f"step and env, shaped like `rollout.done` {done.shape}; got "
                f"{values.shape}."
            )
        values = values.astype(jnp.float32)
        count = jnp.sum(done, dtype=jnp.int32)
        mean = jnp.sum(jnp.where(done, values, 0.0)) / jnp.maximum(count, 1)
        keep = (1.0 - jnp.asarray(self.smoothing, jnp.float32)) ** count
        previous = jnp.where(
            jnp.isnan(state.running_metric), mean, state.running_metric
        )
        running = jnp.where(
            count > 0, keep * previous + (1.0 - keep) * mean, state.running_metric
        )
        return AdaptiveCurriculumState(state.level, running, state.episodes + count)

    @abc.abstractmethod
    def apply_curriculum(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> tuple[Any, AdaptiveCurriculumState]:
        """Returns the training state (env edited for the next iteration) and
        the new `AdaptiveCurriculumState`."""


def check_metric_fn(owner: str, metric_fn: Any) -> None:
    """Raises `TypeError` unless `metric_fn` can be called with one argument
    (the rollout), as `metric_fn(rollout)`.

    The earlier lerax called `metric_fn(done, reward, locals)` once per step;
    such a function (or any other that needs more than one argument, or
    takes none) is refused here, at construction, rather than failing
    inside `learn`. A callable whose signature cannot be read is accepted.
    """
    if not callable(metric_fn):
        raise TypeError(
            f"`{owner}(metric_fn=...)` must be callable, got "
            f"{type(metric_fn).__name__}."
        )
    try:
        signature = inspect.signature(metric_fn)
    except (TypeError, ValueError):  # e.g. some builtins: nothing to check
        return
    try:
        signature.bind(None)
    except TypeError:
        pass
    else:
        return
    required = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.default is p.empty
    ]
    earlier = (
        " It looks like the earlier lerax's `metric_fn(done, reward, locals)`, "
        "called once per step: rewrite it to take the whole rollout. "
        if len(required) == 3
        else " "
    )
    raise TypeError(
        f"`{owner}(metric_fn=...)` is called as `metric_fn(rollout)` with one "
        f"argument, but {getattr(metric_fn, '__name__', repr(metric_fn))}"
        f"{signature} cannot be called that way.{earlier}"
        "Here `rollout` is the iteration's `Transition` with leading axes "
        "`[num_steps, num_envs]` (`rollout.reward`, `rollout.done`, "
        "`rollout.episode_return`, `rollout.episode_length`, ...), and "
        "`metric_fn` returns one value per step and env, read where an "
        "episode ends: e.g. `metric_fn=lambda rollout: rollout.episode_return`."
    )


def check_smoothing(owner: str, smoothing: Any) -> None:
    """Checks `smoothing`: a real number in `(0, 1]` (Python, NumPy or a 0-d
    JAX array; a traced value is not checked).

    Raises:
        TypeError: If it is a boolean or not a real number.
        ValueError: If it lies outside `(0, 1]` (NaN included).
    """
    value = concrete_real(owner, "smoothing", smoothing, "a number in (0, 1]")
    if value is not None and not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise ValueError(
            f"`{owner}(smoothing=...)` must be in (0, 1] (the weight of one "
            f"completed episode in the running metric), got {smoothing!r}."
        )


def concrete_real(owner: str, name: str, value: Any, wanted: str) -> float | None:
    """`value` as a float if it is a concrete real scalar (Python, NumPy or a
    0-d JAX array of an int or float dtype), None if it is traced.

    Raises:
        TypeError: If `value` is a boolean, an array with several entries or
            not a real number; the message says it should be `wanted`.
    """
    if isinstance(value, jax.core.Tracer):
        return None
    number = real_scalar(value)
    if number is None:
        raise TypeError(f"`{owner}({name}=...)` must be {wanted}, got {value!r}.")
    return number
