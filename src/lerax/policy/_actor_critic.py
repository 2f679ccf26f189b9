"""Actor-critic policies: an action distribution and a state-value estimate."""

import abc
from collections.abc import Callable
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Key

from ..space import AbstractSpace
from ._action_head import AbstractActionHead, make_action_head
from ._base import AbstractPolicy, spaces_of
from ._networks import Network, check_activation, check_sizes, mlp


class AbstractActorCriticPolicy(AbstractPolicy):
    """A policy with a value function, as used by PPO, A2C and REINFORCE.

    Subclasses implement `action_and_value`, `evaluate_action` and `value`
    (plus `__call__` and `reset`, as every policy). To write only a feature
    network, subclass `AbstractFeatureActorCriticPolicy` instead: it needs
    just `forward` (features for the actor and the value) and an
    `action_head`, and implements the rest for every supported action space.
    """

    @abc.abstractmethod
    def action_and_value(
        self,
        state: Any,
        observation: Any,
        *,
        key: Key[Array, ""],
        action_mask: Any = None,
    ) -> tuple[Any, Any, Float[Array, ""], Float[Array, ""]]:
        """Samples an action and returns it with the value and its log-probability.

        Returns:
            `(new_state, action, value, log_prob)`; `log_prob` is that of the
            returned action, summed over its components.
        """

    @abc.abstractmethod
    def evaluate_action(
        self, state: Any, observation: Any, action: Any, *, action_mask: Any = None
    ) -> tuple[Any, Float[Array, ""], Float[Array, ""], Float[Array, ""]]:
        """Scores a given action (for the policy-gradient loss).

        Returns:
            `(new_state, value, log_prob, entropy)`.
        """

    @abc.abstractmethod
    def value(self, state: Any, observation: Any) -> tuple[Any, Float[Array, ""]]:
        """Returns `(new_state, value)`."""


def _rounds(raw: Array, action: Array) -> bool:
    """Whether decoding `raw` into `action` can change its value (trace-time):
    the action's dtype cannot hold every value of the raw dtype (a float32
    sample cast to a float16 or bfloat16 Box)."""
    return jnp.promote_types(raw.dtype, action.dtype) != action.dtype


class AbstractFeatureActorCriticPolicy(AbstractActorCriticPolicy):
    """An actor-critic policy written as a feature network and an action head.

    Subclasses provide `forward` (features for the actor and the value) and
    an `action_head`; `action_and_value`, `evaluate_action`, `value` and
    `__call__` are written once here.

    Attributes:
        action_head: Maps actor features to the action distribution.
    """

    action_head: eqx.AbstractVar[AbstractActionHead]

    @abc.abstractmethod
    def forward(
        self, state: Any, observation: Any
    ) -> tuple[Any, Float[Array, " f"], Float[Array, ""]]:
        """Returns `(new_state, actor_features, value)` for one observation."""

    def action_and_value(
        self,
        state: Any,
        observation: Any,
        *,
        key: Key[Array, ""],
        action_mask: Any = None,
    ) -> tuple[Any, Any, Float[Array, ""], Float[Array, ""]]:
        """Samples an action and returns it with the value and its log-probability.

        Returns:
            `(new_state, action, value, log_prob)`; `log_prob` is that of the
            returned action, summed over its components.
        """
        state, features, value = self.forward(state, observation)
        distribution = self.action_head.distribution(features, action_mask)
        raw, log_prob = distribution.sample_and_log_prob(key)
        action = self.action_head.decode(raw)
        if _rounds(raw, action):
            # the cast to the space's dtype rounded the sample: score the
            # action returned (the one stored and re-scored by the loss)
            return state, action, value, self.action_head.log_prob(distribution, action)
        # decode only reshapes and shifts, so the raw value's log-probability
        # is the action's (summed over its components)
        return state, action, value, jnp.sum(log_prob)

    def evaluate_action(
        self, state: Any, observation: Any, action: Any, *, action_mask: Any = None
    ) -> tuple[Any, Float[Array, ""], Float[Array, ""], Float[Array, ""]]:
        """Scores a given action (for the policy-gradient loss).

        Returns:
            `(new_state, value, log_prob, entropy)`.
        """
        state, features, value = self.forward(state, observation)
        distribution = self.action_head.distribution(features, action_mask)
        log_prob = self.action_head.log_prob(distribution, action)
        return state, value, log_prob, self.action_head.entropy(distribution)

    def value(self, state: Any, observation: Any) -> tuple[Any, Float[Array, ""]]:
        """Returns `(new_state, value)`."""
        state, _, value = self.forward(state, observation)
        return state, value

    def __call__(
        self,
        state: Any,
        observation: Any,
        *,
        key: Key[Array, ""] | None = None,
        action_mask: Any = None,
    ):
        """The distribution's mode without a key, a sample with one (clipped
        into a Box); returns `(new_state, action)`."""
        state, features, _ = self.forward(state, observation)
        distribution = self.action_head.distribution(features, action_mask)
        raw = distribution.mode() if key is None else distribution.sample(key)
        return state, self.action_head.valid(self.action_head.decode(raw))


