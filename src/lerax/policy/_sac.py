"""Stochastic policies for soft actor-critic (continuous and discrete)."""

import abc
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ..distribution import (
    AbstractDistribution,
    Categorical,
    SquashedMultivariateNormalDiag,
)
from ..space import AbstractSpace, Box, Discrete
from ._action_head import check_mask_shape
from ._base import AbstractPolicy, spaces_of
from ._deterministic import require_bounded_box
from ._networks import (
    Network,
    check_activation,
    check_size,
    check_sizes,
    mlp,
    orthogonal_linear,
)

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0


class AbstractSACPolicy(AbstractPolicy):
    """A stochastic policy exposing its action distribution and log-probabilities."""

    @abc.abstractmethod
    def action_distribution(
        self, state: Any, observation: Any, *, action_mask: Any = None
    ) -> tuple[Any, AbstractDistribution]:
        """Returns `(new_state, distribution)` over actions."""

    @abc.abstractmethod
    def action_and_log_prob(
        self,
        state: Any,
        observation: Any,
        *,
        key: Key[Array, ""],
        action_mask: Any = None,
    ) -> tuple[Any, Any, Float[Array, ""]]:
        """Samples an action; returns `(new_state, action, log_prob)`."""


class AbstractDiscreteSACPolicy(AbstractSACPolicy):
    """A categorical SAC policy over a `Discrete` action space that exposes
    the probabilities of all actions (for SAC-Discrete's expectations).

    Attributes:
        action_space: The Discrete action space.
    """

    action_space: eqx.AbstractVar[Discrete]

    @abc.abstractmethod
    def action_probs_and_log_probs(
        self,
        state: Any,
        observation: Any,
        *,
        action_mask: Bool[Array, " n"] | None = None,
    ) -> tuple[Any, Float[Array, " n"], Float[Array, " n"]]:
        """Returns `(new_state, probs, log_probs)` over all actions (masked
        actions get probability 0 and log-probability -inf)."""


def _require_squashable(space: Box) -> None:
    """Raises `ValueError` unless the squashed Gaussian can map onto `space`:
    `low < high` with a finite float32 width in every dimension. Checked
    when the policy is built; otherwise its first call failed, naming the
    distribution rather than the policy and its action space.
    """
    low = np.asarray(space.low, np.float32)
    high = np.asarray(space.high, np.float32)
    with np.errstate(over="ignore"):
        width = high - low
    if np.all(low < high) and np.all(np.isfinite(width)):
        return
    if np.any(low >= high):
        problem = (
            "a dimension with low == high in float32 (a fixed action): remove "
            "it from the action space (e.g. with `lerax.wrapper.TransformAction`)"
        )
    else:
        problem = (
            "a width high - low that overflows float32: wrap the env in "
            "`lerax.wrapper.RescaleAction` (actions in [-1, 1])"
        )
    raise ValueError(
        "`MLPSACPolicy` squashes its actions onto the action bounds with tanh, "
        "which needs low < high and a finite float32 width high - low in every "
        f"dimension; {space!r} has {problem}."
    )


@final
class MLPSACPolicy(AbstractSACPolicy):
    """Squashed-Gaussian policy: an MLP encoder, a mean head and a
    state-dependent log-std head (softly limited to [-5, 2]); samples are
    squashed with tanh onto the action bounds. The deterministic action is
    the squashed mean.

    Attributes:
        observation_space: The observation space.
        action_space: The bounded Box action space.
        encoder: Shared MLP encoder (activated output).
        mean_head: Linear layer for the pre-squash mean.
        log_std_head: Linear layer for the pre-squash log standard deviation.
    """

    name: ClassVar[str] = "MLPSACPolicy"
    observation_space: AbstractSpace
    action_space: Box
    encoder: Network
    mean_head: eqx.nn.Linear
    log_std_head: eqx.nn.Linear

    def __init__(
        self,
        env: Any,
        *,
        feature_size: int = 256,
        width_size: int = 256,
        depth: int = 2,
        activation=jax.nn.relu,
        key: Key[Array, ""],
    ):
        """Builds the policy.

        Args:
            env: An env (or an `(observation_space, action_space)` pair) with a
                bounded `Box` action space.
            feature_size: Size of the encoder output.
            width_size: Hidden width of the encoder.
            depth: Layers of the encoder (>= 1).
            activation: Hidden activation.
            key: A JAX PRNG key.

        Raises:
            TypeError: If the action space is not a floating-point `Box`, or
                `activation` is not callable.
            ValueError: If the action bounds are not finite, or not
                `low < high` with a width `high - low` finite in float32 in
                every dimension, or a size is not an int (Python or NumPy), or
                `feature_size`, `width_size` or `depth` is < 1.
        """
        feature_size, width_size = check_sizes(
            "MLPSACPolicy", feature_size=feature_size, width_size=width_size
        )
        # the encoder's output layer is the first layer: at least one
        depth = check_size("MLPSACPolicy", "depth", depth, minimum=1)
        check_activation("MLPSACPolicy", activation=activation)
        self.observation_space, action_space = spaces_of(env)
        self.action_space = require_bounded_box(action_space, "MLPSACPolicy")
        _require_squashable(self.action_space)
        k_encoder, k_mean, k_std = jax.random.split(key, 3)
        self.encoder = mlp(
            self.observation_space.flat_size,
            feature_size,
            width_size,
            depth - 1,
            activation,
            out_gain=2**0.5,
            final_activation=activation,
            key=k_encoder,
        )
        self.mean_head = orthogonal_linear(
            feature_size, action_space.flat_size, gain=0.01, key=k_mean
        )
        self.log_std_head = orthogonal_linear(
            feature_size, action_space.flat_size, gain=0.01, key=k_std
        )

    def action_distribution(
        self, state: None, observation: Any, *, action_mask: None = None
    ):
        del action_mask
        features = self.encoder(self.observation_space.flatten_sample(observation))
        mean = self.mean_head(features)
        log_std = jnp.tanh(self.log_std_head(features))
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (log_std + 1)
        space = self.action_space
        low = np.asarray(space.low, np.float32).reshape(-1)
        high = np.asarray(space.high, np.float32).reshape(-1)
        return state, SquashedMultivariateNormalDiag(
            mean, jnp.exp(log_std), high=high, low=low
        )

    def action_and_log_prob(
        self,
        state: None,
        observation: Any,
        *,
        key: Key[Array, ""],
        action_mask: None = None,
    ):
        state, distribution = self.action_distribution(state, observation)
        flat, log_prob = distribution.sample_and_log_prob(key)
        return state, self._action(flat), log_prob

    def __call__(
        self,
        state: None,
        observation: Any,
        *,
        key: Key[Array, ""] | None = None,
        action_mask: None = None,
    ):
        state, distribution = self.action_distribution(state, observation)
        flat = distribution.mode() if key is None else distribution.sample(key)
        return state, self._action(flat)

    def _action(self, flat: Float[Array, " n"]) -> Float[Array, "..."]:
        """A flat sample as an action: the space's shape and dtype."""
        space = self.action_space
        return jnp.reshape(flat, space.shape).astype(space.dtype)

    def reset(self, *, key: Key[Array, ""]) -> None:
        del key
        return None


