"""`AbstractBuffer`: what every buffer of transitions offers."""

import abc
from typing import Any

import equinox as eqx
from jaxtyping import Array, Key


class AbstractBuffer(eqx.Module):
    """Transitions held as arrays in a training state, sampled in batches.

    `RolloutBuffer` (one on-policy rollout) and `ReplayBuffer` (an
    off-policy ring buffer) are the two kinds; code that only draws batches
    can accept either.
    """

    @abc.abstractmethod
    def sample(self, batch_size: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """`batch_size` transitions drawn uniformly, as a dict of arrays with
        a leading batch axis.

        Args:
            batch_size: Transitions to draw.
            key: PRNG key.
        """
