"""Small purpose-built environments for algorithm tests."""

from typing import ClassVar

import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int

from lerax.env import AbstractEnv, AbstractEnvState
from lerax.space import Box, Discrete


class MatchState(AbstractEnvState):
    target: Int[Array, ""]
    mask: Bool[Array, " 4"]
    illegal: Bool[Array, ""]


class MaskedMatch(AbstractEnv):
    """Each step shows a target action (one-hot) and allows a random half of the
    four actions (the target always among them). Matching the target pays +1,
    another allowed action -1; a masked (illegal) action pays -10 and ends the
    episode. Solved: return 20 over the 20-step time limit."""

    name: ClassVar[str] = "MaskedMatch"
    action_space: Discrete = Discrete(4)
    observation_space: Box = Box(0.0, 1.0, (8,))

    def initial(self, *, key):
        target_key, mask_key = jr.split(key)
        target = jr.randint(target_key, (), 0, 4)
        other = (target + 1 + jr.randint(mask_key, (), 0, 3)) % 4
        mask = (jnp.arange(4) == target) | (jnp.arange(4) == other)
        return MatchState(target, mask, jnp.array(False))

    def transition(self, state, action, *, key):
        fresh = self.initial(key=key)
        return MatchState(fresh.target, fresh.mask, ~state.mask[action])

    def observation(self, state, *, key) -> Float[Array, " 8"]:
        one_hot = (jnp.arange(4) == state.target).astype(jnp.float32)
        return jnp.concatenate([one_hot, state.mask.astype(jnp.float32)])

    def reward(self, state, action, next_state, *, key):
        legal = state.mask[action]
        return jnp.where(legal, jnp.where(action == state.target, 1.0, -1.0), -10.0)

    def terminal(self, state, *, key):
        return state.illegal

    def truncate(self, state):
        return jnp.array(False)

    def action_mask(self, state, *, key):
        return state.mask

    def state_info(self, state):
        return {}

    def transition_info(self, state, action, next_state):
        return {}


class CounterState(AbstractEnvState):
    t: Int[Array, ""]


class Counter(AbstractEnv):
    """Reward 1 per step; terminates when `t` reaches `terminate_at` (if >= 0).
    Observation: `[t]`. Actions: anything in Box(-1, 1)."""

    name: ClassVar[str] = "Counter"
    terminate_at: int = -1
    action_space: Box = Box(-1.0, 1.0, (1,))
    observation_space: Box = Box(0.0, jnp.inf, (1,))

    def initial(self, *, key):
        return CounterState(jnp.zeros((), jnp.int32))

    def transition(self, state, action, *, key):
        return CounterState(state.t + 1)

    def observation(self, state, *, key):
        return state.t.astype(jnp.float32)[None]

    def reward(self, state, action, next_state, *, key):
        return jnp.array(1.0)

    def terminal(self, state, *, key):
        return (self.terminate_at >= 0) & (state.t >= self.terminate_at)

    def truncate(self, state):
        return jnp.array(False)

    def action_mask(self, state, *, key):
        return None

    def state_info(self, state):
        return {}

    def transition_info(self, state, action, next_state):
        return {}
