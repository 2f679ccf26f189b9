"""The on-policy skeleton shared by PPO, A2C and REINFORCE.

One iteration: `collect` a rollout with the current policy, fold time-limit
bootstraps into the rewards, estimate advantages, then run `num_epochs`
passes of `num_batches` minibatch gradient steps on an algorithm-specific
objective. Algorithms choose the estimator, the optimiser and the objective.
"""

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Bool, Float, Int, Key

from ..advantage import AbstractAdvantageEstimator
from ..buffer import RolloutBuffer
from ..env import AbstractEnvLike
from ..policy import AbstractActorCriticPolicy, valid_action
from ..utils._checks import (
    check_bool,
    check_finite,
    check_finite_or_off,
    check_non_negative,
    check_positive,
    check_unit_interval,
)
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
    explained_variance,
    require_finite,
)
from ._collector import ActorCarry, Transition, collect, initial_carries


@final
class OnPolicyState(AbstractTrainingState):
    """Training state of an on-policy algorithm.

    Attributes:
        env: The environment.
        policy: The actor-critic being trained.
        opt_state: The optimiser state.
        actors: Per-env carries (env states, observations, policy states,
            running episode statistics; normalisation statistics live in the
            env states of normalising wrappers), leading axis = envs.
        iteration: Iterations done.
        key: PRNG key for the next iteration.
        callback_state: The training callback's iteration-level state.
        stopped: Whether a callback stopped training.
    """

    env: AbstractEnvLike
    policy: AbstractActorCriticPolicy
    opt_state: Any
    actors: ActorCarry
    iteration: Int[Array, ""]
    key: Key[Array, ""]
    callback_state: Any
    stopped: Bool[Array, ""]


def check_one_update(owner: Any, hint: str = "") -> None:
    """Raises `ValueError` unless `owner` (an A2C-like algorithm: one
    full-batch step per rollout) has `num_epochs == num_batches == 1`. Counts
    that are not ints are left to the base class's check."""
    counts = (owner.num_epochs, owner.num_batches)
    if all(isinstance(n, int) for n in counts) and counts != (1, 1):
        raise ValueError(
            f"{type(owner).__name__} takes one full-batch step per rollout, so "
            f"`num_epochs` and `num_batches` must be 1 (got {counts[0]} and "
            f"{counts[1]}){hint}."
        )


