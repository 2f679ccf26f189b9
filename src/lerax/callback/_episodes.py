"""Running sums of finished episodes, kept in a callback's state between reports."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


@final
class EpisodeAccumulator(eqx.Module):
    """Sums of the undiscounted returns and lengths of episodes finished since
    the last report (so a report averages over every episode in between, not
    just the last iteration's).

    Attributes:
        return_sum: Sum of the finished episodes' returns.
        length_sum: Sum of their lengths.
        episodes: How many episodes finished.
    """

    return_sum: Float[Array, ""]
    length_sum: Float[Array, ""]
    episodes: Float[Array, ""]

    @staticmethod
    def zeros() -> "EpisodeAccumulator":
        """An empty accumulator."""
        zero = jnp.zeros((), jnp.float32)
        return EpisodeAccumulator(zero, zero, zero)

    def add(self, rollout: Any) -> "EpisodeAccumulator":
        """Adds the episodes that ended in `rollout` (a `Transition` with
        leading axes `[num_steps, num_envs]`)."""
        done = rollout.done
        return EpisodeAccumulator(
            self.return_sum
            + jnp.sum(jnp.where(done, rollout.episode_return, 0.0)).astype(jnp.float32),
            self.length_sum
            + jnp.sum(jnp.where(done, rollout.episode_length, 0)).astype(jnp.float32),
            self.episodes + jnp.sum(done).astype(jnp.float32),
        )
