"""The off-policy skeleton shared by DQN and SAC (and their relatives).

One iteration: `collect` `num_steps` steps per env (uniformly random actions
from the action space until `learning_starts` env steps have been taken,
then the algorithm's exploration policy), write them to the replay buffer
(with the true next observation and termination kept apart from
truncation), then run `gradient_steps` updates on uniformly sampled batches.
Algorithms supply the learner (networks, targets, optimiser states), the
exploration rule and one gradient step.

Stateful policies (whose `reset` returns a state, e.g. a recurrent hidden
state) are supported: the policy state advances through the policy's own
calls at every step (in the random-action phase too, where the policy is
still run on each observation and only its action is replaced), is reset at
episode starts, and the buffer keeps the state each action was chosen with
and the state after the step. Losses evaluate the policy (and its target
copy) on each sampled observation with the stored state of that step
(`batch_map`); critics built from the spaces are stateless.

Behind normalisation wrappers the buffer stores what the normalisers
received (`lerax.wrapper.unnormalized`, recorded by the collector), and
each sampled batch is normalised with the statistics as they are after the
iteration's collection (`lerax.wrapper.renormalizer`), as Stable-Baselines3
samples through `VecNormalize`: every transition is then on the scale the
policy currently sees, however old it is.
"""

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Bool, Int, Key

from ..buffer import ReplayBuffer
from ..env import AbstractEnvLike
from ..utils._checks import (
    check_bool,
    check_finite,
    check_finite_or_off,
    check_non_negative,
    check_positive,
    check_step_size,
    check_unit_interval,
)
from ..utils._fusion import computed_once
from ..wrapper._replay import renormalizer, unnormalized_observation_space
from ._base import (
    AbstractAlgorithm,
    AbstractTrainingState,
    check_env,
    check_fits,
    check_given,
    check_int,
    check_key,
    check_static_fields,
    check_timesteps,
    check_training_state,
    require_finite,
)
from ._collector import ActorCarry, collect, initial_carries
from ._on_policy import _check_spaces, _episode_metrics

_Out = TypeVar("_Out")


def batch_map(
    fn: Callable[..., _Out],
    batch: dict[str, Any],
    *args: Any,
    next_step: bool = False,
) -> _Out:
    """Evaluates `fn(policy_state, observation, *args)` on every transition of
    a sampled batch (`jax.vmap` over the leading axis of all inputs).

    The observation and the policy state come from the same step: the
    current ones (`observations`, `policy_states`) or, with `next_step`, the
    next ones (`next_observations`, `next_policy_states`: the state after
    the step, before any reset at an episode end). For a stateless policy
    the state is None.

    Args:
        fn: `(policy_state, observation, *args) -> output` for one transition.
        batch: A batch from `ReplayBuffer.sample`.
        *args: Further per-transition inputs (leading axis = batch; None
            passes None through).
        next_step: Use the next observations and states.

    Returns:
        The outputs, stacked along a leading batch axis.
    """
    if next_step:
        states, observations = batch["next_policy_states"], batch["next_observations"]
    else:
        states, observations = batch["policy_states"], batch["observations"]
    return jax.vmap(fn)(states, observations, *args)


def _renormalized(replay: Callable[[Any, Any], Any], batch: dict[str, Any]):
    """A batch sampled from a buffer of unnormalised values, normalised by
    `replay` (a `renormalizer` holding the current statistics)."""

    def one(observation, next_observation, reward):
        observation, reward = replay(observation, reward)
        next_observation, _ = replay(next_observation, None)
        return observation, next_observation, reward

    observations, next_observations, rewards = jax.vmap(one)(
        batch["observations"], batch["next_observations"], batch["rewards"]
    )
    return dict(
        batch,
        observations=observations,
        next_observations=next_observations,
        rewards=rewards,
    )


@final
class OffPolicyState(AbstractTrainingState):
    """Training state of an off-policy algorithm.

    Attributes:
        env: The environment.
        learner: The algorithm's networks, target networks and optimiser
            states (the policy is `learner.policy`).
        buffer: The replay buffer.
        actors: Per-env carries, leading axis = envs.
        iteration: Iterations done.
        key: PRNG key for the next iteration.
        total_timesteps: The planned budget (for exploration schedules).
        callback_state: The training callback's iteration-level state.
        stopped: Whether a callback stopped training.
    """

    env: AbstractEnvLike
    learner: Any
    buffer: ReplayBuffer
    actors: ActorCarry
    iteration: Int[Array, ""]
    key: Key[Array, ""]
    total_timesteps: Int[Array, ""]
    callback_state: Any
    stopped: Bool[Array, ""]

    @property
    def policy(self) -> Any:
        return self.learner.policy


