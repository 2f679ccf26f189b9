"""The callback protocol: hooks the compiled training loop calls.

A callback is an Equinox module whose hooks run *inside* the compiled
program, so they must be traceable. Host-side work (printing, files) goes
through `jax.debug.callback`, ideally at most once per logging interval.

Two kinds of state are carried for a callback:

- an iteration-level state (`reset` builds it; `on_iteration`,
  `on_training_start`, `on_training_end` and `apply_curriculum` return new
  ones), kept in the training state as `state.callback_state`;
- a per-env step state (`step_reset` builds it; `on_step` returns new ones),
  kept batched over envs in the rollout carry.

Hooks a callback does not override are never traced, so an unused hook
costs nothing. Every hook gets its own PRNG key, derived from (but never
consuming) the training key: adding or removing a callback never changes
what an algorithm learns.
"""

import dataclasses
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Int, Key


def python_scalar(value: Any) -> Any:
    """A NumPy scalar (an integer from `np.arange`, a config array, a sweep
    table) as the Python scalar it holds (`np.int64(5)` -> `5`,
    `np.bool_(True)` -> `True`), anything else as it is, for the argument
    checks that follow, which still refuse bools, floats and arrays.
    Intervals and counts are static: a NumPy scalar would be kept as an
    array."""
    return value.item() if isinstance(value, np.generic) else value


class AbstractCallbackState(eqx.Module):
    """Optional base of a callback's iteration-level state.

    Any PyTree of arrays can be a callback state; subclassing this (as code
    written for the earlier lerax does) only marks the class as one.
    """


class AbstractCallbackStepState(eqx.Module):
    """Optional base of a callback's per-env step state (batched over envs
    in the rollout carry). Any PyTree of arrays works; this only marks the
    class as one."""


class ResetContext(eqx.Module):
    """What `reset` and `step_reset` see.

    Attributes:
        env: The environment.
        policy: The initial policy.
        algorithm: The algorithm (its hyper-parameters).
    """

    env: Any
    policy: Any
    algorithm: Any


class StepContext(eqx.Module):
    """What `on_step` sees after one step of one env (inside `vmap` over envs).

    Attributes:
        env: The environment.
        policy: The policy acting.
        env_state: The env state after the step (after any automatic reset).
        observation: The observation the action was chosen from.
        action: The action taken.
        reward: The reward received.
        terminated: Whether the episode terminated.
        truncated: Whether the episode was cut short (time limit).
        info: The step's info dict.
        episode_return: On steps that end an episode, its undiscounted return;
            otherwise the running return so far.
        episode_length: Likewise for the length.
        callback_state: This callback's step state before the step.
    """

    env: Any
    policy: Any
    env_state: Any
    observation: Any
    action: Any
    reward: Array
    terminated: Bool[Array, ""]
    truncated: Bool[Array, ""]
    info: dict
    episode_return: Array
    episode_length: Array
    callback_state: Any

    @property
    def done(self) -> Bool[Array, ""]:
        """Terminated or truncated."""
        return self.terminated | self.truncated


class IterationContext(eqx.Module):
    """What `on_iteration`, `continue_training` and `apply_curriculum` see.

    Attributes:
        state: The training state after the iteration (`state.policy`,
            `state.env`, `state.iteration`, ...).
        metrics: The iteration's metrics (loss terms, `episode_return`,
            `episode_length` over episodes finished in this iteration (NaN if
            none), `learning_rate`, ...), scalars.
        rollout: The iteration's transitions (`Transition`, leading axes
            `[num_steps, num_envs]`), e.g. for metrics over completed episodes.
        step_states: The per-env step states of this callback (leading axis
            envs), or None.
        callback_state: This callback's iteration-level state.
        algorithm: The algorithm.
        total_timesteps: The env-step budget of the current `train`/`learn`
            call's end point (steps done at its last iteration).
    """

    state: Any
    metrics: dict[str, Array]
    rollout: Any
    step_states: Any
    callback_state: Any
    algorithm: Any
    total_timesteps: Int[Array, ""]

    @property
    def iteration(self) -> Int[Array, ""]:
        """Iterations done, this one included."""
        return self.state.iteration

    @property
    def num_timesteps(self) -> Int[Array, ""]:
        """Env steps done so far (summed over envs)."""
        return self.state.iteration * self.algorithm.steps_per_iteration


class TrainingContext(eqx.Module):
    """What `on_training_start` and `on_training_end` see.

    Attributes:
        state: The training state.
        callback_state: This callback's iteration-level state.
        algorithm: The algorithm.
        num_iterations: Iterations this call runs.
        total_timesteps: Env steps done when this call ends.
    """

    state: Any
    callback_state: Any
    algorithm: Any
    num_iterations: int = eqx.field(static=True)
    total_timesteps: Int[Array, ""]

    @property
    def num_timesteps(self) -> Int[Array, ""]:
        """Env steps done so far (summed over envs)."""
        return self.state.iteration * self.algorithm.steps_per_iteration