class AbstractOnPolicyAlgorithm(AbstractAlgorithm):
    """PPO, A2C and REINFORCE share everything but three choices: the advantage
    `estimator`, the `optimizer` and the `objective`.

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Steps per env per rollout.
        num_epochs: Passes over each rollout.
        num_batches: Minibatches per pass (must divide `num_envs * num_steps`;
            for recurrent policies it must divide `num_envs`).
        gamma: Discount factor.
        learning_rate: A float or an optax schedule (of optimiser updates).
        max_grad_norm: Global gradient-norm clip (None: no clipping).
        normalize_advantages: Standardise advantages per minibatch.
        value_loss_coefficient: Weight of the value loss.
        entropy_loss_coefficient: Weight of the entropy bonus.
        check_numerics: Raise a run-time error naming the quantity when a
            loss term is NaN or infinite (off by default: it costs a check
            per minibatch).
    """

    num_epochs: eqx.AbstractVar[int]
    num_batches: eqx.AbstractVar[int]
    gamma: eqx.AbstractVar[float]
    learning_rate: eqx.AbstractVar[float | Callable]
    max_grad_norm: eqx.AbstractVar[float | None]
    normalize_advantages: eqx.AbstractVar[bool]
    value_loss_coefficient: eqx.AbstractVar[float]
    entropy_loss_coefficient: eqx.AbstractVar[float]
    check_numerics: eqx.AbstractVar[bool]

    @abc.abstractmethod
    def estimator(self) -> AbstractAdvantageEstimator:
        """The advantage estimator."""

    @abc.abstractmethod
    def base_optimizer(self, learning_rate: Any) -> optax.GradientTransformation:
        """The optimiser (gradient clipping is added by `optimizer`). It sees
        the trainable parameters raveled into one vector, so it should be
        elementwise (as Adam, RMSprop and SGD are) rather than shape-aware."""

    @abc.abstractmethod
    def objective(
        self,
        batch: dict[str, Any],
        values: Float[Array, " B"],
        log_probs: Float[Array, " B"],
        entropies: Float[Array, " B"],
    ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
        """The loss to minimise on a minibatch, and metrics to log.

        Args:
            batch: Stored data (`advantages`, `returns`, `log_probs`,
                `values`, ...), flattened to one batch axis.
            values: Values under the current parameters.
            log_probs: Log-probabilities of the stored actions now.
            entropies: Entropies of the action distributions now.
        """

    def at_update(self, count: Int[Array, ""]) -> "AbstractOnPolicyAlgorithm":
        """This algorithm with the schedules `objective` reads evaluated at
        `count` optimiser updates (the count `learning_rate` schedules see).
        The default has none and returns `self`."""
        del count
        return self

    @abc.abstractmethod
    def stop_early(self, metrics: dict[str, Float[Array, ""]]) -> Any:
        """Whether a minibatch's metrics end the iteration's updates (this
        minibatch's update included), e.g. PPO's target-KL rule. Return the
        Python value `False` when the rule is off, so no check is compiled."""

    def __check_init__(self):
        check_given(self)
        discounts = {
            name: getattr(self, name)
            for name in ("gamma", "gae_lambda")
            if hasattr(self, name)
        }
        check_unit_interval(type(self).__name__, **discounts)
        check_int(
            type(self).__name__,
            num_envs=self.num_envs,
            num_steps=self.num_steps,
            num_epochs=self.num_epochs,
            num_batches=self.num_batches,
        )
        if self.max_grad_norm is not None:
            check_positive(type(self).__name__, max_grad_norm=self.max_grad_norm)
            check_finite_or_off(type(self).__name__, max_grad_norm=self.max_grad_norm)
        check_positive(type(self).__name__, learning_rate=self.learning_rate)
        coefficients = {
            name: getattr(self, name)
            for name in ("value_loss_coefficient", "entropy_loss_coefficient")
            if hasattr(self, name)
        }
        # a negative entropy weight (penalising entropy) is allowed
        check_finite(
            type(self).__name__, learning_rate=self.learning_rate, **coefficients
        )
        if "value_loss_coefficient" in coefficients:
            check_non_negative(
                type(self).__name__,
                value_loss_coefficient=self.value_loss_coefficient,
            )
        switches = ("normalize_advantages", "clip_value_loss", "use_rms_prop")
        check_bool(
            type(self).__name__,
            check_numerics=self.check_numerics,
            **{name: getattr(self, name) for name in switches if hasattr(self, name)},
        )
        if isinstance(self.num_batches, int) and isinstance(self.num_envs, int):
            total = self.num_envs * self.num_steps
            if total % self.num_batches != 0:
                raise ValueError(
                    f"`{type(self).__name__}(num_batches=...)` must divide "
                    f"num_envs * num_steps (got {self.num_batches} for {total})."
                )

    @property
    def warmup_steps(self) -> int:
        return 0

    def check_state(self, state: Any) -> None:
        check_training_state(self, state, OnPolicyState)

    def _check_sequence_batches(self, policy: Any) -> None:
        if policy.reset(key=jr.key(0)) is not None and self.num_envs % self.num_batches:
            raise ValueError(
                f"With a recurrent policy `num_batches` ({self.num_batches}) must divide "
                f"`num_envs` ({self.num_envs}): minibatches are whole env sequences."
            )

    def check_layout(self, state: Any) -> None:
        self._check_sequence_batches(state.policy)
        check_fits(self, "opt_state", state.opt_state, self._init_opt, state.policy)

    def _init_opt(self, policy: Any) -> Any:
        return self.optimizer().init(eqx.filter(policy, eqx.is_inexact_array))

    def optimizer(self) -> optax.GradientTransformation:
        """Gradient clipping (if `max_grad_norm`) then `base_optimizer`, with the
        learning rate exposed in the state for logging.

        Both run on the parameters raveled into one vector (`optax.flatten`):
        a handful of kernels instead of a few per parameter array, which
        compiles PPO's `learn` ~15 % faster at the same speed per update."""
        inner = optax.inject_hyperparams(self.base_optimizer)(
            learning_rate=self.learning_rate
        )
        if self.max_grad_norm is not None:
            inner = optax.chain(optax.clip_by_global_norm(self.max_grad_norm), inner)
        return optax.flatten(inner)

    @eqx.filter_jit  # one compiled program instead of op-by-op dispatch
    def init(
        self,
        env: AbstractEnvLike,
        policy: Any,
        *,
        key: Key[Array, ""],
        total_timesteps: int | None = None,
        callback: Any = None,
    ) -> OnPolicyState:
        check_key(f"{type(self).__name__}.init", key)
        check_static_fields(f"{type(self).__name__}.init", self)
        if not isinstance(policy, AbstractActorCriticPolicy):
            raise TypeError(
                f"`{type(self).__name__}` trains an `AbstractActorCriticPolicy` (e.g. "
                f"`MLPActorCriticPolicy`), got {type(policy).__name__}."
            )
        _check_spaces(f"{type(self).__name__}.init", env, policy)
        self._check_sequence_batches(policy)
        if total_timesteps is not None and not isinstance(total_timesteps, jax.Array):
            check_timesteps(total_timesteps)  # unused here, but a typo is named
        carry_key, next_key = jr.split(key)
        actors = initial_carries(env, policy, self.num_envs, key=carry_key)
        opt_state = self._init_opt(policy)
        state = OnPolicyState(
            env,
            policy,
            opt_state,
            actors,
            jnp.zeros((), jnp.int32),
            next_key,
            None,
            jnp.array(False),
        )
        return self.attach_callback(state, callback, carry_key=carry_key)

    def iteration(
        self, state: OnPolicyState, callback: Any = None
    ) -> tuple[OnPolicyState, dict[str, Array], Transition]:
        rollout_key, update_key, next_key = jr.split(state.key, 3)
        policy = state.policy

        def actor(policy_state, observation, mask, key):
            policy_state, action, value, log_prob = policy.action_and_value(
                policy_state, observation, key=key, action_mask=mask
            )
            env_action = valid_action(policy.action_space, action)
            return (
                policy_state,
                action,
                env_action,
                {"value": value, "log_prob": log_prob},
            )

        actors, transitions = collect(
            state.env,
            policy,
            actor,
            state.actors,
            num_steps=self.num_steps,
            key=rollout_key,
            callback=callback,
        )
        buffer = self._buffer(policy, actors, transitions)
        policy, opt_state, metrics = self._update(
            policy, state.opt_state, buffer, update_key
        )
        metrics.update(_episode_metrics(transitions))
        metrics["explained_variance"] = explained_variance(
            buffer.values, buffer.returns
        )
        metrics["learning_rate"] = _learning_rate(opt_state)
        state = dataclasses.replace(
            state,
            policy=policy,
            opt_state=opt_state,
            actors=actors,
            iteration=state.iteration + 1,
            key=next_key,
        )
        return state, metrics, transitions

    def _buffer(
        self, policy, actors: ActorCarry, transitions: Transition
    ) -> RolloutBuffer:
        values = transitions.extras["value"]
        # Time-limit truncation: bootstrap from the value of the pre-reset
        # observation; termination is never bootstrapped.
        final_values = jax.vmap(jax.vmap(lambda s, o: policy.value(s, o)[1]))(
            transitions.next_policy_state, transitions.final_observation
        )
        bootstrap = transitions.truncated & ~transitions.terminated
        rewards = transitions.reward + self.gamma * jnp.where(
            bootstrap, final_values, 0.0
        )
        last_values = jax.vmap(lambda s, o: policy.value(s, o)[1])(
            actors.policy_state, actors.observation
        )
        advantages, returns = self.estimator()(
            rewards, values, transitions.done, jax.lax.stop_gradient(last_values)
        )
        return RolloutBuffer(
            observations=transitions.observation,
            actions=transitions.action,
            log_probs=transitions.extras["log_prob"],
            values=values,
            rewards=rewards,
            dones=transitions.done,
            episode_starts=transitions.episode_start,
            action_masks=transitions.action_mask,
            policy_states=transitions.policy_state,
            advantages=advantages,
            returns=returns,
        )

    def _evaluate(self, policy, batch: dict[str, Any], recurrent: bool):
        if not recurrent:
            evaluate = jax.vmap(
                lambda o, a, m: policy.evaluate_action(None, o, a, action_mask=m)[1:]
            )
            return evaluate(
                batch["observations"], batch["actions"], batch["action_masks"]
            )

        def sequence(states, observations, actions, masks, starts):
            def step(carry, x):
                stored, obs, action, mask, start = x
                carry = jax.tree.map(lambda a, b: jnp.where(start, a, b), stored, carry)
                carry, value, log_prob, entropy = policy.evaluate_action(
                    carry, obs, action, action_mask=mask
                )
                return carry, (value, log_prob, entropy)

            first = jax.tree.map(lambda x: x[0], states)
            _, out = jax.lax.scan(
                step, first, (states, observations, actions, masks, starts)
            )
            return out

        values, log_probs, entropies = jax.vmap(sequence)(
            batch["policy_states"],
            batch["observations"],
            batch["actions"],
            batch["action_masks"],
            batch["episode_starts"],
        )
        return values.reshape(-1), log_probs.reshape(-1), entropies.reshape(-1)

    def _update(self, policy, opt_state, buffer: RolloutBuffer, key):
        optimizer = self.optimizer()
        recurrent = buffer.policy_states is not None
        params, static = eqx.partition(policy, eqx.is_inexact_array)

        def loss_fn(params, batch, algorithm):
            policy = eqx.combine(params, static)
            values, log_probs, entropies = self._evaluate(policy, batch, recurrent)
            flat = batch
            if recurrent:
                flat = {
                    k: jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), v)
                    for k, v in batch.items()
                    if k != "policy_states"
                }
            return algorithm.objective(flat, values, log_probs, entropies)

        def minibatch(carry, batch):
            params, opt_state, stopped = carry
            # schedules in the objective (PPO's clip range) see the count of
            # updates done, as the learning rate's schedule does
            algorithm = self.at_update(_update_count(opt_state))
            grad_fn = jax.value_and_grad(
                lambda p, b: loss_fn(p, b, algorithm), has_aux=True
            )
            (loss, metrics), grads = grad_fn(params, batch)
            stop = self.stop_early(metrics)
            updates, new_opt_state = optimizer.update(grads, opt_state, params)
            new_params = optax.apply_updates(params, updates)
            if self.check_numerics:  # the loss terms first, then their sum
                new_params = require_finite(
                    type(self).__name__,
                    {**{k: metrics[k] for k in sorted(metrics)}, "loss": loss},
                    new_params,
                )
            # a minibatch after the stop is evaluated but not logged: as
            # Stable-Baselines3, which breaks out of its loop, the metrics
            # average the minibatches up to the one that stopped the updates
            logged = ~stopped
            if stop is False:  # statically never: no per-update select
                params, opt_state = new_params, new_opt_state
            else:
                stopped = stopped | stop
                params, opt_state = jax.tree.map(
                    lambda old, new: jnp.where(stopped, old, new),
                    (params, opt_state),
                    (new_params, new_opt_state),
                )
            metrics = dict(metrics, loss=loss)
            skipped = stopped.astype(jnp.float32)
            return (params, opt_state, stopped), (metrics, logged, skipped)

        def epoch(carry, key):
            if recurrent:
                batches = buffer.sequences(self.num_batches, key=key)
            else:
                batches = buffer.transitions(self.num_batches, key=key)
            return jax.lax.scan(minibatch, carry, batches)

        (params, opt_state, _), (metrics, logged, skipped) = jax.lax.scan(
            epoch, (params, opt_state, jnp.array(False)), jr.split(key, self.num_epochs)
        )
        # the first minibatch is always logged, so the weights never sum to 0
        weights = logged.astype(jnp.float32)
        metrics = jax.tree.map(
            lambda x: jnp.sum(jnp.where(logged, x, 0.0)) / jnp.sum(weights), metrics
        )
        metrics["updates_skipped"] = jnp.mean(skipped)
        return eqx.combine(params, static), opt_state, metrics


