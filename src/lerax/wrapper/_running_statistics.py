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

    def pooled(self) -> "RunningMeanStd":
        """The statistics of everything a batch of independent streams saw.

        `count` tells the batch: its axes (e.g. `[num_envs]` for the per-env
        statistics of a training state, or `[seeds, num_envs]`) lead `mean`
        and `var`, and all of them are merged with Chan et al.'s formula, so
        the result equals one stream that saw every sample (each stream's
        pseudo-count is kept). Unbatched statistics are returned unchanged.
        """
        batch_ndim = jnp.ndim(self.count)
        if batch_ndim == 0:
            return self
        sample_shape = jnp.shape(self.mean)[batch_ndim:]
        counts = jnp.reshape(self.count, (-1,) + (1,) * len(sample_shape))
        means = jnp.reshape(self.mean, (-1,) + sample_shape)
        variances = jnp.reshape(self.var, (-1,) + sample_shape)
        total = jnp.sum(counts, axis=0, keepdims=True)
        mean = jnp.sum(counts * means, axis=0, keepdims=True) / total
        spread = counts * (variances + jnp.square(means - mean))
        var = jnp.sum(spread, axis=0, keepdims=True) / total
        return RunningMeanStd(mean[0], var[0], jnp.reshape(total, ()))

    def normalize(
        self, x: Float[Array, "..."], epsilon: float = 1e-8
    ) -> Float[Array, "..."]:
        """Standardises `x` with the current statistics."""
        return (x - self.mean) / jnp.sqrt(self.var + epsilon)
