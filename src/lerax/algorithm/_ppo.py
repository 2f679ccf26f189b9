"""Proximal policy optimisation (Schulman et al. 2017)."""

import dataclasses
from collections.abc import Callable
from typing import Any, final

import jax.numpy as jnp
import optax

from ..advantage import GAE
from ..utils._checks import (
    check_finite,
    check_finite_or_off,
    check_non_negative,
    check_positive,
)
from ._on_policy import AbstractOnPolicyAlgorithm


def normalize(advantages, enabled: bool):
    """Standardises advantages within a minibatch when `enabled`, as
    Stable-Baselines3 and CleanRL do: the sample standard deviation
    (`ddof=1`, torch's `std`), and a minibatch of one advantage is left as
    it is (standardised, it would be 0 and carry no gradient)."""
    if not enabled or advantages.size < 2:
        return advantages
    return (advantages - jnp.mean(advantages)) / (jnp.std(advantages, ddof=1) + 1e-8)


@final
class PPO(AbstractOnPolicyAlgorithm):
    """PPO with the clipped surrogate objective (eq. 7 of the paper).

    Defaults are Stable-Baselines3's: one env, 2048 steps per rollout, 10
    epochs of 32 minibatches (batch 64), GAE(0.99, 0.95), clip 0.2, value
    coefficient 0.5, no entropy bonus, Adam at 3e-4 (eps 1e-5), gradient
    clipping at 0.5, advantages standardised per minibatch (with the sample
    standard deviation, `ddof=1`, as Stable-Baselines3). The value loss is
    the mean squared error to the GAE returns; with `clip_value_loss` it is
    the maximum of the clipped and unclipped errors (as PPO2 and CleanRL;
    Stable-Baselines3's `clip_range_vf` uses the clipped error alone). With
    `target_kl`, the remaining minibatch updates of an iteration, that
    minibatch's included, are skipped once the approximate KL divergence
    `mean((r - 1) - log r)` of a minibatch (at the parameters before its
    update) exceeds `1.5 * target_kl` (Stable-Baselines3's rule).

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Steps per env per rollout.
        num_epochs: Passes over each rollout.
        num_batches: Minibatches per pass.
        gae_lambda: GAE's lambda.
        gamma: Discount factor.
        clip_coefficient: Clipping range of the probability ratio: a float
            or an optax schedule, evaluated at the count of optimiser updates
            done (the count `learning_rate` schedules see; Stable-Baselines3's
            `clip_range` schedules read the progress instead, once per
            rollout).
        clip_value_loss: Also clip the value function update.
        value_clip_coefficient: Clipping range of the value update, a float
            or a schedule as `clip_coefficient` (None: `clip_coefficient`).
        entropy_loss_coefficient: Weight of the entropy bonus.
        value_loss_coefficient: Weight of the value loss.
        max_grad_norm: Global gradient-norm clip (None: off).
        normalize_advantages: Standardise advantages per minibatch.
        target_kl: Early-stopping threshold on the approximate KL (None: off).
        check_numerics: Raise naming the quantity when a loss term is not finite.
        learning_rate: A float or an optax schedule (of optimiser updates).
    """

    num_envs: int = 1
    num_steps: int = 2048
    num_epochs: int = 10
    num_batches: int = 32
    gae_lambda: float = 0.95
    gamma: float = 0.99
    clip_coefficient: float | Callable = 0.2
    clip_value_loss: bool = False
    value_clip_coefficient: float | Callable | None = None
    entropy_loss_coefficient: float = 0.0
    value_loss_coefficient: float = 0.5
    max_grad_norm: float | None = 0.5
    normalize_advantages: bool = True
    target_kl: float | None = None
    learning_rate: float | Callable = 3e-4
    check_numerics: bool = False

    def __check_init__(self):
        check_positive("PPO", clip_coefficient=self.clip_coefficient)
        check_finite("PPO", clip_coefficient=self.clip_coefficient)
        check_non_negative("PPO", value_clip_coefficient=self.value_clip_coefficient)
        check_finite("PPO", value_clip_coefficient=self.value_clip_coefficient)
        if self.target_kl is not None:
            check_positive("PPO", target_kl=self.target_kl)
            check_finite_or_off("PPO", target_kl=self.target_kl)

    def estimator(self) -> GAE:
        return GAE(gamma=self.gamma, gae_lambda=self.gae_lambda)

    def base_optimizer(self, learning_rate: Any) -> optax.GradientTransformation:
        return optax.adam(learning_rate, eps=1e-5)

    def at_update(self, count):
        schedules = {
            name: getattr(self, name)(count)
            for name in ("clip_coefficient", "value_clip_coefficient")
            if callable(getattr(self, name))
        }
        return dataclasses.replace(self, **schedules) if schedules else self

    def stop_early(self, metrics):
        if self.target_kl is None:
            return False
        return metrics["approx_kl"] > 1.5 * self.target_kl

    def objective(self, batch, values, log_probs, entropies):
        advantages = normalize(batch["advantages"], self.normalize_advantages)
        log_ratio = log_probs - batch["log_probs"]
        ratio = jnp.exp(log_ratio)
        clipped = jnp.clip(
            ratio, 1.0 - self.clip_coefficient, 1.0 + self.clip_coefficient
        )
        policy_loss = -jnp.mean(jnp.minimum(ratio * advantages, clipped * advantages))
        value_error = jnp.square(values - batch["returns"])
        if self.clip_value_loss:
            coefficient = (
                self.clip_coefficient
                if self.value_clip_coefficient is None
                else self.value_clip_coefficient
            )
            clipped_values = batch["values"] + jnp.clip(
                values - batch["values"], -coefficient, coefficient
            )
            value_error = jnp.maximum(
                value_error, jnp.square(clipped_values - batch["returns"])
            )
        value_loss = jnp.mean(value_error)
        entropy_loss = -jnp.mean(entropies)
        loss = (
            policy_loss
            + self.value_loss_coefficient * value_loss
            + self.entropy_loss_coefficient * entropy_loss
        )
        approx_kl = jnp.mean((ratio - 1.0) - log_ratio)
        metrics = {
            "policy_loss": policy_loss,
            "value_loss": value_loss,
            "entropy_loss": entropy_loss,
            "approx_kl": approx_kl,
            "clip_fraction": jnp.mean(jnp.abs(ratio - 1.0) > self.clip_coefficient),
        }
        return loss, metrics