def _trunk(in_size: int, width: int, depth: int, activation, key) -> Network | None:
    """`depth` hidden layers of `width` units (None when depth is 0)."""
    if depth == 0:
        return None
    return mlp(
        in_size,
        width,
        width,
        depth - 1,
        activation,
        out_gain=2**0.5,
        final_activation=activation,
        key=key,
    )


@final
class MLPActorCriticPolicy(AbstractFeatureActorCriticPolicy):
    """Actor-critic with multilayer perceptrons, for any flattenable observation
    space and Box, Discrete, MultiDiscrete or MultiBinary actions.

    Observations are flattened (`observation_space.flatten_sample`), passed
    through an optional shared encoder (`feature_depth > 0`), then through a
    separate actor trunk and value network. With the defaults this is
    Stable-Baselines3's PPO network: separate 64x64 tanh actor and critic.
    Weights are orthogonal (gain sqrt 2 in hidden layers, 0.01 on the policy
    output, 1 on the value output); `Box` actions use a state-independent
    log standard deviation starting at `log_std_init`.

    Attributes:
        observation_space: The observation space.
        action_space: The action space.
        encoder: Shared encoder (None when `feature_depth == 0`).
        actor: Actor trunk (None when `action_depth == 0`).
        action_head: Output layer and action distribution.
        critic: Value network.
    """

    name: ClassVar[str] = "MLPActorCriticPolicy"
    observation_space: AbstractSpace
    action_space: AbstractSpace
    encoder: Network | None
    actor: Network | None
    action_head: AbstractActionHead
    critic: eqx.nn.MLP

    def __init__(
        self,
        env: Any,
        *,
        feature_size: int = 64,
        feature_width: int = 64,
        feature_depth: int = 0,
        value_width: int = 64,
        value_depth: int = 2,
        action_width: int = 64,
        action_depth: int = 2,
        activation: Callable[[Array], Array] = jax.nn.tanh,
        log_std_init: float = 0.0,
        key: Key[Array, ""],
    ):
        """Builds the policy for `env`'s spaces.

        Args:
            env: An env (or an `(observation_space, action_space)` pair).
            feature_size: Output size of the shared encoder.
            feature_width: Hidden width of the shared encoder.
            feature_depth: Layers of the shared encoder (0: no shared encoder).
            value_width: Hidden width of the value network.
            value_depth: Hidden layers of the value network.
            action_width: Hidden width of the actor trunk.
            action_depth: Hidden layers of the actor trunk.
            activation: Activation function of all hidden layers.
            log_std_init: Initial log standard deviation (Box actions).
            key: A JAX PRNG key for the initial weights.

        Raises:
            TypeError: If `activation` is not callable, or the action space
                is an integer or boolean Box.
            ValueError: If a size is not an int (Python or NumPy), or a width
                or size is < 1, or a depth < 0, or `log_std_init` is not
                finite.
        """
        check_activation("MLPActorCriticPolicy", activation=activation)
        (
            feature_size,
            feature_width,
            feature_depth,
            value_width,
            value_depth,
            action_width,
            action_depth,
        ) = check_sizes(
            "MLPActorCriticPolicy",
            feature_size=feature_size,
            feature_width=feature_width,
            feature_depth=feature_depth,
            value_width=value_width,
            value_depth=value_depth,
            action_width=action_width,
            action_depth=action_depth,
        )
        self.observation_space, self.action_space = spaces_of(env)
        k_encoder, k_actor, k_head, k_critic = jax.random.split(key, 4)
        size = self.observation_space.flat_size
        if feature_depth > 0:
            self.encoder = mlp(
                size,
                feature_size,
                feature_width,
                feature_depth - 1,
                activation,
                out_gain=2**0.5,
                final_activation=activation,
                key=k_encoder,
            )
            size = feature_size
        else:
            self.encoder = None
        self.actor = _trunk(size, action_width, action_depth, activation, k_actor)
        head_size = action_width if action_depth > 0 else size
        self.action_head = make_action_head(
            head_size,
            self.action_space,
            log_std_init=log_std_init,
            key=k_head,
            owner="MLPActorCriticPolicy",
        )
        self.critic = mlp(
            size, 1, value_width, value_depth, activation, out_gain=1.0, key=k_critic
        )

    def forward(self, state: None, observation: Any):
        features = self.observation_space.flatten_sample(observation)
        if self.encoder is not None:
            features = self.encoder(features)
        actor_features = features if self.actor is None else self.actor(features)
        return state, actor_features, self.critic(features)[0]

    def reset(self, *, key: Key[Array, ""]) -> None:
        del key
        return None
