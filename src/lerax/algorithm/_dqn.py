"""Deep Q-learning (Mnih et al. 2015), optionally Double DQN (van Hasselt et al. 2016)."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Int, Key

from ..env import AbstractEnvLike
from ..policy import AbstractQPolicy
from ..space import Discrete
from ._off_policy import AbstractOffPolicyAlgorithm, batch_map, rate_of_last_update


@final
class DQNLearner(eqx.Module):
    """What DQN trains.

    Attributes:
        policy: The Q-policy (online network).
        target_policy: The target network (a copy of the online network,
            renewed every `target_update_interval` env steps).
        opt_state: The optimiser state.
    """

    policy: AbstractQPolicy
    target_policy: AbstractQPolicy
    opt_state: Any


@final
class DQN(AbstractOffPolicyAlgorithm):
    """DQN as in Stable-Baselines3: epsilon-greedy exploration with uniformly
    random actions and a linear schedule from `exploration_initial_eps` to
    `exploration_final_eps` over `exploration_fraction` of the budget, Huber
    loss, Adam, gradient clipping at 10, a hard target copy every
    `target_update_interval` env steps (SB3's count: every
    `max(target_update_interval // num_envs, 1)` steps of the vectorised env,
    made once an iteration's steps are collected and before its gradient
    steps, as SB3 makes it during collection); `double_q` selects next actions with
    the online network and evaluates them with the target network. A
    stateful Q-policy is evaluated with the policy states stored in the
    replay buffer (the online and target networks alike).

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Env steps per env per iteration (SB3's `train_freq`).
        buffer_size: Replay capacity.
        learning_starts: Uniformly random steps before learning.
        batch_size: Transitions per gradient step.
        gradient_steps: Gradient steps per iteration (None: one per env step).
        gamma: Discount factor.
        learning_rate: Adam learning rate.
        target_update_interval: Env steps between target copies (counted
            as SB3 counts them; see above).
        exploration_fraction: Fraction of the budget over which epsilon decays.
        exploration_initial_eps: Initial epsilon.
        exploration_final_eps: Final epsilon.
        max_grad_norm: Gradient-norm clip (None: off).
        double_q: Use Double DQN targets (off by default, as SB3; the
            earlier lerax always used them: pass `double_q=True` for its
            targets).
        check_numerics: Raise naming the quantity when a gradient step's
            loss or logged value is not finite.
    """

    num_envs: int = 1
    num_steps: int = 4
    buffer_size: int = 1_000_000
    learning_starts: int = 100
    batch_size: int = 32
    gradient_steps: int | None = 1
    gamma: float = 0.99
    learning_rate: float = 1e-4
    target_update_interval: int = 10_000
    exploration_fraction: float = 0.1
    exploration_initial_eps: float = 1.0
    exploration_final_eps: float = 0.05
    max_grad_norm: float | None = 10.0
    double_q: bool = False
    check_numerics: bool = False

    def _optimizer(self) -> optax.GradientTransformation:
        adam = optax.adam(self.learning_rate)
        if self.max_grad_norm is None:
            return adam
        return optax.chain(optax.clip_by_global_norm(self.max_grad_norm), adam)

    def init_learner(
        self, env: AbstractEnvLike, policy: Any, *, key: Key[Array, ""]
    ) -> DQNLearner:
        if not isinstance(policy, AbstractQPolicy):
            raise TypeError(
                f"`DQN` trains an `AbstractQPolicy` (e.g. `MLPQPolicy`), got {type(policy).__name__}."
            )
        if not isinstance(env.action_space, Discrete):
            raise TypeError(
                "`DQN` acts in envs with Discrete actions; this env's action "
                f"space is {env.action_space!r}. For Box (continuous) actions use "
                "`SAC`, `TD3` or `DDPG`."
            )
        params = eqx.filter(policy, eqx.is_inexact_array)
        return DQNLearner(policy, policy, self._optimizer().init(params))

    @property
    def needs_budget(self) -> bool:
        """True when epsilon may decay (over a fraction of the budget);
        swept (traced) exploration settings count as decaying."""
        settings = (
            self.exploration_fraction,
            self.exploration_initial_eps,
            self.exploration_final_eps,
        )
        if any(isinstance(value, jax.core.Tracer) for value in settings):
            return True
        fraction, initial, final = (np.asarray(value) for value in settings)
        return bool(np.any(fraction != 0) and np.any(initial != final))

    def epsilon(self, step: Array, total: Array) -> Array:
        """The exploration rate after `step` env steps of a `total`-step run."""
        span = jnp.maximum(self.exploration_fraction * total, 1.0)
        progress = jnp.minimum(step / span, 1.0)
        return self.exploration_initial_eps + progress * (
            self.exploration_final_eps - self.exploration_initial_eps
        )

    def learning_rates(self, learner: DQNLearner):
        return {
            "learning_rate": rate_of_last_update(self.learning_rate, learner.opt_state)
        }

    def exploration_metrics(self, *, step, total):
        # the rate the greedy policy's actions are replaced at (as SB3's
        # `rollout/exploration_rate`; before `learning_starts` every action
        # is random regardless)
        return {"exploration_rate": self.epsilon(step, total)}

    def explore(
        self, learner: DQNLearner, policy_state, observation, mask, *, key, step, total
    ):
        policy_state, q = learner.policy.q_values(policy_state, observation)
        return policy_state, learner.policy.select(
            q, key=key, action_mask=mask, epsilon=self.epsilon(step, total)
        )

    def update(self, learner: DQNLearner, batch, *, key, step: Int[Array, ""]):
        policy, target = learner.policy, learner.target_policy
        start = policy.action_space.start
        next_q_target = batch_map(
            lambda s, o: target.q_values(s, o)[1], batch, next_step=True
        )
        next_masks = batch["next_action_masks"]
        if next_masks is not None:  # the max runs over allowed actions only
            next_q_target = jnp.where(next_masks, next_q_target, -jnp.inf)
        if self.double_q:
            next_q_online = batch_map(
                lambda s, o: policy.q_values(s, o)[1], batch, next_step=True
            )
            if next_masks is not None:
                next_q_online = jnp.where(next_masks, next_q_online, -jnp.inf)
            best = jnp.argmax(next_q_online, axis=-1)
            next_value = jnp.take_along_axis(next_q_target, best[:, None], axis=-1)[
                :, 0
            ]
        else:
            next_value = jnp.max(next_q_target, axis=-1)
        # a state with no allowed action (only after termination) adds
        # nothing; only its -inf is replaced: a NaN or +inf of a diverged
        # target network stays visible in the loss
        next_value = jnp.where(next_value == -jnp.inf, 0.0, next_value)
        y = (
            batch["rewards"]
            + self.gamma * (1.0 - batch["terminated"].astype(jnp.float32)) * next_value
        )
        y = jax.lax.stop_gradient(y)
        actions = batch["actions"] - start

        def loss_fn(policy):
            q = batch_map(lambda s, o: policy.q_values(s, o)[1], batch)
            chosen = jnp.take_along_axis(q, actions[:, None], axis=-1)[:, 0]
            return jnp.mean(optax.huber_loss(chosen, y, delta=1.0)), jnp.mean(chosen)

        (loss, mean_q), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(policy)
        updates, opt_state = self._optimizer().update(
            grads, learner.opt_state, eqx.filter(policy, eqx.is_inexact_array)
        )
        policy = eqx.apply_updates(policy, updates)
        return DQNLearner(policy, target, opt_state), {"loss": loss, "q_values": mean_q}

    def after_collection(self, learner: DQNLearner, *, step, done_steps):
        # SB3 copies during collection, on every `max(target_update_interval
        # // num_envs, 1)`-th vectorised step: the online network as it was
        # before this iteration's gradient steps
        period = jnp.maximum(self.target_update_interval // self.num_envs, 1)
        before, after = step // self.num_envs, done_steps // self.num_envs
        crossed = (after // period) > (before // period)
        target = jax.tree.map(
            lambda online, old: (
                jnp.where(crossed, online, old) if eqx.is_array(online) else online
            ),
            learner.policy,
            learner.target_policy,
        )
        return DQNLearner(learner.policy, target, learner.opt_state)
