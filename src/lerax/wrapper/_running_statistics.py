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

    @staticmethod
    def empty(shape: tuple[int, ...]) -> "RunningMeanStd":
        """Statistics of no samples at all (count 0): what `merge` leaves
        unchanged. Used to accumulate the samples seen since a sync."""
        return RunningMeanStd(
            jnp.zeros(shape, jnp.float32),
            jnp.zeros(shape, jnp.float32),
            jnp.zeros((), jnp.float32),
        )

    def update(self, batch: Float[Array, "batch ..."]) -> "RunningMeanStd":
        """Folds a batch (leading axis) of samples into the statistics."""
        batch = jnp.asarray(batch, jnp.float32)
        return self.merge(
            RunningMeanStd(
                jnp.mean(batch, axis=0),
                jnp.var(batch, axis=0),
                jnp.asarray(batch.shape[0], jnp.float32),
            )
        )

    def merge(self, other: "RunningMeanStd") -> "RunningMeanStd":
        """The statistics of the samples of both `self` and `other` (Chan et
        al.'s formula). Either may have count 0; both may be batched alike
        (leading axes in `count`, `mean` and `var`)."""
        extra = (1,) * (jnp.ndim(self.mean) - jnp.ndim(self.count))
        count = jnp.reshape(self.count, jnp.shape(self.count) + extra)
        other_count = jnp.reshape(other.count, jnp.shape(other.count) + extra)
        total = count + other_count
        safe = jnp.where(total > 0, total, 1.0)
        delta = other.mean - self.mean
        mean = self.mean + delta * other_count / safe
        m2 = self.var * count + other.var * other_count
        m2 = m2 + jnp.square(delta) * count * other_count / safe
        # merging no samples leaves the statistics exactly as they are
        var = jnp.where(other_count > 0, m2 / safe, self.var)
        return RunningMeanStd(mean, var, self.count + other.count)

    def pooled(self) -> "RunningMeanStd":
        """The statistics of everything a batch of independent streams saw.

        `count` tells the batch: its axes (e.g. `[num_envs]` for envs run
        apart, or `[seeds, num_envs]`) lead `mean` and `var`, and all of
        them are merged with Chan et al.'s formula, so the result equals one
        stream that saw every sample (each stream's pseudo-count is kept).
        Unbatched statistics are returned unchanged. (The envs of a training
        batch share their statistics: `lerax.wrapper.normalization_statistics`
        counts those once.)
        """
        batch_ndim = jnp.ndim(self.count)
        if batch_ndim == 0:
            return self
        sample_shape = jnp.shape(self.mean)[batch_ndim:]
        counts = jnp.reshape(self.count, (-1,) + (1,) * len(sample_shape))
        means = jnp.reshape(self.mean, (-1,) + sample_shape)
        variances = jnp.reshape(self.var, (-1,) + sample_shape)
        total = jnp.sum(counts, axis=0, keepdims=True)
        safe = jnp.where(total > 0, total, 1.0)  # streams of no samples
        mean = jnp.sum(counts * means, axis=0, keepdims=True) / safe
        spread = counts * (variances + jnp.square(means - mean))
        var = jnp.sum(spread, axis=0, keepdims=True) / safe
        return RunningMeanStd(mean[0], var[0], jnp.reshape(total, ()))

    def normalize(
        self, x: Float[Array, "..."], epsilon: float = 1e-8
    ) -> Float[Array, "..."]:
        """Standardises `x` with the current statistics."""
        return (x - self.mean) / jnp.sqrt(self.var + epsilon)
