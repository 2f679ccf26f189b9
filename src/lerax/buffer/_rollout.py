"""`RolloutBuffer`: one on-policy rollout, time-major `[num_steps, num_envs, ...]`."""

import dataclasses
from typing import Any, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractBuffer
from ._shuffle import permutation


def _check_divides(method: str, num_batches: Any, total: int, what: str) -> None:
    if (
        not isinstance(num_batches, int)
        or isinstance(num_batches, bool)
        or num_batches < 1
        or total % num_batches
    ):
        raise ValueError(
            f"`RolloutBuffer.{method}(num_batches=...)` must be an int that divides "
            f"the {total} {what} (nothing is dropped), got {num_batches!r}."
        )


@final
class RolloutBuffer(AbstractBuffer):
    """The transitions of one rollout, as arrays with leading axes `[T, N]`
    (steps, envs).

    Attributes:
        observations: Observations the actions were taken in.
        actions: Actions as sampled by the policy (before any clipping to the
            env's bounds), so `log_probs` are their log-probabilities.
        log_probs: Log-probabilities of `actions` under the behaviour policy.
        values: Value estimates of `observations`.
        rewards: Rewards, with `gamma * V(final_observation)` added on steps
            truncated by a time limit (not on terminated steps).
        dones: Whether the episode ended at the step (terminated or truncated).
        episode_starts: Whether the step is the first of an episode (the
            policy state was reset before it).
        action_masks: Action masks the actions were sampled under (or None).
        policy_states: The policy state each step was taken from (None for
            stateless policies); recurrent losses restart from them at
            episode starts.
        advantages: Advantage estimates.
        returns: Value targets.
    """

    observations: Any
    actions: Any
    log_probs: Float[Array, "T N"]
    values: Float[Array, "T N"]
    rewards: Float[Array, "T N"]
    dones: Bool[Array, "T N"]
    episode_starts: Bool[Array, "T N"]
    action_masks: Any
    policy_states: Any
    advantages: Float[Array, "T N"]
    returns: Float[Array, "T N"]

    @property
    def num_steps(self) -> int:
        """`T`, the steps per env."""
        return self.rewards.shape[0]

    @property
    def num_envs(self) -> int:
        """`N`, the number of envs."""
        return self.rewards.shape[1]

    def _per_step(self) -> dict[str, Any]:
        return {
            "observations": self.observations,
            "actions": self.actions,
            "log_probs": self.log_probs,
            "values": self.values,
            "episode_starts": self.episode_starts,
            "action_masks": self.action_masks,
            "advantages": self.advantages,
            "returns": self.returns,
            "policy_states": self.policy_states,
        }

    def transitions(self, num_batches: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """All `T * N` transitions shuffled into `num_batches` minibatches.

        Returns:
            A dict of arrays with leading axes `[num_batches, T * N // num_batches]`.

        Raises:
            ValueError: If `num_batches` is not an int that divides `T * N`.
        """
        total = self.num_steps * self.num_envs
        _check_divides("transitions", num_batches, total, "T * N transitions")
        return self._shuffled(num_batches, total // num_batches, key)

    def batches(self, batch_size: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """The transitions shuffled into minibatches of `batch_size` (the
        remainder of `T * N` is dropped; the earlier lerax's method).

        Returns:
            A dict of arrays with leading axes `[T * N // batch_size, batch_size]`.

        Raises:
            ValueError: If `batch_size` is not an int in [1, T * N].
        """
        total = self._check_batch_size(batch_size)
        return self._shuffled(total // batch_size, batch_size, key)

    def sample(self, batch_size: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """`batch_size` distinct transitions drawn uniformly (without
        replacement; the earlier lerax's method).

        Returns:
            A dict of arrays with leading axis `[batch_size]`.

        Raises:
            ValueError: If `batch_size` is not an int in [1, T * N].
        """
        self._check_batch_size(batch_size)
        return jax.tree.map(lambda x: x[0], self._shuffled(1, batch_size, key))

    def compute_returns_and_advantages(
        self, last_value: Float[Array, " N"], gae_lambda: float, gamma: float
    ) -> "RolloutBuffer":
        """This rollout with `advantages` and `returns` from
        `lerax.advantage.GAE(gamma, gae_lambda)` over its `rewards`,
        `values` and `dones` (the earlier lerax's method; the algorithms call
        their estimator themselves).

        Args:
            last_value: The value of each env's observation after the last
                step (bootstraps the unfinished episodes).
            gae_lambda: GAE's lambda in [0, 1].
            gamma: The discount factor in [0, 1].
        """
        from ..advantage import GAE

        advantages, returns = GAE(gamma=gamma, gae_lambda=gae_lambda)(
            self.rewards, self.values, self.dones, last_value
        )
        return dataclasses.replace(self, advantages=advantages, returns=returns)

    def _check_batch_size(self, batch_size: Any) -> int:
        total = self.num_steps * self.num_envs
        if (
            not isinstance(batch_size, int)
            or isinstance(batch_size, bool)
            or not 1 <= batch_size <= total
        ):
            raise ValueError(
                f"`batch_size` must be an int in [1, {total}] (the rollout's "
                f"{self.num_steps} steps x {self.num_envs} envs), got {batch_size!r}."
            )
        return total

    def _shuffled(self, num_batches: int, batch: int, key: Key[Array, ""]) -> Any:
        total = self.num_steps * self.num_envs
        order = permutation(key, total)[: num_batches * batch]

        def split(x):
            flat = jnp.reshape(x, (total,) + x.shape[2:])
            return jnp.reshape(flat[order], (num_batches, batch) + x.shape[2:])

        return jax.tree.map(split, self._per_step())

    def sequences(self, num_batches: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """Whole env sequences shuffled into `num_batches` minibatches (for
        recurrent policies, which re-run their core over each sequence).

        Returns:
            A dict of arrays with leading axes `[num_batches, N // num_batches, T]`.

        Raises:
            ValueError: If `num_batches` is not an int that divides `N`.
        """
        _check_divides("sequences", num_batches, self.num_envs, "N env sequences")
        per_batch = self.num_envs // num_batches
        order = permutation(key, self.num_envs)[: num_batches * per_batch]

        def split_time_major(x):
            x = jnp.swapaxes(x, 0, 1)[order]
            return jnp.reshape(x, (num_batches, per_batch) + x.shape[1:])

        return jax.tree.map(split_time_major, self._per_step())
