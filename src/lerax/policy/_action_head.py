"""Action heads: map features to a distribution over an action space.

Each head owns a final linear layer (and, for `Box`, a state-independent
log standard deviation) and knows how to translate between the space's
actions and the distribution's flat values (`encode`/`decode`), so policies
handle every action space the same way.
"""

import abc
from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Key

from ..distribution import (
    AbstractDistribution,
    Bernoulli,
    Categorical,
    MultiCategorical,
    MultivariateNormalDiag,
)
from ..space import AbstractSpace, Box, Discrete, MultiBinary, MultiDiscrete
from ..utils._checks import check_finite
from ._networks import orthogonal_linear


def check_mask_shape(action_mask: Any, shape: tuple[int, ...], who: str) -> Array:
    """Returns `action_mask` as an array after checking that it has `shape`,
    the mask shape of one observation's action (trace-time, free in
    compiled code).

    Raises:
        ValueError: If the shapes differ; a batch of masks is named, with
            `jax.vmap` suggested.
    """
    mask = jnp.asarray(action_mask)
    if mask.shape != shape:
        batch = mask.ndim > len(shape) and mask.shape[-len(shape) or None :] == shape
        hint = (
            " It looks like a batch: a policy acts on one observation, so map "
            "it over the batch with `jax.vmap`."
            if batch
            else ""
        )
        raise ValueError(
            f"{who}: `action_mask` must have shape {shape} (one flag per "
            f"action), got {mask.shape}.{hint}"
        )
    return mask


def require_float_box(space: Box, owner: str) -> Box:
    """Returns `space` if its dtype is floating-point, else raises `TypeError`.

    Gaussian, squashed-Gaussian and tanh policies produce continuous values:
    on an integer or boolean `Box` their actions would not be in the space.

    Args:
        space: The Box action space.
        owner: The class or function, for the message (e.g. "MLPSACPolicy").

    Raises:
        TypeError: Naming `owner`, the space and the fixes.
    """
    if not jnp.issubdtype(space.dtype, jnp.floating):
        raise TypeError(
            f"`{owner}` produces continuous actions and needs a floating-point Box "
            f"action space, got {space!r}. "
            "For integer actions use a `Discrete` or `MultiDiscrete` action space "
            "(e.g. with `lerax.wrapper.TransformAction`); for continuous ones, a "
            "float Box (e.g. `dtype=jnp.float32`)."
        )
    return space


def valid_action(action_space: AbstractSpace, action: Any) -> Any:
    """Maps a policy's action into `action_space` before it is sent to an env.

    `Box` actions (Gaussian samples are not bounded) are clipped to the bounds
    and cast to the space's dtype; actions of every other space are returned
    unchanged.

    Args:
        action_space: The env's action space.
        action: An action from the policy.

    Returns:
        The action, inside `action_space`.
    """
    if isinstance(action_space, Box):
        clipped = jnp.clip(action, action_space.low, action_space.high)
        return clipped.astype(action_space.dtype)
    return action


class AbstractActionHead(eqx.Module):
    """Features -> distribution over (encoded) actions of `action_space`.

    Attributes:
        action_space: The space actions belong to.
        linear: The output layer.
    """

    action_space: eqx.AbstractVar[AbstractSpace]
    linear: eqx.AbstractVar[eqx.nn.Linear]

    @abc.abstractmethod
    def distribution(
        self, features: Float[Array, " n"], action_mask: Any = None
    ) -> AbstractDistribution:
        """The action distribution (over encoded actions) for `features`."""

    @abc.abstractmethod
    def encode(self, action: Any) -> Array:
        """Maps an action of the space to a value of the distribution."""

    @abc.abstractmethod
    def decode(self, value: Array) -> Any:
        """Maps a value of the distribution to an action of the space."""

    @abc.abstractmethod
    def valid(self, action: Any) -> Any:
        """Maps a decoded action into the action space (clips `Box` samples)."""

    def log_prob(
        self, distribution: AbstractDistribution, action: Any
    ) -> Float[Array, ""]:
        """The log-probability of `action`, summed over all its components."""
        return jnp.sum(distribution.log_prob(self.encode(action)))

    def entropy(self, distribution: AbstractDistribution) -> Float[Array, ""]:
        """The entropy of the action distribution, summed over components."""
        return jnp.sum(distribution.entropy())


@final
class BoxHead(AbstractActionHead):
    """Diagonal Gaussian over the flattened `Box` (mean from the features,
    state-independent learned log standard deviation). Samples are not
    bounded; algorithms clip them to the box before stepping the env."""

    action_space: Box
    linear: eqx.nn.Linear
    log_std: Float[Array, " n"]

    def __init__(
        self,
        in_size: int,
        action_space: Box,
        *,
        log_std_init: float,
        gain: float,
        key: Key[Array, ""],
    ):
        """Builds the head.

        Args:
            in_size: Size of the features.
            action_space: A floating-point Box action space.
            log_std_init: Initial log standard deviation (finite).
            gain: Gain of the orthogonal output layer.
            key: A JAX PRNG key for the output layer.

        Raises:
            TypeError: If the Box's dtype is not floating-point.
            ValueError: If `log_std_init` is NaN or infinite.
        """
        require_float_box(action_space, "BoxHead")
        check_finite("BoxHead", log_std_init=log_std_init)
        self.action_space = action_space
        self.linear = orthogonal_linear(
            in_size, action_space.flat_size, gain=gain, key=key
        )
        self.log_std = jnp.full((action_space.flat_size,), log_std_init, jnp.float32)

    def distribution(self, features, action_mask=None):
        del action_mask
        return MultivariateNormalDiag(self.linear(features), jnp.exp(self.log_std))

    def encode(self, action):
        return jnp.reshape(jnp.asarray(action, jnp.float32), (-1,))

    def decode(self, value):
        return jnp.reshape(value, self.action_space.shape).astype(
            self.action_space.dtype
        )

    def valid(self, action):
        return valid_action(self.action_space, action)


