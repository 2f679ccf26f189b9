"""`AbstractAdvantageEstimator`: rewards and values in, advantages and returns out."""

import abc

import equinox as eqx
from jaxtyping import Array, Bool, Float


class AbstractAdvantageEstimator(eqx.Module):
    """Turns one rollout segment into advantages and value targets.

    Inputs are time-major along the first axis (extra trailing axes, e.g.
    parallel envs, are carried along). `dones[t]` means the episode ended at
    step `t`, so nothing after it is bootstrapped into step `t`; time-limit
    truncation must be folded into `rewards` by the caller (add
    `gamma * V(final_observation)`) or passed as not done.

    Attributes:
        gamma: Discount factor.
    """

    gamma: eqx.AbstractVar[float]

    @abc.abstractmethod
    def __call__(
        self,
        rewards: Float[Array, " T *batch"],
        values: Float[Array, " T *batch"],
        dones: Bool[Array, " T *batch"],
        last_value: Float[Array, " *batch"],
    ) -> tuple[Float[Array, " T *batch"], Float[Array, " T *batch"]]:
        """Returns `(advantages, returns)`, both shaped like `rewards`."""
