"""SAC for discrete actions (Christodoulou 2019): expectations over the
categorical policy instead of reparameterised samples."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Key

from ..env import AbstractEnvLike
from ..policy import AbstractDiscreteSACPolicy
from ..policy._networks import mlp
from ..space import AbstractSpace, Discrete
from ..target import polyak_average
from ._off_policy import AbstractOffPolicyAlgorithm, batch_map
from ._sac import sac_learning_rates, sac_optimizers, tune_alpha


@final
class DiscreteQNetwork(eqx.Module):
    """`Q(s, .)`: one value per action from the flattened observation.

    Attributes:
        observation_space: The observation space.
        network: The MLP.
    """

    observation_space: AbstractSpace
    network: eqx.nn.MLP

    def __init__(
        self,
        observation_space: AbstractSpace,
        num_actions: int,
        *,
        width_size: int,
        depth: int,
        key: Key[Array, ""],
    ):
        self.observation_space = observation_space
        self.network = mlp(
            observation_space.flat_size,
            num_actions,
            width_size,
            depth,
            jax.nn.relu,
            out_gain=1.0,
            key=key,
        )

    def __call__(self, observation: Any) -> Float[Array, " n"]:
        return self.network(self.observation_space.flatten_sample(observation))


@final
class SACDiscreteLearner(eqx.Module):
    """What SAC-Discrete trains (see `SACLearner`); `target_entropy` is
    that of a state with every action allowed."""

    policy: AbstractDiscreteSACPolicy
    critics: DiscreteQNetwork
    target_critics: DiscreteQNetwork
    log_alpha: Float[Array, ""]
    target_entropy: Float[Array, ""]
    policy_opt_state: Any
    critic_opt_state: Any
    alpha_opt_state: Any


def _expect(probs, values):
    """`sum(probs * values)` with masked (probability 0, value -inf) terms
    dropped. The values are zeroed before the product, not the product
    after it: `where(p > 0, p * v, 0)` is right forwards, but its gradient
    with respect to `p` is `v = -inf` times a zero cotangent, NaN, which
    would reach every logit of a policy with masked actions."""
    return jnp.sum(probs * jnp.where(probs > 0, values, 0.0), axis=-1)


def _masked_targets(learner: SACDiscreteLearner, masks: Any) -> Any:
    """The entropy target of each state: `learner.target_entropy` (a scale
    times `log(n)`) with `n` replaced by the number of allowed actions. A
    state that allows `k < n` actions has at most `log(k)` entropy; against
    the full target, alpha would grow without bound on such states."""
    n = learner.policy.action_space.n
    if masks is None or n < 2:
        return learner.target_entropy
    allowed = jnp.maximum(jnp.sum(masks, axis=-1), 1).astype(jnp.float32)
    return learner.target_entropy * jnp.log(allowed) / jnp.log(float(n))


@final
class SACDiscrete(AbstractOffPolicyAlgorithm):
    """SAC-Discrete: twin critics over all actions, soft state values as
    expectations under the policy, automatic entropy tuning towards
    `target_entropy_scale * log(n)` (with action masks, `n` is the number
    of actions a state allows), Polyak-averaged target critics (a real
    target network: `tau` well below 1). A stateful policy is evaluated with
    the policy states stored in the replay buffer; the critics are stateless.

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Env steps per env per iteration.
        buffer_size: Replay capacity.
        learning_starts: Uniformly random steps before learning (default
            1000; the earlier lerax's 20 000 spent most short runs on random
            play).
        batch_size: Transitions per gradient step.
        gradient_steps: Gradient steps per iteration (None: one per env step).
        gamma: Discount factor.
        tau: Polyak rate of the target critics (the earlier lerax's 1.0,
            applied every iteration, left no real target network).
        policy_lr: Actor learning rate.
        q_lr: Critic learning rate.
        alpha_lr: Entropy-coefficient learning rate (None: `q_lr`).
        autotune: Learn the entropy coefficient.
        initial_alpha: Initial (or fixed) entropy coefficient.
        target_entropy_scale: Target entropy as a fraction of `log(n)`, the
            entropy of a uniform choice among the `n` actions (among the
            allowed ones, with action masks).
        q_width_size: Critic hidden width.
        q_depth: Critic hidden layers.
        check_numerics: Raise naming the quantity when a gradient step's
            loss or logged value is not finite.
    """

    num_envs: int = 1
    num_steps: int = 4
    buffer_size: int = 1_000_000
    learning_starts: int = 1000
    batch_size: int = 64
    gradient_steps: int | None = 1
    gamma: float = 0.99
    tau: float = 0.005
    policy_lr: float = 3e-4
    q_lr: float = 3e-4
    alpha_lr: float | None = None
    autotune: bool = True
    initial_alpha: float = 0.2
    target_entropy_scale: float = 0.89
    q_width_size: int = 256
    q_depth: int = 2
    check_numerics: bool = False

    @property
    def needs_budget(self) -> bool:
        """False: no setting depends on the planned budget."""
        return False

    def init_learner(
        self, env: AbstractEnvLike, policy: Any, *, key: Key[Array, ""]
    ) -> SACDiscreteLearner:
        if not isinstance(policy, AbstractDiscreteSACPolicy) or not isinstance(
            env.action_space, Discrete
        ):
            raise TypeError(
                "`SACDiscrete` trains an `AbstractDiscreteSACPolicy` (e.g. "
                "`MLPDiscreteSACPolicy`) on a Discrete-action env; got "
                f"{type(policy).__name__} and {env.action_space!r}."
            )
        n = env.action_space.n
        build = lambda k: DiscreteQNetwork(
            env.observation_space,
            n,
            width_size=self.q_width_size,
            depth=self.q_depth,
            key=k,
        )  # noqa: E731
        critics = eqx.filter_vmap(build)(jr.split(key, 2))
        policy_opt, critic_opt, alpha_opt = sac_optimizers(self)
        log_alpha = jnp.log(jnp.asarray(self.initial_alpha, jnp.float32))
        return SACDiscreteLearner(
            policy=policy,
            critics=critics,
            target_critics=critics,
            log_alpha=log_alpha,
            target_entropy=jnp.asarray(
                self.target_entropy_scale * jnp.log(n), jnp.float32
            ),
            policy_opt_state=policy_opt.init(eqx.filter(policy, eqx.is_inexact_array)),
            critic_opt_state=critic_opt.init(eqx.filter(critics, eqx.is_inexact_array)),
            alpha_opt_state=alpha_opt.init(log_alpha),
        )

    def learning_rates(self, learner):
        return sac_learning_rates(self, learner)

    def exploration_metrics(self, *, step, total):
        return {}

    def explore(self, learner, policy_state, observation, mask, *, key, step, total):
        return learner.policy(policy_state, observation, key=key, action_mask=mask)

    def update(self, learner: SACDiscreteLearner, batch, *, key, step):
        policy_opt, critic_opt, alpha_opt = sac_optimizers(self)
        alpha = jnp.exp(learner.log_alpha)
        start = learner.policy.action_space.start

        def distribution(policy, masks, next_step=False):
            def probs(state, observation, mask):
                return policy.action_probs_and_log_probs(
                    state, observation, action_mask=mask
                )[1:]

            return batch_map(probs, batch, masks, next_step=next_step)

        def values(critics, observations):
            return jax.vmap(lambda o: eqx.filter_vmap(lambda c: c(o))(critics))(
                observations
            )  # [B, 2, n]

        next_probs, next_log_probs = distribution(
            learner.policy, batch["next_action_masks"], next_step=True
        )
        next_q = jnp.min(
            values(learner.target_critics, batch["next_observations"]), axis=1
        )
        next_v = _expect(next_probs, next_q - alpha * next_log_probs)
        not_done = 1.0 - batch["terminated"].astype(jnp.float32)
        y = jax.lax.stop_gradient(batch["rewards"] + self.gamma * not_done * next_v)
        actions = (batch["actions"] - start)[:, None, None]

        def critic_loss(critics):
            q = values(critics, batch["observations"])
            chosen = jnp.take_along_axis(
                q, jnp.broadcast_to(actions, q.shape[:2] + (1,)), axis=-1
            )[..., 0]
            return jnp.sum(jnp.mean(jnp.square(chosen - y[:, None]), axis=0))

        q_loss, grads = eqx.filter_value_and_grad(critic_loss)(learner.critics)
        updates, critic_opt_state = critic_opt.update(
            grads,
            learner.critic_opt_state,
            eqx.filter(learner.critics, eqx.is_inexact_array),
        )
        critics = eqx.apply_updates(learner.critics, updates)
        q_now = jax.lax.stop_gradient(
            jnp.min(values(critics, batch["observations"]), axis=1)
        )

        def actor_loss(policy):
            probs, log_probs = distribution(policy, batch["action_masks"])
            return jnp.mean(_expect(probs, alpha * log_probs - q_now)), (
                probs,
                log_probs,
            )

        (pi_loss, (probs, log_probs)), grads = eqx.filter_value_and_grad(
            actor_loss, has_aux=True
        )(learner.policy)
        updates, policy_opt_state = policy_opt.update(
            grads,
            learner.policy_opt_state,
            eqx.filter(learner.policy, eqx.is_inexact_array),
        )
        policy = eqx.apply_updates(learner.policy, updates)

        entropy = -_expect(probs, log_probs)
        log_alpha, alpha_opt_state = learner.log_alpha, learner.alpha_opt_state
        if self.autotune:
            log_alpha, alpha_opt_state = tune_alpha(
                log_alpha,
                alpha_opt_state,
                entropy,
                _masked_targets(learner, batch["action_masks"]),
                alpha_opt,
            )
        learner = SACDiscreteLearner(
            policy=policy,
            critics=critics,
            target_critics=polyak_average(critics, learner.target_critics, self.tau),
            log_alpha=log_alpha,
            target_entropy=learner.target_entropy,
            policy_opt_state=policy_opt_state,
            critic_opt_state=critic_opt_state,
            alpha_opt_state=alpha_opt_state,
        )
        return learner, {
            "q_loss": q_loss,
            "policy_loss": pi_loss,
            "alpha": alpha,
            "entropy": jnp.mean(entropy),
        }

    def after_collection(self, learner, *, step, done_steps):
        return learner
