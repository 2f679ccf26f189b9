"""REINFORCE with a learned baseline (Williams 1992)."""

from collections.abc import Callable
from typing import Any, final

import optax

from ..advantage import BootstrappedReturn
from ._a2c import actor_critic_loss
from ._on_policy import AbstractOnPolicyAlgorithm, check_one_update


@final
class REINFORCE(AbstractOnPolicyAlgorithm):
    """Monte-Carlo policy gradient with a value baseline.

    Returns are discounted sums of rewards to the end of each episode,
    bootstrapped with the value only where a rollout segment cuts an episode
    (`lerax.advantage.BootstrappedReturn`) and, as in every on-policy
    algorithm here, at time-limit truncations (`gamma * V(final
    observation)`; never at terminations); advantages are returns minus the
    baseline, standardised (sample standard deviation). One Adam step per
    rollout (optax's default eps, 1e-8).

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Steps per env per rollout.
        gamma: Discount factor.
        entropy_loss_coefficient: Weight of the entropy bonus.
        value_loss_coefficient: Weight of the baseline's loss.
        max_grad_norm: Global gradient-norm clip (None: off).
        normalize_advantages: Standardise advantages.
        check_numerics: Raise naming the quantity when a loss term is not finite.
        learning_rate: A float or an optax schedule.
        num_epochs: Always 1.
        num_batches: Always 1.
    """

    num_envs: int = 1
    num_steps: int = 512
    gamma: float = 0.99
    entropy_loss_coefficient: float = 0.0
    value_loss_coefficient: float = 0.5
    max_grad_norm: float | None = 0.5
    normalize_advantages: bool = True
    learning_rate: float | Callable = 3e-4
    check_numerics: bool = False
    num_epochs: int = 1
    num_batches: int = 1

    def __check_init__(self):
        check_one_update(self)

    def estimator(self) -> BootstrappedReturn:
        return BootstrappedReturn(gamma=self.gamma)

    def base_optimizer(self, learning_rate: Any) -> optax.GradientTransformation:
        return optax.adam(learning_rate)

    def stop_early(self, metrics):
        return False

    def objective(self, batch, values, log_probs, entropies):
        return actor_critic_loss(self, batch, values, log_probs, entropies)