class AbstractOffPolicyAlgorithm(AbstractAlgorithm):
    """Replay-based training written once.

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Steps per env per iteration.
        buffer_size: Replay capacity (transitions).
        learning_starts: Env steps of uniformly random actions before
            learning starts. The first gradient steps come at the end of the
            iteration whose collection reaches `learning_starts` env steps;
            SB3 waits until an iteration passes it (`num_timesteps >
            learning_starts`), one iteration later when `learning_starts` is
            a multiple of `num_envs * num_steps`. All envs' steps count, and
            they are part of `total_timesteps` (as SB3); the earlier lerax
            counted `learning_starts` per env, outside the budget, so its
            `learning_starts=n` with `num_envs` envs is `n * num_envs` here.
        batch_size: Transitions per gradient step.
        gradient_steps: Gradient steps per iteration (None: one per env step).
        gamma: Discount factor.
        check_numerics: Raise a run-time error naming the quantity when a
            loss or another logged value of a gradient step is NaN or
            infinite (off by default: it costs a check per gradient step).
    """

    buffer_size: eqx.AbstractVar[int]
    learning_starts: eqx.AbstractVar[int]
    batch_size: eqx.AbstractVar[int]
    gradient_steps: eqx.AbstractVar[int | None]
    gamma: eqx.AbstractVar[float]
    check_numerics: eqx.AbstractVar[bool]

    @abc.abstractmethod
    def init_learner(
        self, env: AbstractEnvLike, policy: Any, *, key: Key[Array, ""]
    ) -> Any:
        """Builds the learner (raises `TypeError` for a policy of the wrong family)."""

    @abc.abstractmethod
    def explore(
        self,
        learner: Any,
        policy_state: Any,
        observation: Any,
        mask: Any,
        *,
        key: Key[Array, ""],
        step: Array,
        total: Array,
    ) -> tuple[Any, Any]:
        """The behaviour action once learning has started.

        Args:
            learner: The learner (its `policy` acts).
            policy_state: The policy state for this step (None if stateless).
            observation: One env's observation.
            mask: Its action mask (or None).
            key: A JAX PRNG key.
            step: Env steps taken (over all envs) before this step.
            total: The planned budget.

        Returns:
            `(new_policy_state, action)`. The new state is kept even while
            the action is replaced by a uniformly random one (before
            `learning_starts`).
        """

    @abc.abstractmethod
    def update(
        self, learner: Any, batch: dict[str, Any], *, key: Key[Array, ""], step: Array
    ) -> tuple[Any, dict[str, Array]]:
        """One gradient step (target updates included)."""

    def __check_init__(self):
        check_given(self)
        owner = type(self).__name__

        def present(*names: str) -> dict[str, Any]:
            return {
                n: getattr(self, n) for n in names if getattr(self, n, None) is not None
            }

        check_unit_interval(
            owner,
            **present(
                "gamma",
                "tau",
                "exploration_fraction",
                "exploration_initial_eps",
                "exploration_final_eps",
            ),
        )
        positive = (
            "learning_rate",
            "policy_lr",
            "q_lr",
            "alpha_lr",
            "actor_lr",
            "max_grad_norm",
            "initial_alpha",
        )
        non_negative = (
            "policy_noise",
            "noise_clip",
            "exploration_noise",
            "target_entropy_scale",
        )
        check_positive(owner, **present(*positive))
        check_non_negative(owner, **present(*non_negative))
        check_int(
            owner,
            **present(
                "num_envs",
                "num_steps",
                "buffer_size",
                "batch_size",
                "q_width_size",
                "policy_frequency",
                "target_update_interval",
                "gradient_steps",
            ),
        )
        check_int(owner, minimum=0, **present("learning_starts", "q_depth"))
        finite = [n for n in (*positive, *non_negative) if n != "max_grad_norm"]
        check_finite(owner, **present("target_entropy", *finite))
        check_finite_or_off(owner, **present("max_grad_norm"))
        check_step_size(owner, **present("tau"))
        check_bool(owner, **present("double_q", "autotune", "check_numerics"))
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"`{type(self).__name__}(batch_size={self.batch_size})` exceeds "
                f"`buffer_size={self.buffer_size}`."
            )
        if self.buffer_size < self.num_envs * self.num_steps:
            raise ValueError(
                f"`{owner}(buffer_size={self.buffer_size})` must hold at least one "
                f"iteration's transitions (num_envs * num_steps = "
                f"{self.num_envs * self.num_steps})."
            )
        if self.learning_starts < self.batch_size:
            raise ValueError(
                f"`{type(self).__name__}(learning_starts={self.learning_starts})` must be "
                f">= `batch_size={self.batch_size}` so the first batch has enough data "
                "(it counts the steps of all envs together: the earlier lerax's "
                "per-env `learning_starts=n` is `n * num_envs` here)."
            )

    @property
    @abc.abstractmethod
    def needs_budget(self) -> bool:
        """Whether training depends on the run's planned budget (e.g. DQN's
        exploration schedule), so a state must be made with
        `init(..., total_timesteps=...)`."""

    @property
    def warmup_steps(self) -> int:
        return self.learning_starts

    def check_state(self, state: Any) -> None:
        check_training_state(self, state, OffPolicyState)
        total = state.total_timesteps
        if (
            self.needs_budget
            and not isinstance(total, jax.core.Tracer)
            and bool(np.all(np.asarray(total) == 0))
        ):
            raise ValueError(
                f"`{type(self).__name__}`'s exploration rate decays over "
                "`exploration_fraction` of the run's budget, which this state "
                "does not know: pass `total_timesteps=` to `init` (as `learn` does)."
            )

    def check_layout(self, state: Any) -> None:
        check_fits(
            self,
            "learner",
            state.learner,
            lambda env, policy: self.init_learner(env, policy, key=jr.key(0)),
            state.env,
            state.policy,
        )

    @property
    def updates_per_iteration(self) -> int:
        """Gradient steps per iteration."""
        return (
            self.gradient_steps
            if self.gradient_steps is not None
            else self.steps_per_iteration
        )

    @property
    def first_learning_iteration(self) -> int:
        """The iteration whose end first reaches `learning_starts` env steps
        (the first with gradient steps, in a run from `init`)."""
        return max(-(-self.learning_starts // self.steps_per_iteration) - 1, 0)

    def init(
        self,
        env: AbstractEnvLike,
        policy: Any,
        *,
        key: Key[Array, ""],
        total_timesteps: int | None = None,
        callback: Any = None,
    ) -> OffPolicyState:
        check_static_fields(f"{type(self).__name__}.init", self)
        # a concrete budget array is checked here, before the compiled
        # `_init` sees it only as a traced value
        _check_budget_array(f"{type(self).__name__}.init", total_timesteps)
        return self._init(
            env, policy, key=key, total_timesteps=total_timesteps, callback=callback
        )

    @eqx.filter_jit  # one compiled program instead of op-by-op dispatch
    def _init(
        self,
        env: AbstractEnvLike,
        policy: Any,
        *,
        key: Key[Array, ""],
        total_timesteps: int | None,
        callback: Any,
    ) -> OffPolicyState:
        owner = f"{type(self).__name__}.init"
        check_key(owner, key)
        check_env(owner, env)
        learner_key, carry_key, next_key = jr.split(key, 3)
        learner = self.init_learner(env, policy, key=learner_key)
        _check_spaces(owner, env, policy)
        actors = initial_carries(env, policy, self.num_envs, key=carry_key)
        mask_key, state_key = jr.split(carry_key)
        mask_example = env.action_mask(env.initial(key=state_key), key=mask_key)
        # one env's initial policy state (None for stateless policies)
        state_example = jax.tree.map(lambda x: x[0], actors.policy_state)
        buffer = ReplayBuffer.create(
            self.buffer_size,
            unnormalized_observation_space(env),
            env.action_space,
            mask_example,
            state_example,
        )
        total = 0 if total_timesteps is None else total_timesteps
        if not (isinstance(total, jax.Array) and total.dtype == jnp.int32):
            total = check_timesteps(total)  # an int32 array may be swept (vmap)
        elif total.shape != ():
            raise ValueError(_budget_shape_message(owner, total.shape))
        state = OffPolicyState(
            env,
            learner,
            buffer,
            actors,
            jnp.zeros((), jnp.int32),
            next_key,
            jnp.asarray(total, jnp.int32),
            None,
            jnp.array(False),
        )
        return self.attach_callback(state, callback, carry_key=carry_key)

    def iteration(
        self, state: OffPolicyState, callback: Any = None
    ) -> tuple[OffPolicyState, dict[str, Array], Any]:
        rollout_key, update_key, next_key = jr.split(state.key, 3)
        learner = state.learner
        space = state.env.action_space
        step = state.iteration * self.steps_per_iteration

        def actor(policy_state, observation, mask, key, index):
            random_key, explore_key = jr.split(key)
            random = space.sample(key=random_key, mask=mask)
            # env steps taken before this one: schedules (DQN's epsilon) and
            # the random phase advance per env step, as SB3's, not once per
            # iteration
            taken = step + index * self.num_envs
            # the policy runs in the random phase too, so its state advances
            policy_state, chosen = self.explore(
                learner,
                policy_state,
                observation,
                mask,
                key=explore_key,
                step=taken,
                total=state.total_timesteps,
            )
            # random while fewer than `learning_starts` env steps were taken
            action = jax.tree.map(
                lambda r, c: jnp.where(taken < self.learning_starts, r, c),
                random,
                chosen,
            )
            # the action feeds the env's transition and reward, the buffer's
            # columns and the logs: computed once, not once per consumer
            action = computed_once(action, key)
            return policy_state, action, action, {}

        actors, transitions = collect(
            state.env,
            learner.policy,
            actor,
            state.actors,
            num_steps=self.num_steps,
            key=rollout_key,
            callback=callback,
            timed=True,
        )
        flat = lambda x: jnp.reshape(x, (-1,) + x.shape[2:])  # noqa: E731
        # behind normalisers, the buffer keeps what they received and each
        # sampled batch is normalised with the current statistics
        raw = transitions.unnormalized
        buffer = state.buffer.add(
            jax.tree.map(flat, raw.get("observation", transitions.observation)),
            jax.tree.map(flat, transitions.action),
            flat(raw.get("reward", transitions.reward)),
            jax.tree.map(
                flat, raw.get("final_observation", transitions.final_observation)
            ),
            flat(transitions.terminated),
            jax.tree.map(flat, transitions.final_action_mask),
            jax.tree.map(flat, transitions.action_mask),
            jax.tree.map(flat, transitions.policy_state),
            jax.tree.map(flat, transitions.next_policy_state),
        )
        done_steps = step + self.steps_per_iteration
        # the statistics sampled batches are normalised with, taken once
        replay = renormalizer(state.env, actors.env_state)

        def gradient_step(learner, inputs):
            index, key = inputs
            batch_key, step_key = jr.split(key)
            batch = buffer.sample(self.batch_size, key=batch_key)
            if raw:
                batch = _renormalized(replay, batch)
            return self.update(learner, batch, key=step_key, step=index)

        # bookkeeping between collection and the gradient steps (DQN's target
        # copy, made during collection in SB3, so before this iteration's
        # updates)
        learner = self.after_collection(learner, step=step, done_steps=done_steps)
        params, static = eqx.partition(learner, eqx.is_array)

        def scanned(params, inputs):
            new, metrics = gradient_step(eqx.combine(params, static), inputs)
            new = eqx.filter(new, eqx.is_array)
            if self.check_numerics:
                new = require_finite(type(self).__name__, metrics, new)
            return new, metrics

        n = self.updates_per_iteration
        # each gradient step's index counts the steps before it since
        # learning started (0 for the first), so delays (TD3's, SAC's
        # `policy_frequency`) count gradient steps as SB3's `_n_updates`
        indices = (state.iteration - self.first_learning_iteration) * n + jnp.arange(n)
        keys = jr.split(update_key, n)

        def learn(params):
            return jax.lax.scan(scanned, params, (indices, keys))

        def wait(params):
            # same outputs as `learn`, without the work (before learning_starts):
            # no update, so no loss (NaN, as a skipped iteration's metrics)
            shapes = jax.eval_shape(learn, params)[1]
            empty = jax.tree.map(
                lambda x: jnp.full(
                    x.shape,
                    jnp.nan if jnp.issubdtype(x.dtype, jnp.floating) else 0,
                    x.dtype,
                ),
                shapes,
            )
            return params, empty

        # the buffer must hold `learning_starts` transitions too: implied in
        # a run from `init`, not in one resumed from a checkpoint written
        # without its buffer, which refills it before learning again
        learning = (done_steps >= self.learning_starts) & (
            buffer.size >= min(self.learning_starts, self.buffer_size)
        )
        params, metrics = jax.lax.cond(learning, learn, wait, params)
        learner = eqx.combine(params, static)
        metrics = jax.tree.map(jnp.mean, metrics)
        # the rates of the iteration's last update (NaN without one)
        metrics.update(
            {
                name: jnp.where(learning, rate, jnp.nan)
                for name, rate in self.learning_rates(learner).items()
            }
        )
        metrics.update(self.exploration_metrics(step=step, total=state.total_timesteps))
        metrics.update(_episode_metrics(transitions))
        state = dataclasses.replace(
            state,
            learner=learner,
            buffer=buffer,
            actors=actors,
            iteration=state.iteration + 1,
            key=next_key,
        )
        return state, metrics, transitions

    @abc.abstractmethod
    def learning_rates(self, learner: Any) -> dict[str, Array]:
        """The learning rate of each optimiser at its last update, logged
        with the losses (DQN's `learning_rate`, SAC's `policy_learning_rate`
        and `q_learning_rate`, ...): a schedule's current value, a constant
        rate itself. Use `rate_of_last_update`.

        Args:
            learner: The learner after the iteration's updates.
        """

    @abc.abstractmethod
    def exploration_metrics(self, *, step: Array, total: Array) -> dict[str, Array]:
        """Metrics of an iteration's exploration, logged with the losses
        (DQN's `exploration_rate`; none for the others).

        Args:
            step: Env steps taken before the iteration.
            total: The planned budget.
        """

    @abc.abstractmethod
    def after_collection(self, learner: Any, *, step: Array, done_steps: Array) -> Any:
        """Per-iteration bookkeeping once the iteration's steps are collected
        and before its gradient steps (e.g. DQN's target copy, which SB3
        makes during collection).

        Args:
            learner: The learner (as the previous iteration left it).
            step: Env steps taken before the iteration.
            done_steps: Env steps taken after its collection.
        """


def rate_of_last_update(rate: Any, opt_state: Any) -> Array:
    """The learning rate the last update behind `opt_state` took: `rate`
    itself when it is a number (or an array of swept rates), a schedule's
    value at that update's step when it is an optax schedule. optax's
    `scale_by_schedule` reads its count, then adds one, so the last update
    read the count before this one.

    Args:
        rate: The rate an optimiser was built with (a number, an array or a
            schedule).
        opt_state: That optimiser's state.
    """
    if not callable(rate):
        return jnp.asarray(rate, jnp.float32)
    counts = [
        s.count
        for s in jax.tree.leaves(
            opt_state, is_leaf=lambda s: isinstance(s, optax.ScaleByScheduleState)
        )
        if isinstance(s, optax.ScaleByScheduleState)
    ]
    if not counts:
        return jnp.asarray(jnp.nan, jnp.float32)
    return jnp.asarray(rate(jnp.maximum(counts[-1] - 1, 0)), jnp.float32)


def _budget_shape_message(owner: str, shape: tuple[int, ...]) -> str:
    return (
        f"`{owner}`: `total_timesteps` must be one budget (a scalar), got an "
        f"array of shape {tuple(shape)}. To make one state per budget, map "
        "over them: `eqx.filter_vmap(lambda t: algo.init(env, policy, key=key, "
        "total_timesteps=t))(budgets)`."
    )


def _check_budget_array(owner: str, total_timesteps: Any) -> None:
    """Raises `ValueError` for a concrete (untraced) int32 JAX array budget
    that is not a scalar, or whose value `check_timesteps` would refuse as a
    Python int. Traced budgets (swept with `vmap`) pass."""
    value = total_timesteps
    if not isinstance(value, jax.Array) or isinstance(value, jax.core.Tracer):
        return
    if value.dtype != jnp.int32:
        return  # `check_timesteps` names it inside `_init`
    if value.shape != ():
        raise ValueError(_budget_shape_message(owner, value.shape))
    check_timesteps(int(value))  # its range, as for a Python int
