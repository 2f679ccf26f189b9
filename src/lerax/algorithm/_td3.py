"""Deterministic actor-critics: DDPG (Lillicrap et al. 2016) and TD3
(Fujimoto et al. 2018), one update rule with three switches. A stateful actor
(and its target copy) is evaluated with the policy states stored in the
replay buffer; the critics are stateless."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Key

from ..env import AbstractEnvLike
from ..policy import AbstractDeterministicPolicy
from ..space import Box
from ..target import polyak_average
from ..utils import filter_cond
from ._critics import QNetwork, twin_q, twin_values
from ._off_policy import AbstractOffPolicyAlgorithm, batch_map, rate_of_last_update


@final
class DeterministicLearner(eqx.Module):
    """What DDPG and TD3 train.

    Attributes:
        policy: The actor.
        target_policy: Its Polyak-averaged copy.
        critics: One (DDPG) or two (TD3) stacked Q-networks.
        target_critics: Their Polyak-averaged copies.
        policy_opt_state: Actor optimiser state.
        critic_opt_state: Critic optimiser state.
    """

    policy: AbstractDeterministicPolicy
    target_policy: AbstractDeterministicPolicy
    critics: QNetwork
    target_critics: QNetwork
    policy_opt_state: Any
    critic_opt_state: Any


def _init(
    algo, env: AbstractEnvLike, policy: Any, key, count: int
) -> DeterministicLearner:
    if not isinstance(policy, AbstractDeterministicPolicy):
        raise TypeError(
            f"`{type(algo).__name__}` trains an `AbstractDeterministicPolicy` (e.g. "
            f"`MLPDeterministicPolicy`), got {type(policy).__name__}."
        )
    if not isinstance(env.action_space, Box):
        raise TypeError(
            f"`{type(algo).__name__}` acts in envs with Box (continuous) actions; "
            f"this env's action space is {env.action_space!r}. For Discrete "
            "actions use `DQN` or `SACDiscrete`."
        )
    critics = twin_q(
        env.observation_space,
        env.action_space,
        width_size=algo.q_width_size,
        depth=algo.q_depth,
        key=key,
        count=count,
    )
    return DeterministicLearner(
        policy=policy,
        target_policy=policy,
        critics=critics,
        target_critics=critics,
        policy_opt_state=optax.adam(algo.actor_lr).init(
            eqx.filter(policy, eqx.is_inexact_array)
        ),
        critic_opt_state=optax.adam(algo.q_lr).init(
            eqx.filter(critics, eqx.is_inexact_array)
        ),
    )


def _update(
    algo,
    learner: DeterministicLearner,
    batch,
    key,
    step,
    *,
    smoothing: bool,
    delay: int,
):
    space = learner.policy.action_space
    # leading batch axis made explicit (no implicit rank promotion)
    low = np.asarray(space.low, np.float32)[None]
    high = np.asarray(space.high, np.float32)[None]
    # halved before subtracting: (high - low) / 2 overflows for bounds near
    # the float32 limit (+-3e38), which put every smoothed action on a bound
    scale = high / 2 - low / 2
    next_actions = batch_map(
        lambda s, o: learner.target_policy(s, o)[1],
        batch,
        next_step=True,
    )
    if smoothing:
        noise = jr.normal(key, next_actions.shape) * algo.policy_noise * scale
        noise = jnp.clip(noise, -algo.noise_clip * scale, algo.noise_clip * scale)
        next_actions = jnp.clip(next_actions + noise, low, high)
    target_q = jax.vmap(lambda o, a: twin_values(learner.target_critics, o, a))(
        batch["next_observations"], next_actions
    )
    not_done = 1.0 - batch["terminated"].astype(jnp.float32)
    y = jax.lax.stop_gradient(
        batch["rewards"] + algo.gamma * not_done * jnp.min(target_q, -1)
    )

    def critic_loss(critics):
        q = jax.vmap(lambda o, a: twin_values(critics, o, a))(
            batch["observations"], batch["actions"]
        )
        return jnp.sum(jnp.mean(jnp.square(q - y[:, None]), axis=0))

    q_loss, grads = eqx.filter_value_and_grad(critic_loss)(learner.critics)
    critic_opt = optax.adam(algo.q_lr)
    updates, critic_opt_state = critic_opt.update(
        grads,
        learner.critic_opt_state,
        eqx.filter(learner.critics, eqx.is_inexact_array),
    )
    critics = eqx.apply_updates(learner.critics, updates)

    def actor_loss(policy):
        actions = batch_map(lambda s, o: policy(s, o)[1], batch)
        q = jax.vmap(lambda o, a: twin_values(critics, o, a)[0])(
            batch["observations"], actions
        )
        return -jnp.mean(q)

    def actor_step(args):
        policy, opt_state, target_policy, target_critics = args
        pi_loss, grads = eqx.filter_value_and_grad(actor_loss)(policy)
        updates, opt_state = optax.adam(algo.actor_lr).update(
            grads, opt_state, eqx.filter(policy, eqx.is_inexact_array)
        )
        policy = eqx.apply_updates(policy, updates)
        # targets move only with the actor (TD3's delayed target updates)
        moved = (
            policy,
            opt_state,
            polyak_average(policy, target_policy, algo.tau),
            polyak_average(critics, target_critics, algo.tau),
        )
        return moved, pi_loss

    def actor_hold(args):
        # a delayed step: nothing changes; the loss is still reported
        return args, actor_loss(args[0])

    args = (
        learner.policy,
        learner.policy_opt_state,
        learner.target_policy,
        learner.target_critics,
    )
    if delay == 1:
        args, pi_loss = actor_step(args)
    else:
        args, pi_loss = filter_cond(
            (step + 1) % delay == 0, actor_step, actor_hold, args
        )
    policy, policy_opt_state, target_policy, target_critics = args
    learner = DeterministicLearner(
        policy,
        target_policy,
        critics,
        target_critics,
        policy_opt_state,
        critic_opt_state,
    )
    return learner, {"q_loss": q_loss, "policy_loss": pi_loss}


def deterministic_learning_rates(algo: Any, learner: DeterministicLearner):
    """The actor's and critics' learning rates at their last updates;
    shared by TD3 and DDPG."""
    return {
        "actor_learning_rate": rate_of_last_update(
            algo.actor_lr, learner.policy_opt_state
        ),
        "q_learning_rate": rate_of_last_update(algo.q_lr, learner.critic_opt_state),
    }


@final
class TD3(AbstractOffPolicyAlgorithm):
    """TD3: twin critics with the minimum in the target, target policy
    smoothing, and the actor and all targets updated every
    `policy_frequency` gradient steps. Defaults are Stable-Baselines3's
    (Adam 1e-3, batch 256, tau 0.005, noise 0.2 clipped at 0.5, delay 2)
    except `learning_starts` (256, at least the batch size, so the first
    batch draws from as many transitions as it holds), the critics (two
    256-unit ReLU layers, where SB3's TD3 uses 400 and 300 units) and
    `gradient_steps` (None: one per env step, so `num_envs` per vectorised
    step, where SB3's default is one per vectorised step; the same with one
    env).
    Exploration comes from the policy: `policy(state, observation, key=key)`
    (for `MLPDeterministicPolicy`, Gaussian noise of `exploration_noise`).

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Env steps per env per iteration.
        buffer_size: Replay capacity.
        learning_starts: Uniformly random steps before learning.
        batch_size: Transitions per gradient step.
        gradient_steps: Gradient steps per iteration (None: one per env step).
        gamma: Discount factor.
        tau: Polyak rate of the targets.
        policy_frequency: Gradient steps per actor (and target) update: the
            actor moves on the `policy_frequency`-th step since learning
            started, then every `policy_frequency` steps (SB3's counting).
        policy_noise: Target smoothing noise, as a fraction of half the range.
        noise_clip: Clip of the smoothing noise (same units).
        actor_lr: Actor learning rate.
        q_lr: Critic learning rate.
        q_width_size: Critic hidden width.
        q_depth: Critic hidden layers.
        check_numerics: Raise naming the quantity when a gradient step's
            loss or logged value is not finite.
    """

    num_envs: int = 1
    num_steps: int = 1
    buffer_size: int = 1_000_000
    learning_starts: int = 256
    batch_size: int = 256
    gradient_steps: int | None = None
    gamma: float = 0.99
    tau: float = 0.005
    policy_frequency: int = 2
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    actor_lr: float = 1e-3
    q_lr: float = 1e-3
    q_width_size: int = 256
    q_depth: int = 2
    check_numerics: bool = False

    @property
    def needs_budget(self) -> bool:
        """False: no setting depends on the planned budget."""
        return False

    def init_learner(self, env, policy, *, key: Key[Array, ""]):
        return _init(self, env, policy, key, 2)

    def learning_rates(self, learner: DeterministicLearner):
        return deterministic_learning_rates(self, learner)

    def exploration_metrics(self, *, step, total):
        return {}

    def explore(self, learner, policy_state, observation, mask, *, key, step, total):
        return learner.policy(policy_state, observation, key=key)

    def update(self, learner, batch, *, key, step):
        return _update(
            self, learner, batch, key, step, smoothing=True, delay=self.policy_frequency
        )

    def after_collection(self, learner, *, step, done_steps):
        return learner


@final
class DDPG(AbstractOffPolicyAlgorithm):
    """DDPG: one critic, actor and Polyak targets updated every gradient step,
    no target smoothing. Defaults as Stable-Baselines3's (Adam 1e-3, batch
    256, tau 0.005) except `learning_starts` (256), the critic (two 256-unit
    ReLU layers; SB3's: 400 and 300 units) and `gradient_steps` (None: one
    per env step; SB3's default is one per vectorised step, the same with
    one env).

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Env steps per env per iteration.
        buffer_size: Replay capacity.
        learning_starts: Uniformly random steps before learning.
        batch_size: Transitions per gradient step.
        gradient_steps: Gradient steps per iteration (None: one per env step).
        gamma: Discount factor.
        tau: Polyak rate of the targets.
        actor_lr: Actor learning rate.
        q_lr: Critic learning rate.
        q_width_size: Critic hidden width.
        q_depth: Critic hidden layers.
        check_numerics: Raise naming the quantity when a gradient step's
            loss or logged value is not finite.
    """

    num_envs: int = 1
    num_steps: int = 1
    buffer_size: int = 1_000_000
    learning_starts: int = 256
    batch_size: int = 256
    gradient_steps: int | None = None
    gamma: float = 0.99
    tau: float = 0.005
    actor_lr: float = 1e-3
    q_lr: float = 1e-3
    q_width_size: int = 256
    q_depth: int = 2
    check_numerics: bool = False

    @property
    def needs_budget(self) -> bool:
        """False: no setting depends on the planned budget."""
        return False

    def init_learner(self, env, policy, *, key: Key[Array, ""]):
        return _init(self, env, policy, key, 1)

    def learning_rates(self, learner: DeterministicLearner):
        return deterministic_learning_rates(self, learner)

    def exploration_metrics(self, *, step, total):
        return {}

    def explore(self, learner, policy_state, observation, mask, *, key, step, total):
        return learner.policy(policy_state, observation, key=key)

    def update(self, learner, batch, *, key, step):
        return _update(self, learner, batch, key, step, smoothing=False, delay=1)

    def after_collection(self, learner, *, step, done_steps):
        return learner
