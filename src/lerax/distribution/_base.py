"""The abstract distributions every lerax distribution derives from."""

import abc
from typing import Generic

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Key

from .._custom_types import MaskType, SampleType


class AbstractDistribution(eqx.Module, Generic[SampleType]):
    """A probability distribution over `SampleType` values.

    Parameters may carry leading batch dimensions; the distribution then
    describes independent draws, one per batch element. Each distribution has
    an event shape: `()` for elementwise ones (`Normal`, `Categorical`, ...)
    and a trailing vector axis for the multivariate ones
    (`MultivariateNormalDiag`, `MultiCategorical`, ...). `log_prob` and
    `entropy` return the batch shape, summing over the event axes.

    Every distribution is an `equinox.Module`, so it can be passed through
    `jax.jit`, `jax.vmap` and `jax.grad` like any other pytree.

    Subclasses implement `log_prob`, `sample`, `sample_and_log_prob`,
    `entropy`, `mean` and `mode`; `prob` is derived from `log_prob`.
    `sample_and_log_prob` is a hook of its own (rather than derived from
    `sample` and `log_prob`) so that a distribution can score a draw from the
    quantities it sampled, as the squashed Gaussians do.
    """

    @abc.abstractmethod
    def log_prob(self, value: SampleType) -> Float[Array, "*batch"]:
        """The log-probability (or log-density) of `value`.

        Args:
            value: A value with the distribution's event shape, and leading
                dimensions that broadcast against the batch shape.

        Returns:
            The log-probability, with the broadcast batch shape.
        """

    @abc.abstractmethod
    def sample(self, key: Key[Array, ""]) -> SampleType:
        """Draws one sample per batch element.

        Args:
            key: A JAX PRNG key.

        Returns:
            A sample of shape `batch_shape + event_shape`.
        """

    @abc.abstractmethod
    def sample_and_log_prob(
        self, key: Key[Array, ""]
    ) -> tuple[SampleType, Float[Array, "*batch"]]:
        """Draws a sample and returns it with its log-probability.

        The sample equals `sample(key)` for the same key, and the
        log-probability equals `log_prob(sample)` up to rounding.

        Args:
            key: A JAX PRNG key.

        Returns:
            `(sample, log_prob)`.
        """

    @abc.abstractmethod
    def entropy(self) -> Float[Array, "*batch"]:
        """The (differential) entropy, in nats, with the batch shape."""

    @abc.abstractmethod
    def mean(self) -> Array:
        """The expected value, shaped like a sample.

        Raises:
            NotImplementedError: If the mean is not meaningful (categorical
                distributions over labels).
        """

    @abc.abstractmethod
    def mode(self) -> SampleType:
        """The most probable value (ties broken by the lowest index)."""

    def prob(self, value: SampleType) -> Float[Array, "*batch"]:
        """The probability (or density) of `value`: `exp(log_prob(value))`.

        Args:
            value: As for `log_prob`.

        Returns:
            The probability, with the broadcast batch shape.
        """
        return jnp.exp(self.log_prob(value))


class AbstractMaskableDistribution(
    AbstractDistribution[SampleType], Generic[SampleType, MaskType]
):
    """A distribution over discrete values that can forbid some of them.

    A masked-out value has probability exactly zero (log-probability `-inf`):
    it is never sampled, never the mode and contributes nothing to the
    entropy. The remaining probabilities are renormalised.
    """

    @abc.abstractmethod
    def mask(
        self, mask: MaskType
    ) -> "AbstractMaskableDistribution[SampleType, MaskType]":
        """Returns a copy of the distribution restricted by `mask`.

        Args:
            mask: Boolean array; `True` keeps a value, `False` forbids it.
                Each subclass documents the layout it accepts.

        Returns:
            A new distribution of the same type as `self`.

        Raises:
            ValueError: If the mask's shape does not fit the distribution.
        """
