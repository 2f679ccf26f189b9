"""Deterministic continuous-action policies (DDPG, TD3)."""

from typing import Any, ClassVar, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, Key

from ..space import AbstractSpace, Box
from ..utils._checks import check_non_negative
from ._action_head import require_float_box
from ._base import AbstractPolicy, spaces_of
from ._networks import Network, check_activation, check_sizes, mlp


def require_bounded_box(space: AbstractSpace, owner: str) -> Box:
    """Returns `space` if it is a floating-point Box with finite bounds, else
    raises `TypeError` (not a Box, or an integer or boolean one) or
    `ValueError` (unbounded)."""
    if not isinstance(space, Box):
        raise TypeError(f"`{owner}` needs a Box action space, got {space!r}.")
    require_float_box(space, owner)
    if not space.is_bounded():
        raise ValueError(
            f"`{owner}` needs finite action bounds, got {space!r}; wrap the env in "
            "`lerax.wrapper.RescaleAction` or give the Box finite bounds."
        )
    return space


class AbstractDeterministicPolicy(AbstractPolicy):
    """A policy for a Box action space whose action, without a key, is a
    deterministic function of the observation (and state), as trained by
    DDPG and TD3; with a key it may explore (e.g. add noise).

    Subclasses implement `__call__` and `reset`; the algorithms take the
    deterministic action as `policy(state, observation)` (differentiated
    for the actor loss) and explore with `policy(state, observation,
    key=key)`.

    Attributes:
        action_space: The Box action space.
    """

    action_space: eqx.AbstractVar[Box]


def add_exploration_noise(
    space: Box,
    action: Float[Array, "..."],
    noise: float | Float[Array, ""],
    *,
    key: Key[Array, ""],
) -> Float[Array, "..."]:
    """`action` plus Gaussian noise, clipped to the bounds of `space` and
    cast to its dtype.

    Args:
        space: The bounded Box action space.
        action: A deterministic action.
        noise: Standard deviation of the noise, as a fraction of half the
            action range.
        key: A JAX PRNG key.
    """
    # high / 2 - low / 2 is finite for any finite bounds; high - low may
    # overflow (e.g. +-3e38 in float32), which made every noisy action a bound.
    scale = np.asarray(space.high) / 2 - np.asarray(space.low) / 2
    perturbed = action + jr.normal(key, space.shape) * noise * scale
    return jnp.clip(perturbed, space.low, space.high).astype(space.dtype)


@final
class MLPDeterministicPolicy(AbstractDeterministicPolicy):
    """An MLP with a tanh output rescaled onto the (finite) action bounds.

    Attributes:
        observation_space: The observation space.
        action_space: The bounded Box action space.
        exploration_noise: Standard deviation of the exploration noise, as a
            fraction of half the action range.
        network: The actor network.
    """

    name: ClassVar[str] = "MLPDeterministicPolicy"
    observation_space: AbstractSpace
    action_space: Box
    exploration_noise: float
    network: Network

    def __init__(
        self,
        env: Any,
        *,
        width_size: int = 256,
        depth: int = 2,
        exploration_noise: float = 0.1,
        activation=jax.nn.relu,
        key: Key[Array, ""],
    ):
        """Builds the policy.

        Args:
            env: An env (or an `(observation_space, action_space)` pair) with a
                bounded `Box` action space.
            width_size: Hidden width.
            depth: Hidden layers.
            exploration_noise: Noise scale (fraction of half the range, >= 0).
            activation: Hidden activation.
            key: A JAX PRNG key.

        Raises:
            TypeError: If the action space is not a floating-point `Box`, or
                `activation` is not callable.
            ValueError: If the action bounds are not finite,
                `exploration_noise` < 0, or a size is not an int (Python or
                NumPy), or `width_size` < 1 or `depth` < 0.
        """
        width_size, depth = check_sizes(
            "MLPDeterministicPolicy", width_size=width_size, depth=depth
        )
        check_activation("MLPDeterministicPolicy", activation=activation)
        self.observation_space, action_space = spaces_of(env)
        self.action_space = require_bounded_box(action_space, "MLPDeterministicPolicy")
        check_non_negative(
            "MLPDeterministicPolicy", exploration_noise=exploration_noise
        )
        self.exploration_noise = exploration_noise
        self.network = mlp(
            self.observation_space.flat_size,
            action_space.flat_size,
            width_size,
            depth,
            activation,
            out_gain=1.0,
            final_activation=jax.nn.tanh,
            key=key,
        )

    def deterministic_action(
        self, state: None, observation: Any
    ) -> tuple[None, Float[Array, "..."]]:
        """Returns `(new_state, action)` without noise, inside the bounds."""
        space = self.action_space
        unit = self.network(self.observation_space.flatten_sample(observation))
        # Halving before subtracting (adding) keeps both finite for any finite
        # bounds: (high - low) / 2 overflows for e.g. +-3e38 in float32, which
        # put every action on a bound whatever the network's output. Computed
        # in the Box's precision where it exceeds float32 (a float64 Box with
        # jax_enable_x64).
        compute = np.promote_types(space.dtype, np.float32)
        high = np.asarray(space.high, np.float64).reshape(-1)
        low = np.asarray(space.low, np.float64).reshape(-1)
        scale = (high / 2 - low / 2).astype(compute)
        middle = (high / 2 + low / 2).astype(compute)
        action = jnp.reshape(middle + scale * unit, space.shape)
        return state, jnp.clip(action, space.low, space.high).astype(space.dtype)

    def __call__(
        self,
        state: None,
        observation: Any,
        *,
        key: Key[Array, ""] | None = None,
        action_mask: None = None,
    ) -> tuple[None, Float[Array, "..."]]:
        """The deterministic action without a key; with one, Gaussian noise of
        standard deviation `exploration_noise` (times half the range) added
        and the result clipped to the bounds."""
        del action_mask
        state, action = self.deterministic_action(state, observation)
        if key is None:
            return state, action
        return state, add_exploration_noise(
            self.action_space, action, self.exploration_noise, key=key
        )

    def reset(self, *, key: Key[Array, ""]) -> None:
        del key
        return None