@final
class DiscreteHead(AbstractActionHead):
    """Categorical over the `Discrete` values (masks supported)."""

    action_space: Discrete
    linear: eqx.nn.Linear

    def __init__(
        self, in_size: int, action_space: Discrete, *, gain: float, key: Key[Array, ""]
    ):
        self.action_space = action_space
        self.linear = orthogonal_linear(in_size, action_space.n, gain=gain, key=key)

    def distribution(self, features, action_mask=None):
        distribution = Categorical(logits=self.linear(features))
        if action_mask is None:
            return distribution
        shape = (self.action_space.n,)
        return distribution.mask(check_mask_shape(action_mask, shape, "The policy"))

    def encode(self, action):
        return jnp.asarray(action) - self.action_space.start

    def decode(self, value):
        return (value + self.action_space.start).astype(jnp.int32)

    def valid(self, action):
        return action


@final
class MultiDiscreteHead(AbstractActionHead):
    """Independent categoricals, one per `MultiDiscrete` entry (masks supported)."""

    action_space: MultiDiscrete
    linear: eqx.nn.Linear

    def __init__(
        self,
        in_size: int,
        action_space: MultiDiscrete,
        *,
        gain: float,
        key: Key[Array, ""],
    ):
        self.action_space = action_space
        self.linear = orthogonal_linear(
            in_size, action_space.flat_size, gain=gain, key=key
        )

    def distribution(self, features, action_mask=None):
        dims = tuple(int(n) for n in self.action_space.nvec.reshape(-1))
        distribution = MultiCategorical(logits=self.linear(features), action_dims=dims)
        if action_mask is None:
            return distribution
        padded = self.action_space.padded_mask(action_mask)
        return distribution.mask(jnp.reshape(padded, (len(dims), -1)))

    def encode(self, action):
        return jnp.reshape(jnp.asarray(action) - self.action_space.start, (-1,))

    def decode(self, value):
        space = self.action_space
        return (jnp.reshape(value, space.shape) + space.start).astype(jnp.int32)

    def valid(self, action):
        return action


@final
class MultiBinaryHead(AbstractActionHead):
    """Independent Bernoullis, one per `MultiBinary` bit (masks supported)."""

    action_space: MultiBinary
    linear: eqx.nn.Linear

    def __init__(
        self,
        in_size: int,
        action_space: MultiBinary,
        *,
        gain: float,
        key: Key[Array, ""],
    ):
        self.action_space = action_space
        self.linear = orthogonal_linear(
            in_size, action_space.flat_size, gain=gain, key=key
        )

    def distribution(self, features, action_mask=None):
        distribution = Bernoulli(logits=self.linear(features))
        if action_mask is None:
            return distribution
        mask = check_mask_shape(action_mask, self.action_space.shape, "The policy")
        return distribution.mask(jnp.reshape(mask.astype(bool), (-1,)))

    def encode(self, action):
        return jnp.reshape(jnp.asarray(action).astype(bool), (-1,))

    def decode(self, value):
        return jnp.reshape(value.astype(bool), self.action_space.shape)

    def valid(self, action):
        return action


def make_action_head(
    in_size: int,
    action_space: AbstractSpace,
    *,
    key: Key[Array, ""],
    log_std_init: float = 0.0,
    gain: float = 0.01,
    owner: str = "make_action_head",
) -> AbstractActionHead:
    """The action head for `action_space`.

    Args:
        in_size: Size of the features.
        action_space: The action space.
        key: A JAX PRNG key for the output layer.
        log_std_init: Initial log standard deviation (Box actions).
        gain: Gain of the orthogonal output layer.
        owner: The policy class building the head, named in errors.

    Raises:
        TypeError: For composite (`Dict`/`Tuple`) action spaces, and for
            integer or boolean Box action spaces.
        ValueError: If `log_std_init` is not finite (Box action spaces).
    """
    if isinstance(action_space, Box):
        # checked here too, so that the errors name the policy being built
        require_float_box(action_space, owner)
        check_finite(owner, log_std_init=log_std_init)
        return BoxHead(
            in_size, action_space, log_std_init=log_std_init, gain=gain, key=key
        )
    if isinstance(action_space, Discrete):
        return DiscreteHead(in_size, action_space, gain=gain, key=key)
    if isinstance(action_space, MultiDiscrete):
        return MultiDiscreteHead(in_size, action_space, gain=gain, key=key)
    if isinstance(action_space, MultiBinary):
        return MultiBinaryHead(in_size, action_space, gain=gain, key=key)
    raise TypeError(
        f"No action head for {action_space!r}: lerax policies support Box, Discrete, "
        "MultiDiscrete and MultiBinary action spaces."
    )
