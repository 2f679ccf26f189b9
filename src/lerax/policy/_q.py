"""Q-value policies for discrete actions (DQN)."""

import abc
from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, Key

from ..space import AbstractSpace, Discrete
from ..utils._checks import check_unit_interval
from ._action_head import check_mask_shape
from ._base import AbstractPolicy, spaces_of
from ._networks import check_activation, check_sizes, mlp


class AbstractQPolicy(AbstractPolicy):
    """A policy that acts greedily on action values, epsilon-greedily with a key.

    With a key, the action is uniformly random among the allowed actions
    with probability `epsilon`, and greedy otherwise; without a key it is
    always greedy. Masked actions are never taken.

    Attributes:
        epsilon: Exploration probability.
    """

    epsilon: eqx.AbstractVar[float]
    action_space: eqx.AbstractVar[Discrete]

    @abc.abstractmethod
    def q_values(self, state: Any, observation: Any) -> tuple[Any, Float[Array, " n"]]:
        """Returns `(new_state, q)` with one value per action."""

    def __call__(
        self,
        state: Any,
        observation: Any,
        *,
        key: Key[Array, ""] | None = None,
        action_mask: Bool[Array, " n"] | None = None,
    ) -> tuple[Any, Int[Array, ""]]:
        state, q = self.q_values(state, observation)
        return state, self.select(
            q, key=key, action_mask=action_mask, epsilon=self.epsilon
        )

    def select(
        self,
        q: Float[Array, " n"],
        *,
        key: Key[Array, ""] | None,
        action_mask: Bool[Array, " n"] | None = None,
        epsilon: Float[Array, ""] | float | None = None,
    ) -> Int[Array, ""]:
        """Epsilon-greedy choice from action values (greedy when `key` is None).

        Args:
            q: One value per action.
            key: A JAX PRNG key, or None for the greedy action.
            action_mask: Allowed actions (None: all).
            epsilon: Exploration probability (default: the policy's).
        """
        epsilon = self.epsilon if epsilon is None else epsilon
        if action_mask is not None:
            action_mask = check_mask_shape(action_mask, q.shape, self.name)
            q = jnp.where(action_mask, q, -jnp.inf)
        greedy = jnp.argmax(q)
        if key is None:
            return (greedy + self.action_space.start).astype(jnp.int32)
        explore_key, action_key = jr.split(key)
        random = (
            self.action_space.sample(key=action_key, mask=action_mask)
            - self.action_space.start
        )
        action = jnp.where(jr.uniform(explore_key) < epsilon, random, greedy)
        return (action + self.action_space.start).astype(jnp.int32)


@final
class MLPQPolicy(AbstractQPolicy):
    """An MLP mapping the flattened observation to one Q-value per action.

    Attributes:
        observation_space: The observation space.
        action_space: The (Discrete) action space.
        epsilon: Exploration probability.
        q_network: The Q-network.
    """

    name: ClassVar[str] = "MLPQPolicy"
    observation_space: AbstractSpace
    action_space: Discrete
    epsilon: float
    q_network: eqx.nn.MLP

    def __init__(
        self,
        env: Any,
        *,
        epsilon: float = 0.1,
        width_size: int = 64,
        depth: int = 2,
        activation=jax.nn.relu,
        key: Key[Array, ""],
    ):
        """Builds the policy.

        Args:
            env: An env (or an `(observation_space, action_space)` pair) with a
                `Discrete` action space.
            epsilon: Exploration probability in [0, 1].
            width_size: Hidden width.
            depth: Hidden layers.
            activation: Hidden activation.
            key: A JAX PRNG key.

        Raises:
            TypeError: If the action space is not `Discrete`, or `activation`
                is not callable.
            ValueError: If `epsilon` is outside [0, 1], or a size is not an
                int (Python or NumPy), or `width_size` < 1 or `depth` < 0.
        """
        width_size, depth = check_sizes(
            "MLPQPolicy", width_size=width_size, depth=depth
        )
        check_activation("MLPQPolicy", activation=activation)
        self.observation_space, action_space = spaces_of(env)
        if not isinstance(action_space, Discrete):
            raise TypeError(
                f"`MLPQPolicy` needs a Discrete action space, got {action_space!r}."
            )
        check_unit_interval("MLPQPolicy", epsilon=epsilon)
        self.action_space = action_space
        self.epsilon = epsilon
        self.q_network = mlp(
            self.observation_space.flat_size,
            action_space.n,
            width_size,
            depth,
            activation,
            out_gain=1.0,
            key=key,
        )

    def q_values(self, state: None, observation: Any):
        return state, self.q_network(self.observation_space.flatten_sample(observation))

    def reset(self, *, key: Key[Array, ""]) -> None:
        del key
        return None