def _check_spaces(owner: str, env: AbstractEnvLike, policy: Any) -> None:
    check_env(owner, env)
    if policy.action_space != env.action_space:
        raise TypeError(
            f"The policy's action space {policy.action_space!r} does not match the "
            f"env's {env.action_space!r}; build the policy from this env."
        )
    if policy.observation_space != env.observation_space:
        raise TypeError(
            f"The policy's observation space {policy.observation_space!r} does not "
            f"match the env's {env.observation_space!r}; build the policy from this env."
        )


def _episode_metrics(transitions: Transition) -> dict[str, Array]:
    done = transitions.done
    count = jnp.sum(done)
    safe = jnp.maximum(count, 1)
    return {
        "episodes": count,
        "episode_return": jnp.where(
            count > 0,
            jnp.sum(jnp.where(done, transitions.episode_return, 0.0)) / safe,
            jnp.nan,
        ),
        "episode_length": jnp.where(
            count > 0,
            jnp.sum(jnp.where(done, transitions.episode_length, 0)) / safe,
            jnp.nan,
        ),
    }


def _injected(opt_state: Any) -> Any:
    """The `inject_hyperparams` state inside `opt_state` (which
    `AbstractOnPolicyAlgorithm.optimizer` always builds), or None."""
    for state in jax.tree.leaves(
        opt_state, is_leaf=lambda s: hasattr(s, "hyperparams")
    ):
        if hasattr(state, "hyperparams"):
            return state
    return None


def _update_count(opt_state: Any) -> Int[Array, ""]:
    """The optimiser updates done (the count `inject_hyperparams` keeps)."""
    state = _injected(opt_state)
    if state is None:  # unreachable for states made by `optimizer`
        raise ValueError(
            "The optimiser state has no `inject_hyperparams` count; build it "
            "with `algorithm.optimizer().init(...)`."
        )
    return state.count


def _learning_rate(opt_state: Any) -> Array:
    state = _injected(opt_state)
    if state is None:
        return jnp.asarray(jnp.nan, jnp.float32)
    return jnp.asarray(state.hyperparams["learning_rate"], jnp.float32)
