"""Soft actor-critic (Haarnoja et al. 2018) with automatic entropy tuning."""

from typing import Any, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, Int, Key

from ..env import AbstractEnvLike
from ..policy import AbstractSACPolicy
from ..space import Box
from ..target import polyak_average
from ..utils import filter_cond
from ._critics import QNetwork, twin_q, twin_values
from ._off_policy import AbstractOffPolicyAlgorithm, batch_map, rate_of_last_update


def sac_optimizers(algo: Any):
    """Adam for the actor, the critics and the entropy coefficient
    (`alpha_lr` defaults to `q_lr`); shared by SAC and SAC-Discrete."""
    alpha_lr = algo.alpha_lr if algo.alpha_lr is not None else algo.q_lr
    return optax.adam(algo.policy_lr), optax.adam(algo.q_lr), optax.adam(alpha_lr)


def sac_learning_rates(algo: Any, learner: Any) -> dict[str, Array]:
    """The actor's, critics' and (when tuned) alpha's learning rates at
    their last updates; shared by SAC and SAC-Discrete."""
    rates = {
        "policy_learning_rate": rate_of_last_update(
            algo.policy_lr, learner.policy_opt_state
        ),
        "q_learning_rate": rate_of_last_update(algo.q_lr, learner.critic_opt_state),
    }
    if algo.autotune:
        alpha_lr = algo.alpha_lr if algo.alpha_lr is not None else algo.q_lr
        rates["alpha_learning_rate"] = rate_of_last_update(
            alpha_lr, learner.alpha_opt_state
        )
    return rates


def tune_alpha(
    log_alpha: Float[Array, ""],
    opt_state: Any,
    entropy: Float[Array, " B"],
    target_entropy: Float[Array, ""] | Float[Array, " B"],
    optimizer: optax.GradientTransformation,
) -> tuple[Float[Array, ""], Any]:
    """One step on `log_alpha * (entropy - target)` (averaged over the
    batch; one target, or one per state): alpha grows while the policy's
    entropy is below the target and shrinks above it."""
    gap = jax.lax.stop_gradient(entropy - target_entropy)
    grad = jax.grad(lambda la: jnp.mean(la * gap))(log_alpha)
    update, opt_state = optimizer.update(grad, opt_state, log_alpha)
    return optax.apply_updates(log_alpha, update), opt_state


@final
class SACLearner(eqx.Module):
    """What SAC trains: the policy, twin critics and their targets, the
    entropy coefficient, and the optimiser states.

    Attributes:
        policy: The squashed-Gaussian policy.
        critics: Two Q-networks (stacked).
        target_critics: Polyak-averaged copies of `critics`.
        log_alpha: Log of the entropy coefficient.
        target_entropy: Entropy target (-|A| by default).
        policy_opt_state: Actor optimiser state.
        critic_opt_state: Critic optimiser state.
        alpha_opt_state: Entropy-coefficient optimiser state.
    """

    policy: AbstractSACPolicy
    critics: QNetwork
    target_critics: QNetwork
    log_alpha: Float[Array, ""]
    target_entropy: Float[Array, ""]
    policy_opt_state: Any
    critic_opt_state: Any
    alpha_opt_state: Any


def _auto_is_none(value: Any) -> Any:
    """`target_entropy="auto"` (Stable-Baselines3's spelling) is the default."""
    return None if isinstance(value, str) and value == "auto" else value


