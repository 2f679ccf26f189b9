"""Running mean and variance (Chan et al.'s parallel update)."""

from typing import final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


@final
class RunningMeanStd(eqx.Module):
    """Mean and (population) variance of everything seen so far.

    Starts from mean 0, variance 1 and a tiny pseudo-count (as Stable-Baselines3's
    `RunningMeanStd`), so early normalisation is close to the identity.

    Attributes:
        mean: Running mean, shaped like one sample.
        var: Running variance, shaped like one sample.
        count: Number of samples seen (plus the pseudo-count).
    """

    mean: Float[Array, "..."]
    var: Float[Array, "..."]
    count: Float[Array, ""]

    @staticmethod
    def zeros(shape: tuple[int, ...], epsilon: float = 1e-4) -> "RunningMeanStd":
        """Fresh statistics for samples of `shape`."""
        return RunningMeanStd(
            jnp.zeros(shape, jnp.float32),
            jnp.ones(shape, jnp.float32),
            jnp.asarray(epsilon, jnp.float32),
        )

    def update(self, batch: Float[Array, "batch ..."]) -> "RunningMeanStd":
        """Folds a batch (leading axis) of samples into the statistics."""
        batch = jnp.asarray(batch, jnp.float32)
        batch_count = batch.shape[0]
        batch_mean = jnp.mean(batch, axis=0)
        batch_var = jnp.var(batch, axis=0)
        delta = batch_mean - self.mean
        total = self.count + batch_count
        mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count
        m2 = m2 + jnp.square(delta) * self.count * batch_count / total
        return RunningMeanStd(mean, m2 / total, total)

    def normalize(
        self, x: Float[Array, "..."], epsilon: float = 1e-8
    ) -> Float[Array, "..."]:
        """Standardises `x` with the current statistics."""
        return (x - self.mean) / jnp.sqrt(self.var + epsilon)
