"""Discounted returns, n-step returns and bootstrapped Monte-Carlo returns."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ..utils._checks import check_unit_interval
from ._base import AbstractAdvantageEstimator, check_segment


def discounted_returns(
    rewards: Float[Array, " T *batch"],
    dones: Bool[Array, " T *batch"],
    final_value: Float[Array, " *batch"],
    gamma: float,
) -> Float[Array, " T *batch"]:
    """`G_t = r_t + gamma * (1 - done_t) * G_{t+1}`, with `G_T = final_value`.

    Args:
        rewards: Rewards, time-major `(T, *batch)`, floating point.
        dones: Episode ends (no bootstrapping across them), bool (or integer
            0/1) of the shape of `rewards`.
        final_value: The value bootstrapped after the last step, shape
            `batch` (no time axis), floating point.
        gamma: Discount factor in [0, 1].

    Returns:
        The returns, shaped like `rewards`.

    Raises:
        ValueError: If the shapes do not match as above, or a concrete
            `gamma` is outside [0, 1].
        TypeError: If a dtype is not as above.
    """
    check_unit_interval("discounted_returns", gamma=gamma)
    rewards, _, dones, final_value = check_segment(
        "discounted_returns", rewards, None, dones, final_value, "final_value"
    )
    return _discounted(rewards, dones, final_value, gamma)


def _discounted(rewards: Array, dones: Array, final_value: Array, gamma: Any):
    """`discounted_returns` on checked inputs."""
    dtype = jnp.result_type(rewards, final_value)
    rewards = rewards.astype(dtype)
    live = 1.0 - jnp.asarray(dones, dtype)

    def backward(carry, inputs):
        reward, alive = inputs
        # a traced gamma of another float dtype must not change the carry's
        carry = (reward + gamma * alive * carry).astype(dtype)
        return carry, carry

    _, returns = jax.lax.scan(
        backward, final_value.astype(dtype), (rewards, live), reverse=True
    )
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
        rewards, values, dones, last_value = check_segment(
            "BootstrappedReturn", rewards, values, dones, last_value
        )
        returns = _discounted(rewards, dones, last_value, self.gamma)
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

    def __init__(self, n: int, gamma: float = 0.99):
        """Args:
        n: See `n` above; a Python or NumPy int (not a bool).
        gamma: See `gamma` above.

        Raises:
            TypeError: If `n` is not an int, or is a bool.
            ValueError: If `n < 1` or a concrete `gamma` is outside [0, 1].
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(
                f"`NStepReturn(n=...)` must be an int >= 1 (the number of steps "
                f"summed before bootstrapping), got {n!r} of type "
                f"{type(n).__name__}."
            )
        if n < 1:
            raise ValueError(f"`NStepReturn(n=...)` must be an int >= 1, got {n!r}.")
        self.n = int(n)  # a static field: a plain, hashable Python int
        self.gamma = gamma

    def __check_init__(self):
        check_unit_interval("NStepReturn", gamma=self.gamma)

    def __call__(self, rewards, values, dones, last_value):
        rewards, values, dones, last_value = check_segment(
            "NStepReturn", rewards, values, dones, last_value
        )
        horizon = rewards.shape[0]
        dtype = rewards.dtype
        live = 1.0 - jnp.asarray(dones, dtype)
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
            step = jnp.where(valid > 0, self.gamma * live[index], 1.0)
            # a gamma of another float dtype (e.g. traced float64 with float32
            # data) must not change the output's dtype, as in `GAE`
            discount = (discount * step).astype(dtype)
        end = jnp.minimum(jnp.arange(horizon) + self.n - 1, horizon - 1)
        returns = returns + discount * next_values[end]
        return returns - values, returns
