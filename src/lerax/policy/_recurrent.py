"""Recurrent actor-critic policies (GRU and LSTM cores)."""

from collections.abc import Callable
from typing import Any, ClassVar, Literal, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Key

from ..space import AbstractSpace
from ._action_head import AbstractActionHead, make_action_head
from ._actor_critic import AbstractFeatureActorCriticPolicy
from ._base import AbstractPolicyState, spaces_of
from ._networks import Network, check_activation, check_sizes, mlp


@final
class RecurrentPolicyState(AbstractPolicyState):
    """Hidden state of a recurrent policy.

    Attributes:
        hidden: The core's hidden vector; for an LSTM, the hidden and cell
            vectors stacked as `(2, hidden_size)`.
    """

    hidden: Float[Array, "..."]


@final
class RecurrentActorCriticPolicy(AbstractFeatureActorCriticPolicy):
    """Actor-critic with a recurrent core, for partially observed tasks.

    The flattened observation goes through an MLP encoder, then a GRU or LSTM
    cell whose hidden state is the policy state; the actor head and the value
    network read the new hidden vector. `reset` returns zeros. Algorithms
    reset the state at episode boundaries and re-run the core over stored
    sequences for the loss (backpropagation through time).

    Attributes:
        observation_space: The observation space.
        action_space: The action space.
        cell_type: ``"gru"`` or ``"lstm"``.
        hidden_size: Size of the recurrent hidden vector.
        encoder: Observation encoder (None when `feature_depth == 0`).
        cell: The recurrent cell.
        action_head: Output layer and action distribution.
        critic: Value network on the hidden vector.
    """

    name: ClassVar[str] = "RecurrentActorCriticPolicy"
    observation_space: AbstractSpace
    action_space: AbstractSpace
    cell_type: str = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    encoder: Network | None
    cell: eqx.nn.GRUCell | eqx.nn.LSTMCell
    action_head: AbstractActionHead
    critic: eqx.nn.MLP

    def __init__(
        self,
        env: Any,
        *,
        cell: Literal["gru", "lstm"] = "gru",
        hidden_size: int = 64,
        feature_width: int = 64,
        feature_depth: int = 1,
        value_width: int = 64,
        value_depth: int = 1,
        activation: Callable[[Array], Array] = jax.nn.tanh,
        log_std_init: float = 0.0,
        key: Key[Array, ""],
    ):
        """Builds the policy for `env`'s spaces.

        Args:
            env: An env (or an `(observation_space, action_space)` pair).
            cell: The recurrent core, ``"gru"`` or ``"lstm"``.
            hidden_size: Size of the hidden vector.
            feature_width: Width of the encoder's layers.
            feature_depth: Layers of the encoder (0: the cell reads the
                flattened observation directly).
            value_width: Hidden width of the value network.
            value_depth: Hidden layers of the value network.
            activation: Activation of the encoder and value network.
            log_std_init: Initial log standard deviation (Box actions).
            key: A JAX PRNG key for the initial weights.

        Raises:
            TypeError: If `activation` is not callable, or the action space
                is an integer or boolean Box.
            ValueError: If `cell` is not "gru" or "lstm", or a size is not an
                int (Python or NumPy), or a width or size is < 1, or a depth
                < 0, or `log_std_init` is not finite.
        """
        check_activation("RecurrentActorCriticPolicy", activation=activation)
        if cell not in ("gru", "lstm"):
            raise ValueError(
                f"`RecurrentActorCriticPolicy(cell=...)` must be 'gru' or 'lstm', got {cell!r}."
            )
        hidden_size, feature_width, feature_depth, value_width, value_depth = (
            check_sizes(
                "RecurrentActorCriticPolicy",
                hidden_size=hidden_size,
                feature_width=feature_width,
                feature_depth=feature_depth,
                value_width=value_width,
                value_depth=value_depth,
            )
        )
        self.observation_space, self.action_space = spaces_of(env)
        self.cell_type = cell
        self.hidden_size = hidden_size
        k_encoder, k_cell, k_head, k_critic = jax.random.split(key, 4)
        size = self.observation_space.flat_size
        if feature_depth > 0:
            self.encoder = mlp(
                size,
                feature_width,
                feature_width,
                feature_depth - 1,
                activation,
                out_gain=2**0.5,
                final_activation=activation,
                key=k_encoder,
            )
            size = feature_width
        else:
            self.encoder = None
        cell_class = eqx.nn.GRUCell if cell == "gru" else eqx.nn.LSTMCell
        # float32 like the other layers (and `reset`), also with jax_enable_x64
        self.cell = cell_class(size, hidden_size, dtype=jnp.float32, key=k_cell)
        self.action_head = make_action_head(
            hidden_size,
            self.action_space,
            log_std_init=log_std_init,
            key=k_head,
            owner="RecurrentActorCriticPolicy",
        )
        self.critic = mlp(
            hidden_size,
            1,
            value_width,
            value_depth,
            activation,
            out_gain=1.0,
            key=k_critic,
        )

    def reset(self, *, key: Key[Array, ""]) -> RecurrentPolicyState:
        del key
        return RecurrentPolicyState(jnp.zeros(self._hidden_shape(), jnp.float32))

    def _hidden_shape(self) -> tuple[int, ...]:
        """Shape of the hidden state of one observation."""
        if self.cell_type == "gru":
            return (self.hidden_size,)
        return (2, self.hidden_size)

    def _check_state(self, state: Any) -> None:
        """Raises (trace-time) unless `state` is this policy's state.

        Raises:
            TypeError: If `state` is not a `RecurrentPolicyState`.
            ValueError: If its hidden vector has another shape (e.g. an LSTM
                policy's state given to a GRU policy).
        """
        fix = (
            "get the initial state with `state = policy.reset(key=...)` and "
            "pass on the state each call returns"
        )
        if not isinstance(state, RecurrentPolicyState):
            raise TypeError(
                f"`{self.name}` needs its recurrent state, a `RecurrentPolicyState`, "
                f"got {type(state).__name__}: {fix}."
            )
        shape = jnp.shape(state.hidden)
        expected = self._hidden_shape()
        if shape != expected:
            raise ValueError(
                f"`{self.name}` (cell={self.cell_type!r}, hidden_size="
                f"{self.hidden_size}) needs a hidden state of shape {expected}, got "
                f"{shape} (the state of another policy, or a batch of states: map "
                f"a batch with `jax.vmap`); {fix}."
            )

    def forward(self, state: RecurrentPolicyState, observation: Any):
        self._check_state(state)
        features = self.observation_space.flatten_sample(observation)
        if self.encoder is not None:
            features = self.encoder(features)
        if self.cell_type == "gru":
            hidden = self.cell(features, state.hidden)
            new_state, output = RecurrentPolicyState(hidden), hidden
        else:
            h, c = self.cell(features, (state.hidden[0], state.hidden[1]))
            new_state, output = RecurrentPolicyState(jnp.stack([h, c])), h
        return new_state, output, self.critic(output)[0]
