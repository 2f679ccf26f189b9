"""A lerax env with every space kind, for the adapters' composite paths."""

from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, Int, Key

from lerax.env import AbstractEnv, AbstractEnvState
from lerax.space import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple


class CompositeState(AbstractEnvState):
    t: Int[Array, ""]
    key: Key[Array, ""]


class Composite(AbstractEnv):
    """Observations: a `Dict` of every space kind (sampled from the space);
    actions: a `Tuple` of `Discrete` (with a start), `Box`, `MultiBinary` and
    `MultiDiscrete`. Reward: the `Discrete` part of the action; episodes
    end after 7 steps (termination)."""

    name: ClassVar[str] = "Composite"
    action_space: Tuple = Tuple(
        [
            Discrete(3, start=-1),
            Box(-1.0, 1.0, (2,)),
            MultiBinary(2),
            MultiDiscrete([3, 4]),
        ]
    )
    observation_space: Dict = Dict(
        {
            "pos": Box(jnp.array([-1.0, 0.0]), jnp.array([1.0, 5.0])),
            "flags": MultiBinary(3),
            "cat": Discrete(4, start=2),
            "md": MultiDiscrete([2, 3], start=[1, -1]),
            "i": Box(-5, 5, (2,), dtype=jnp.int32),
            "u8": Box(0, 255, (2, 2), dtype=jnp.uint8),
            "s": Box(-1.0, 1.0, ()),
            "tup": Tuple([Discrete(2), Box(0.0, 1.0, (1,))]),
        }
    )

    def initial(self, *, key):
        return CompositeState(jnp.zeros((), jnp.int32), key)

    def transition(self, state, action, *, key):
        return CompositeState(state.t + 1, key)

    def observation(self, state, *, key):
        return self.observation_space.sample(key=state.key)

    def reward(self, state, action, next_state, *, key):
        return jnp.asarray(action[0], jnp.float32)

    def terminal(self, state, *, key):
        return state.t >= 7

    def truncate(self, state):
        return jnp.array(False)

    def action_mask(self, state, *, key):
        return None

    def state_info(self, state):
        return {}

    def transition_info(self, state, action, next_state):
        return {}
