"""`RolloutBuffer`: one on-policy rollout, time-major `[num_steps, num_envs, ...]`."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Key

from ._shuffle import permutation


@final
class RolloutBuffer(eqx.Module):
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
        """
        total = self.num_steps * self.num_envs
        batch = total // num_batches
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
        """
        per_batch = self.num_envs // num_batches
        order = permutation(key, self.num_envs)[: num_batches * per_batch]

        def split_time_major(x):
            x = jnp.swapaxes(x, 0, 1)[order]
            return jnp.reshape(x, (num_batches, per_batch) + x.shape[1:])

        return jax.tree.map(split_time_major, self._per_step())
