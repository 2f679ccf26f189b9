"""Advantage actor-critic (Mnih et al. 2016), synchronous."""

from collections.abc import Callable
from typing import Any, final

import jax.numpy as jnp
import optax

from ..advantage import GAE
from ._on_policy import AbstractOnPolicyAlgorithm, check_one_update
from ._ppo import normalize


def actor_critic_loss(algorithm, batch, values, log_probs, entropies):
    """Policy-gradient loss with a learned baseline, shared by A2C and REINFORCE:
    `-mean(A * log pi) + c_v * mean((V - R)^2) - c_e * mean(H)`."""
    advantages = normalize(batch["advantages"], algorithm.normalize_advantages)
    policy_loss = -jnp.mean(advantages * log_probs)
    value_loss = jnp.mean(jnp.square(values - batch["returns"]))
    entropy_loss = -jnp.mean(entropies)
    loss = (
        policy_loss
        + algorithm.value_loss_coefficient * value_loss
        + algorithm.entropy_loss_coefficient * entropy_loss
    )
    metrics = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy_loss": entropy_loss,
    }
    return loss, metrics


@final
class A2C(AbstractOnPolicyAlgorithm):
    """A2C: one gradient step per short rollout.

    Defaults are Stable-Baselines3's: one env, 5 steps, GAE with lambda 1
    (n-step returns), value coefficient 0.5, no entropy bonus, RMSprop
    (decay 0.99, eps 1e-5 added outside the square root, as PyTorch) at
    7e-4, gradient clipping at 0.5, no advantage normalisation.

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Steps per env per rollout.
        gae_lambda: GAE's lambda.
        gamma: Discount factor.
        entropy_loss_coefficient: Weight of the entropy bonus.
        value_loss_coefficient: Weight of the value loss.
        max_grad_norm: Global gradient-norm clip (None: off).
        normalize_advantages: Standardise advantages.
        use_rms_prop: RMSprop (True) or Adam with eps 1e-5 (False; SB3's
            Adam settings).
        check_numerics: Raise naming the quantity when a loss term is not finite.
        learning_rate: A float or an optax schedule.
        num_epochs: Always 1.
        num_batches: Always 1.
    """

    num_envs: int = 1
    num_steps: int = 5
    gae_lambda: float = 1.0
    gamma: float = 0.99
    entropy_loss_coefficient: float = 0.0
    value_loss_coefficient: float = 0.5
    max_grad_norm: float | None = 0.5
    normalize_advantages: bool = False
    use_rms_prop: bool = True
    learning_rate: float | Callable = 7e-4
    check_numerics: bool = False
    num_epochs: int = 1
    num_batches: int = 1

    def __check_init__(self):
        check_one_update(self, "; use PPO for epochs")

    def estimator(self) -> GAE:
        return GAE(gamma=self.gamma, gae_lambda=self.gae_lambda)

    def base_optimizer(self, learning_rate: Any) -> optax.GradientTransformation:
        if self.use_rms_prop:
            return optax.rmsprop(learning_rate, decay=0.99, eps=1e-5, eps_in_sqrt=False)
        return optax.adam(learning_rate, eps=1e-5)

    def stop_early(self, metrics):
        return False

    def objective(self, batch, values, log_probs, entropies):
        return actor_critic_loss(self, batch, values, log_probs, entropies)
