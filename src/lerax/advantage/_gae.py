"""Generalised advantage estimation."""

from typing import final

import jax
import jax.numpy as jnp

from ..utils._checks import check_unit_interval
from ._base import AbstractAdvantageEstimator, check_segment


@final
class GAE(AbstractAdvantageEstimator):
    """Generalised advantage estimation (Schulman et al. 2016, eq. 16).

    `A_t = sum_l (gamma * lambda)^l delta_{t+l}` with
    `delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)`, computed by
    one reverse `lax.scan`; returns are `A_t + V(s_t)` (the TD(lambda)
    targets). `gae_lambda = 1` gives Monte-Carlo returns bootstrapped at the
    segment end, `gae_lambda = 0` one-step TD.

    Attributes:
        gamma: Discount factor in [0, 1].
        gae_lambda: Bias/variance trade-off in [0, 1] (`lam` in the earlier
            lerax, which `GAE(lam=...)` and `.lam` still accept).
    """

    gamma: float = 0.99
    gae_lambda: float = 0.95

    def __init__(
        self,
        gamma: float = 0.99,
        gae_lambda: float | None = None,
        *,
        lam: float | None = None,
    ):
        """Args:
        gamma: See `gamma` above.
        gae_lambda: See `gae_lambda` above (default 0.95).
        lam: The earlier name of `gae_lambda`; give one or the other.

        Raises:
            TypeError: If both `gae_lambda` and `lam` are given.
            ValueError: If a value is outside [0, 1].
        """
        if gae_lambda is not None and lam is not None:
            raise TypeError(
                "`GAE` takes `gae_lambda` or its earlier name `lam`, not both."
            )
        self.gamma = gamma
        given = gae_lambda if gae_lambda is not None else lam
        self.gae_lambda = 0.95 if given is None else given

    @property
    def lam(self) -> float:
        """`gae_lambda`, under the earlier lerax's name."""
        return self.gae_lambda

    def __check_init__(self):
        check_unit_interval("GAE", gamma=self.gamma, gae_lambda=self.gae_lambda)

    def __call__(self, rewards, values, dones, last_value):
        rewards, values, dones, last_value = check_segment(
            "GAE", rewards, values, dones, last_value
        )
        dtype = rewards.dtype
        live = 1.0 - jnp.asarray(dones, values.dtype)
        next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)
        # a traced gamma of another float dtype must not change the carry's
        deltas = (rewards + self.gamma * live * next_values - values).astype(dtype)

        def backward(carry, inputs):
            delta, alive = inputs
            carry = delta + self.gamma * self.gae_lambda * alive * carry
            carry = carry.astype(dtype)
            return carry, carry

        _, advantages = jax.lax.scan(
            backward, jnp.zeros_like(last_value), (deltas, live), reverse=True
        )
        return advantages, advantages + values
