"""Discounted returns, n-step returns and bootstrapped Monte-Carlo returns."""

from typing import final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ..utils._checks import check_unit_interval
from ._base import AbstractAdvantageEstimator


def discounted_returns(
    rewards: Float[Array, " T *batch"],
    dones: Bool[Array, " T *batch"],
    final_value: Float[Array, " *batch"],
    gamma: float,
) -> Float[Array, " T *batch"]:
    """`G_t = r_t + gamma * (1 - done_t) * G_{t+1}`, with `G_T = final_value`.

    Args:
        rewards: Rewards, time-major.
        dones: Episode ends (no bootstrapping across them).
        final_value: The value bootstrapped after the last step.
        gamma: Discount factor.
    """
    live = 1.0 - jnp.asarray(dones, rewards.dtype)

    def backward(carry, inputs):
        reward, alive = inputs
        carry = reward + gamma * alive * carry
        return carry, carry

    _, returns = jax.lax.scan(backward, final_value, (rewards, live), reverse=True)
    return returns


@final
class BootstrappedReturn(AbstractAdvantageEstimator):
    """Monte-Carlo returns bootstrapped with `last_value` at the segment end;
    advantages are returns minus values (a baseline). Equals `GAE` with
    `gae_lambda = 1`.

    Attributes:
        gamma: Discount factor in [0, 1].
    """

    gamma: float = 0.99

    def __check_init__(self):
        check_unit_interval("BootstrappedReturn", gamma=self.gamma)

    def __call__(self, rewards, values, dones, last_value):
        returns = discounted_returns(rewards, dones, last_value, self.gamma)
        return returns - values, returns


@final
class NStepReturn(AbstractAdvantageEstimator):
    """n-step returns `sum_{k<n} gamma^k r_{t+k} + gamma^n V(s_{t+n})`, cut at
    episode ends and bootstrapped from `last_value` past the segment end;
    advantages are returns minus values.

    Attributes:
        n: Number of steps (>= 1).
        gamma: Discount factor in [0, 1].
    """

    n: int = eqx.field(static=True)
    gamma: float = 0.99

    def __check_init__(self):
        if not isinstance(self.n, int) or self.n < 1:
            raise ValueError(
                f"`NStepReturn(n=...)` must be an int >= 1, got {self.n!r}."
            )
        check_unit_interval("NStepReturn", gamma=self.gamma)

    def __call__(self, rewards, values, dones, last_value):
        horizon = rewards.shape[0]
        live = 1.0 - jnp.asarray(dones, rewards.dtype)
        # values after each step, V(s_{t+1}), with last_value past the end
        next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)
        returns = jnp.zeros_like(rewards)
        discount = jnp.ones_like(rewards)
        for k in range(self.n):  # n is a small static constant
            index = jnp.minimum(jnp.arange(horizon) + k, horizon - 1)
            valid = (jnp.arange(horizon) + k < horizon).astype(rewards.dtype)
            valid = valid.reshape((horizon,) + (1,) * (rewards.ndim - 1))
            returns = returns + discount * valid * rewards[index]
            # past the segment end the discount stays, so the bootstrap below
            # uses last_value with gamma^(T - t)
            discount = discount * jnp.where(valid > 0, self.gamma * live[index], 1.0)
        end = jnp.minimum(jnp.arange(horizon) + self.n - 1, horizon - 1)
        returns = returns + discount * next_values[end]
        return returns - values, returns
