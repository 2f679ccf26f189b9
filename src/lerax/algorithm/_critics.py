"""Critics built from the spaces: state-action value networks."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Key

from ..policy._networks import mlp
from ..space import AbstractSpace


@final
class QNetwork(eqx.Module):
    """`Q(s, a)`: an MLP on the flattened observation and action.

    Attributes:
        observation_space: The observation space.
        action_space: The action space.
        network: The MLP.
    """

    observation_space: AbstractSpace
    action_space: AbstractSpace
    network: eqx.nn.MLP

    def __init__(
        self,
        observation_space: AbstractSpace,
        action_space: AbstractSpace,
        *,
        width_size: int = 256,
        depth: int = 2,
        key: Key[Array, ""],
    ):
        self.observation_space = observation_space
        self.action_space = action_space
        size = observation_space.flat_size + action_space.flat_size
        self.network = mlp(
            size, 1, width_size, depth, jax.nn.relu, out_gain=1.0, key=key
        )

    def __call__(self, observation: Any, action: Any) -> Float[Array, ""]:
        features = jnp.concatenate(
            [
                self.observation_space.flatten_sample(observation),
                self.action_space.flatten_sample(action),
            ]
        )
        return self.network(features)[0]


def twin_q(
    observation_space: AbstractSpace,
    action_space: AbstractSpace,
    *,
    width_size: int,
    depth: int,
    key: Key[Array, ""],
    count: int = 2,
) -> QNetwork:
    """`count` independent `QNetwork`s stacked along a leading axis of their
    arrays (evaluate with `twin_values`)."""
    build = lambda k: QNetwork(  # noqa: E731
        observation_space, action_space, width_size=width_size, depth=depth, key=k
    )
    return eqx.filter_vmap(build)(jr.split(key, count))


def twin_values(critics: QNetwork, observation: Any, action: Any) -> Float[Array, " n"]:
    """Every stacked critic's value for one `(observation, action)`.

    The critics are evaluated one by one rather than with `vmap` over the
    stacked axis: vmapped, their matrix products become batched products,
    which XLA's CPU backend runs on a slower path (a SAC gradient step on
    Pendulum measured 9-15 % faster this way)."""
    count = jax.tree.leaves(eqx.filter(critics, eqx.is_array))[0].shape[0]
    return jnp.stack([_select(critics, i)(observation, action) for i in range(count)])


def _select(critics: QNetwork, index: int) -> QNetwork:
    return jax.tree.map(lambda x: x[index] if eqx.is_array(x) else x, critics)