@final
class SAC(AbstractOffPolicyAlgorithm):
    """SAC with twin critics, Polyak-averaged targets and automatic entropy
    tuning towards `-|A|`.

    Defaults are Stable-Baselines3's (except `learning_starts`, 256 rather
    than 100, so the first batch draws from as many transitions as it
    holds; batches are drawn with replacement): one env, one
    gradient step per env step, buffer 1M, batch 256, tau 0.005, Adam 3e-4 for
    all three optimisers, entropy coefficient starting at 1.0, critics of
    two 256-unit ReLU layers. A stateful policy is evaluated with the policy
    states stored in the replay buffer; the critics are stateless.

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Env steps per env per iteration.
        buffer_size: Replay capacity.
        learning_starts: Uniformly random steps before learning.
        batch_size: Transitions per gradient step.
        gradient_steps: Gradient steps per iteration (None: one per env step).
        gamma: Discount factor.
        tau: Polyak rate of the target critics.
        policy_lr: Actor learning rate.
        q_lr: Critic learning rate.
        alpha_lr: Entropy-coefficient learning rate (None: `q_lr`).
        autotune: Learn the entropy coefficient.
        initial_alpha: Initial (or fixed) entropy coefficient.
        target_entropy: The policy entropy that automatic tuning steers
            towards (None: `-|A|`, the action dimension negated, as
            Stable-Baselines3's "auto", which is accepted too and stored as
            None). Higher keeps exploring longer. Measured, as in SB3, on
            actions rescaled to [-1, 1] (the policy's log-probabilities are
            densities in env units, which differ by the log of the box's
            half-widths), so a target means the same whatever the action
            bounds; the logged `entropy` is in the same units.
        q_width_size: Critic hidden width.
        q_depth: Critic hidden layers.
        policy_frequency: The actor and the entropy coefficient are updated
            on every `policy_frequency`-th gradient step since learning
            started (the critics on every one), as TD3 delays its actor. The earlier package's
            default of 2 halved the actor's updates without saying so; ours
            is 1, as in Stable-Baselines3.
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
    policy_lr: float = 3e-4
    q_lr: float = 3e-4
    alpha_lr: float | None = None
    autotune: bool = True
    initial_alpha: float = 1.0
    target_entropy: float | Literal["auto"] | None = eqx.field(
        default=None, converter=_auto_is_none
    )
    q_width_size: int = 256
    q_depth: int = 2
    policy_frequency: int = 1
    check_numerics: bool = False

    @property
    def needs_budget(self) -> bool:
        """False: no setting depends on the planned budget."""
        return False

    def init_learner(
        self, env: AbstractEnvLike, policy: Any, *, key: Key[Array, ""]
    ) -> SACLearner:
        if not isinstance(policy, AbstractSACPolicy) or not isinstance(
            env.action_space, Box
        ):
            raise TypeError(
                "`SAC` trains an `AbstractSACPolicy` with Box actions (e.g. "
                f"`MLPSACPolicy`) on a Box-action env; got {type(policy).__name__} and "
                f"{env.action_space!r}. For Discrete actions use `SACDiscrete` or `DQN`."
            )
        critics = twin_q(
            env.observation_space,
            env.action_space,
            width_size=self.q_width_size,
            depth=self.q_depth,
            key=key,
        )
        policy_opt, critic_opt, alpha_opt = sac_optimizers(self)
        log_alpha = jnp.log(jnp.asarray(self.initial_alpha, jnp.float32))
        return SACLearner(
            policy=policy,
            critics=critics,
            target_critics=critics,
            log_alpha=log_alpha,
            target_entropy=jnp.asarray(
                -float(env.action_space.flat_size)
                if self.target_entropy is None
                else self.target_entropy,
                jnp.float32,
            ),
            policy_opt_state=policy_opt.init(eqx.filter(policy, eqx.is_inexact_array)),
            critic_opt_state=critic_opt.init(eqx.filter(critics, eqx.is_inexact_array)),
            alpha_opt_state=alpha_opt.init(log_alpha),
        )

    def learning_rates(self, learner: SACLearner):
        return sac_learning_rates(self, learner)

    def exploration_metrics(self, *, step, total):
        return {}

    def explore(
        self, learner: SACLearner, policy_state, observation, mask, *, key, step, total
    ):
        return learner.policy(policy_state, observation, key=key)

    def update(self, learner: SACLearner, batch, *, key, step: Int[Array, ""]):
        policy_opt, critic_opt, alpha_opt = sac_optimizers(self)
        # log-densities in env units plus this are those of the actions
        # rescaled to [-1, 1]: SB3's units, those of `target_entropy`. Every
        # term alpha multiplies (the critic target, the actor loss, alpha's
        # own step) uses them, so the entropy bonus does not depend on the
        # action bounds (in env units it adds a constant per non-terminal
        # step, which on an env with early termination rewards or penalises
        # staying alive)
        log_scale = _log_half_widths(learner.policy.action_space)
        next_key, actor_key = jr.split(key)
        size = self.batch_size
        alpha = jnp.exp(learner.log_alpha)
        policy = learner.policy

        def sample(policy, keys, next_step=False):
            act = lambda s, o, k: policy.action_and_log_prob(s, o, key=k)[1:]  # noqa: E731
            return batch_map(act, batch, keys, next_step=next_step)

        next_actions, next_log_probs = sample(
            policy, jr.split(next_key, size), next_step=True
        )
        target_q = jax.vmap(lambda o, a: twin_values(learner.target_critics, o, a))(
            batch["next_observations"], next_actions
        )
        target = batch["rewards"] + self.gamma * (
            1.0 - batch["terminated"].astype(jnp.float32)
        ) * (jnp.min(target_q, axis=-1) - alpha * (next_log_probs + log_scale))
        target = jax.lax.stop_gradient(target)

        def critic_loss(critics):
            q = jax.vmap(lambda o, a: twin_values(critics, o, a))(
                batch["observations"], batch["actions"]
            )
            return 0.5 * jnp.sum(jnp.mean(jnp.square(q - target[:, None]), axis=0))

        critic_params = eqx.filter(learner.critics, eqx.is_inexact_array)
        q_loss, grads = eqx.filter_value_and_grad(critic_loss)(learner.critics)
        updates, critic_opt_state = critic_opt.update(
            grads, learner.critic_opt_state, critic_params
        )
        critics = eqx.apply_updates(learner.critics, updates)

        actor_keys = jr.split(actor_key, size)

        def actor_loss(policy):
            actions, log_probs = sample(policy, actor_keys)
            q = jax.vmap(lambda o, a: twin_values(critics, o, a))(
                batch["observations"], actions
            )
            unit_log_probs = log_probs + log_scale
            return jnp.mean(alpha * unit_log_probs - jnp.min(q, axis=-1)), log_probs

        def actor_update(args):
            policy, policy_opt_state, log_alpha, alpha_opt_state = args
            (pi_loss, log_probs), grads = eqx.filter_value_and_grad(
                actor_loss, has_aux=True
            )(policy)
            policy_params = eqx.filter(policy, eqx.is_inexact_array)
            updates, policy_opt_state = policy_opt.update(
                grads, policy_opt_state, policy_params
            )
            policy = eqx.apply_updates(policy, updates)
            if self.autotune:
                log_alpha, alpha_opt_state = tune_alpha(
                    log_alpha,
                    alpha_opt_state,
                    -log_probs - log_scale,
                    learner.target_entropy,
                    alpha_opt,
                )
            return (policy, policy_opt_state, log_alpha, alpha_opt_state), (
                pi_loss,
                log_probs,
            )

        def actor_hold(args):
            # a delayed step: nothing changes; the loss is still reported
            return args, actor_loss(args[0])

        args = (
            policy,
            learner.policy_opt_state,
            learner.log_alpha,
            learner.alpha_opt_state,
        )
        if self.policy_frequency == 1:
            args, (pi_loss, log_probs) = actor_update(args)
        else:
            args, (pi_loss, log_probs) = filter_cond(
                (step + 1) % self.policy_frequency == 0, actor_update, actor_hold, args
            )
        policy, policy_opt_state, log_alpha, alpha_opt_state = args

        learner = SACLearner(
            policy=policy,
            critics=critics,
            target_critics=polyak_average(critics, learner.target_critics, self.tau),
            log_alpha=log_alpha,
            target_entropy=learner.target_entropy,
            policy_opt_state=policy_opt_state,
            critic_opt_state=critic_opt_state,
            alpha_opt_state=alpha_opt_state,
        )
        metrics = {
            "q_loss": q_loss,
            "policy_loss": pi_loss,
            "alpha": alpha,
            "entropy": -jnp.mean(log_probs) - log_scale,
        }
        return learner, metrics

    def after_collection(self, learner, *, step, done_steps):
        return learner


def _log_half_widths(space: Box) -> float:
    """The sum over action dimensions of log((high - low) / 2): the log-density
    of an action in env units is that of the action rescaled to [-1, 1]
    minus this."""
    low = np.asarray(space.low, np.float64)
    high = np.asarray(space.high, np.float64)
    half = np.broadcast_to((high - low) / 2, space.shape)
    return float(np.sum(np.log(half)))