@final
class MLPDiscreteSACPolicy(AbstractDiscreteSACPolicy):
    """Categorical policy for SAC-Discrete: an MLP to one logit per action.

    Attributes:
        observation_space: The observation space.
        action_space: The Discrete action space.
        network: The logits network.
    """

    name: ClassVar[str] = "MLPDiscreteSACPolicy"
    observation_space: AbstractSpace
    action_space: Discrete
    network: eqx.nn.MLP

    def __init__(
        self,
        env: Any,
        *,
        width_size: int = 256,
        depth: int = 2,
        activation=jax.nn.relu,
        key: Key[Array, ""],
    ):
        """Builds the policy.

        Args:
            env: An env (or an `(observation_space, action_space)` pair) with a
                `Discrete` action space.
            width_size: Hidden width.
            depth: Hidden layers.
            activation: Hidden activation.
            key: A JAX PRNG key.

        Raises:
            TypeError: If the action space is not `Discrete`, or `activation`
                is not callable.
            ValueError: If a size is not an int (Python or NumPy), or
                `width_size` < 1 or `depth` < 0.
        """
        width_size, depth = check_sizes(
            "MLPDiscreteSACPolicy", width_size=width_size, depth=depth
        )
        check_activation("MLPDiscreteSACPolicy", activation=activation)
        self.observation_space, action_space = spaces_of(env)
        if not isinstance(action_space, Discrete):
            raise TypeError(
                f"`MLPDiscreteSACPolicy` needs a Discrete action space, got {action_space!r}."
            )
        self.action_space = action_space
        self.network = mlp(
            self.observation_space.flat_size,
            action_space.n,
            width_size,
            depth,
            activation,
            out_gain=0.01,
            key=key,
        )

    def action_distribution(
        self,
        state: None,
        observation: Any,
        *,
        action_mask: Bool[Array, " n"] | None = None,
    ):
        logits = self.network(self.observation_space.flatten_sample(observation))
        distribution = Categorical(logits=logits)
        if action_mask is None:
            return state, distribution
        mask = check_mask_shape(action_mask, logits.shape, self.name)
        return state, distribution.mask(mask)

    def action_probs_and_log_probs(
        self,
        state: None,
        observation: Any,
        *,
        action_mask: Bool[Array, " n"] | None = None,
    ):
        """Returns `(new_state, probs, log_probs)` over all actions (masked
        actions get probability 0 and log-probability -inf)."""
        state, distribution = self.action_distribution(
            state, observation, action_mask=action_mask
        )
        return state, distribution.probs, distribution.logits

    def action_and_log_prob(
        self,
        state: None,
        observation: Any,
        *,
        key: Key[Array, ""],
        action_mask: Bool[Array, " n"] | None = None,
    ):
        state, distribution = self.action_distribution(
            state, observation, action_mask=action_mask
        )
        index, log_prob = distribution.sample_and_log_prob(key)
        return state, (index + self.action_space.start).astype(jnp.int32), log_prob

    def __call__(
        self,
        state: None,
        observation: Any,
        *,
        key: Key[Array, ""] | None = None,
        action_mask: Bool[Array, " n"] | None = None,
    ):
        state, distribution = self.action_distribution(
            state, observation, action_mask=action_mask
        )
        index = distribution.mode() if key is None else distribution.sample(key)
        return state, (index + self.action_space.start).astype(jnp.int32)

    def reset(self, *, key: Key[Array, ""]) -> None:
        del key
        return None