class AbstractCallback(eqx.Module):
    """Base of every callback: each hook has a no-op default, override what you need.

    Hooks (each takes a keyword-only `key`):

    - `reset(ctx) -> state`, `step_reset(ctx) -> step_state`: initial states.
    - `on_step(ctx) -> step_state`: after every env step (per env, inside
      `vmap`).
    - `on_iteration(ctx) -> state`: after each iteration's update.
    - `continue_training(ctx) -> Bool`: False stops training; the remaining
      iterations of the compiled loop then do no work.
    - `apply_curriculum(ctx) -> (training_state, state)`: may edit the
      training state (e.g. env constants) between iterations.
    - `on_training_start(ctx) -> state`, `on_training_end(ctx) -> state`:
      around each `train`/`learn` call.
    - `prepare_state(state, callback_state) -> training_state` (no key):
      edits the training state before the compiled loop (at `init` and each
      `train`), e.g. to make the env fields a curriculum edits arrays.
    """

    def unused_hooks(self) -> frozenset[str]:
        """Hooks this instance's class overrides but this configuration does
        not need (e.g. `EvalCallback`'s `continue_training` without
        `stop_at_return`); the training loop leaves them out, as it does the
        hooks a class does not override. None by default."""
        return frozenset()

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> Any:
        """Initial iteration-level state (None: stateless)."""
        del ctx, key
        return None

    def step_reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> Any:
        """Initial per-env step state (None: no step state)."""
        del ctx, key
        return None

    def on_step(self, ctx: StepContext, *, key: Key[Array, ""]) -> Any:
        """Called after every env step; returns the new step state."""
        del key
        return ctx.callback_state

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> Any:
        """Called after each iteration; returns the new state."""
        del key
        return ctx.callback_state

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""] | bool:
        """Whether training goes on after this iteration."""
        del ctx, key
        return True

    def apply_curriculum(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> tuple[Any, Any]:
        """Returns `(training_state, callback_state)`, possibly edited."""
        del key
        return ctx.state, ctx.callback_state

    def on_iteration_end(self, ctx: IterationContext, *, key: Key[Array, ""]) -> None:
        """Called once an iteration is complete: after `on_iteration`,
        `continue_training` and `apply_curriculum`, with the iteration's final
        training state (every callback's new state included) in `ctx.state`.
        Returns nothing: for callbacks that persist or inspect that state,
        such as checkpoints."""
        del ctx, key

    def prepare_state(self, state: Any, callback_state: Any) -> Any:
        """Returns the training state the compiled loop starts from.

        Called (outside the loop) by `init` and by every `train` call, after
        the callback states are attached; so it must be idempotent and
        deterministic (it gets no key). Curricula use it to turn the env
        constants they edit into arrays (a Python-number field is part of the
        loop's static structure and cannot take a traced value later) and to
        write the value for the next iteration.

        Args:
            state: The training state (`state.env`, `state.iteration`, ...).
            callback_state: This callback's iteration-level state.

        Returns:
            The training state, possibly edited; its callback states must be
            left as they are.
        """
        del callback_state
        return state

    def on_training_start(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        """Called before the first iteration of a `train`/`learn` call."""
        del key
        return ctx.callback_state

    def on_training_end(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        """Called after the last iteration of a `train`/`learn` call."""
        del key
        return ctx.callback_state


def overrides(callback: AbstractCallback, hook: str) -> bool:
    """Whether `callback` (or, for a `CallbackList`, any child) overrides
    `hook` and uses it (see `AbstractCallback.unused_hooks`)."""
    if isinstance(callback, CallbackList):
        return any(overrides(child, hook) for child in callback.callbacks)
    return (
        getattr(type(callback), hook) is not getattr(AbstractCallback, hook)
        and hook not in callback.unused_hooks()
    )


class AbstractStatelessCallback(AbstractCallback):
    """A callback with no state of its own (`reset`/`step_reset` return None)."""


class AbstractStepCallback(AbstractCallback):
    """A callback that acts after every env step (override `step_reset`, `on_step`)."""


class AbstractIterationCallback(AbstractCallback):
    """A callback that acts after every iteration (override `on_iteration`)."""


class AbstractTrainingCallback(AbstractCallback):
    """A callback that acts around training (`on_training_start`/`_end`)."""


class AbstractContinueTrainingCallback(AbstractCallback):
    """A callback that can stop training early (override `continue_training`)."""


class EmptyCallback(AbstractCallback):
    """A callback that does nothing."""


def _with_state(ctx: Any, **fields: Any) -> Any:
    return dataclasses.replace(ctx, **fields)


def _split(states: Any, n: int) -> tuple[Any, ...]:
    # A list whose children have no state of some kind carries None for it.
    return (None,) * n if states is None else tuple(states)


def _join(states: Any) -> tuple[Any, ...] | None:
    states = tuple(states)
    return None if all(state is None for state in states) else states


def _child_keys(key: Key[Array, ""], n: int) -> list[Key[Array, ""]]:
    return [jr.fold_in(key, i) for i in range(n)]


class CallbackList(AbstractCallback):
    """Several callbacks run in order; states are tuples of the children's.

    `continue_training` is the AND of the children's; `apply_curriculum`
    and `prepare_state` thread the training state through the children in
    order.

    Attributes:
        callbacks: The callbacks.
    """

    callbacks: tuple[AbstractCallback, ...]

    def __init__(self, callbacks: Any):
        callbacks = tuple(callbacks)
        for c in callbacks:
            if not isinstance(c, AbstractCallback):
                raise TypeError(
                    f"`CallbackList` takes callbacks (AbstractCallback), got "
                    f"{_what(c)}."
                )
        self.callbacks = callbacks

    def reset(self, ctx, *, key):
        keys = _child_keys(key, len(self.callbacks))
        return _join(c.reset(ctx, key=k) for c, k in zip(self.callbacks, keys))

    def step_reset(self, ctx, *, key):
        keys = _child_keys(key, len(self.callbacks))
        return _join(c.step_reset(ctx, key=k) for c, k in zip(self.callbacks, keys))

    def on_step(self, ctx, *, key):
        keys = _child_keys(key, len(self.callbacks))
        return _join(
            c.on_step(_with_state(ctx, callback_state=s), key=k)
            for c, s, k in zip(
                self.callbacks, _split(ctx.callback_state, len(self.callbacks)), keys
            )
        )

    def _each(self, hook, ctx, key):
        keys = _child_keys(key, len(self.callbacks))
        step_states = _split(ctx.step_states, len(self.callbacks))
        out = []
        for i, (c, s, k) in enumerate(
            zip(self.callbacks, _split(ctx.callback_state, len(self.callbacks)), keys)
        ):
            sub = _with_state(
                ctx,
                callback_state=s,
                step_states=step_states[i],
            )
            out.append(getattr(c, hook)(sub, key=k))
        return out

    def on_iteration(self, ctx, *, key):
        return _join(self._each("on_iteration", ctx, key))

    def on_iteration_end(self, ctx, *, key):
        self._each("on_iteration_end", ctx, key)

    def continue_training(self, ctx, *, key):
        result = jnp.array(True)
        for keep in self._each("continue_training", ctx, key):
            result = result & jnp.asarray(keep)
        return result

    def apply_curriculum(self, ctx, *, key):
        keys = _child_keys(key, len(self.callbacks))
        state = ctx.state
        new_states = []
        step_states = _split(ctx.step_states, len(self.callbacks))
        for i, (c, s, k) in enumerate(
            zip(self.callbacks, _split(ctx.callback_state, len(self.callbacks)), keys)
        ):
            sub = _with_state(
                ctx,
                state=state,
                callback_state=s,
                step_states=step_states[i],
            )
            state, s = c.apply_curriculum(sub, key=k)
            new_states.append(s)
        return state, _join(new_states)

    def prepare_state(self, state, callback_state):
        states = _split(callback_state, len(self.callbacks))
        for c, s in zip(self.callbacks, states):
            state = c.prepare_state(state, s)
        return state

    def _around(self, hook, ctx, key):
        keys = _child_keys(key, len(self.callbacks))
        return _join(
            getattr(c, hook)(_with_state(ctx, callback_state=s), key=k)
            for c, s, k in zip(
                self.callbacks, _split(ctx.callback_state, len(self.callbacks)), keys
            )
        )

    def on_training_start(self, ctx, *, key):
        return self._around("on_training_start", ctx, key)

    def on_training_end(self, ctx, *, key):
        return self._around("on_training_end", ctx, key)


def as_callback(callback: Any) -> AbstractCallback:
    """`None` -> `EmptyCallback()`, a sequence -> `CallbackList`, a callback as is.

    Raises:
        TypeError: For anything else.
    """
    if callback is None:
        return EmptyCallback()
    if isinstance(callback, AbstractCallback):
        return callback
    if isinstance(callback, (list, tuple)):
        return CallbackList(callback)
    raise TypeError(
        "`callback` must be an AbstractCallback, a list of them, or None; got "
        f"{_what(callback)}."
    )


def _what(value: Any) -> str:
    """What a value passed as a callback is, with the fix for the usual
    mistakes (a callback class, a logging backend)."""
    from ._backend import AbstractLoggingBackend

    if isinstance(value, type) and issubclass(value, AbstractCallback):
        return f"the class {value.__name__}; pass an instance, `{value.__name__}(...)`"
    if isinstance(value, AbstractLoggingBackend):
        name = type(value).__name__
        return (
            f"the logging backend {name}; wrap it in a callback, "
            f"`LoggingCallback({name}(...))`"
        )
    return type(value).__name__
