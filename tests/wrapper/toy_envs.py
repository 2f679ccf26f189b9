"""Small deterministic environments for the wrapper tests.

Each is built so that the effect of a wrapper can be read off exactly.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, Int

from lerax.env import AbstractEnv, AbstractEnvState
from lerax.space import Box, Dict, Discrete, MultiBinary


class ToyState(AbstractEnvState):
    """Step count `t` in the episode and a float vector `x`."""

    t: Int[Array, ""]
    x: Float[Array, " n"]


class AbstractToyEnv(AbstractEnv):
    """Common hooks: no truncation, `state_info = {"t": t}`; `transition_info`
    has the action the env received and the raw `x` of the next state (before
    any auto-reset); episodes last `length` steps."""

    length: eqx.AbstractVar[int]

    def terminal(self, state, *, key):
        del key
        return state.t >= self.length

    def truncate(self, state):
        del state
        return jnp.array(False)

    def state_info(self, state):
        return {"t": state.t}

    def transition_info(self, state, action, next_state):
        del state
        return {"action": action, "x": next_state.x}


class BoxActionEnv(AbstractToyEnv):
    """The observation (and reward) reveal the action the env received.

    Action and observation space: `Box([-2, 0, -inf], [2, 10, inf])`.
    Observation: the last action; reward: its sum.
    """

    name: str = "BoxAction"
    action_space: Box = Box(
        np.array([-2.0, 0.0, -np.inf]), np.array([2.0, 10.0, np.inf])
    )
    observation_space: Box = Box(
        np.array([-2.0, 0.0, -np.inf]), np.array([2.0, 10.0, np.inf])
    )
    length: int = 1000

    def initial(self, *, key):
        del key
        return ToyState(jnp.zeros((), jnp.int32), jnp.array([0.0, 5.0, 0.0]))

    def transition(self, state, action, *, key):
        del key
        return ToyState(state.t + 1, jnp.asarray(action, jnp.float32))

    def observation(self, state, *, key):
        del key
        return state.x

    def reward(self, state, action, next_state, *, key):
        del state, action, key
        return jnp.sum(next_state.x)

    def action_mask(self, state, *, key):
        del state, key
        return None


class MaskedDiscreteEnv(AbstractToyEnv):
    """`Discrete(4)` actions; actions `<= t % 4` are allowed.

    Observation `[t, last action]`; reward `action`; episodes of `length` steps.
    """

    name: str = "MaskedDiscrete"
    action_space: Discrete = Discrete(4)
    observation_space: Box = Box(0.0, 100.0, (2,))
    length: int = 5

    def initial(self, *, key):
        del key
        return ToyState(jnp.zeros((), jnp.int32), jnp.zeros((1,)))

    def transition(self, state, action, *, key):
        del key
        return ToyState(state.t + 1, jnp.reshape(action, (1,)).astype(jnp.float32))

    def observation(self, state, *, key):
        del key
        return jnp.concatenate([state.t[None].astype(jnp.float32), state.x])

    def reward(self, state, action, next_state, *, key):
        del state, next_state, key
        return jnp.asarray(action, jnp.float32)

    def action_mask(self, state, *, key):
        del key
        return jnp.arange(4) <= state.t % 4


class DictObsEnv(AbstractToyEnv):
    """Dict observations: `flags` (MultiBinary(2)), `mode` (Discrete(3)) and
    `pos` (Box(-1, 1, (2,)))."""

    name: str = "DictObs"
    action_space: Discrete = Discrete(2)
    observation_space: Dict = Dict(
        pos=Box(-1.0, 1.0, (2,)), mode=Discrete(3), flags=MultiBinary(2)
    )
    length: int = 100

    def initial(self, *, key):
        del key
        return ToyState(jnp.zeros((), jnp.int32), jnp.array([0.5, -0.25]))

    def transition(self, state, action, *, key):
        del key
        return ToyState(state.t + 1, state.x * jnp.where(action == 1, -1.0, 1.0))

    def observation(self, state, *, key):
        del key
        return {
            "pos": state.x,
            "mode": (state.t % 3).astype(jnp.int32),
            "flags": jnp.stack([state.t % 2 == 0, jnp.array(True)]),
        }

    def reward(self, state, action, next_state, *, key):
        del state, action, next_state, key
        return jnp.array(0.0)

    def action_mask(self, state, *, key):
        del state, key
        return None


GAUSSIAN_MEAN = np.array([3.0, -2.0], np.float32)
GAUSSIAN_STD = np.array([2.0, 0.5], np.float32)


class GaussianEnv(AbstractToyEnv):
    """Observations are i.i.d. `N(mean, std**2)` per dim; episodes of 10 steps."""

    name: str = "Gaussian"
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(-np.inf, np.inf, (2,))
    length: int = 10

    def _draw(self, key):
        return GAUSSIAN_MEAN + GAUSSIAN_STD * jr.normal(key, (2,))

    def initial(self, *, key):
        return ToyState(jnp.zeros((), jnp.int32), self._draw(key))

    def transition(self, state, action, *, key):
        del action
        return ToyState(state.t + 1, self._draw(key))

    def observation(self, state, *, key):
        del key
        return state.x

    def reward(self, state, action, next_state, *, key):
        del state, action, key
        return next_state.x[0]

    def action_mask(self, state, *, key):
        del state, key
        return None


REWARD_TABLE = (1.0, -2.0, 3.0, 0.5)


class RewardTableEnv(AbstractToyEnv):
    """Step `t` of an episode (0-based) earns `table[t] * (1 + action)`;
    episodes last `len(table)` steps."""

    name: str = "RewardTable"
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(0.0, 100.0, ())
    table: tuple[float, ...] = REWARD_TABLE
    length: int = len(REWARD_TABLE)

    def initial(self, *, key):
        del key
        return ToyState(jnp.zeros((), jnp.int32), jnp.zeros((0,)))

    def transition(self, state, action, *, key):
        del action, key
        return ToyState(state.t + 1, state.x)

    def observation(self, state, *, key):
        del key
        return state.t.astype(jnp.float32)

    def reward(self, state, action, next_state, *, key):
        del next_state, key
        return jnp.asarray(self.table)[state.t] * (1 + action)

    def action_mask(self, state, *, key):
        del state, key
        return None


def rollout(env, state, actions, key):
    """Steps `env` through `actions` (leading axis = time) with `lax.scan`.

    Returns:
        The final state and a dict of stacked per-step outputs: `obs`,
        `reward`, `terminated`, `truncated`, `info`, and `state` (after the
        step).
    """

    def body(state, inputs):
        action, k = inputs
        state, obs, reward, terminated, truncated, info = env.step(state, action, key=k)
        out = dict(
            obs=obs,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            info=info,
            state=state,
        )
        return state, out

    keys = jr.split(key, jax.tree.leaves(actions)[0].shape[0])
    return jax.lax.scan(body, state, (actions, keys))


run = eqx.filter_jit(rollout)


def reset_and_run(env, actions, key):
    """Resets `env` and runs `actions`; returns `(reset_obs, final_state, out)`."""
    reset_key, run_key = jr.split(key)
    state, obs, _ = env.reset(key=reset_key)
    state, out = run(env, state, actions, run_key)
    return obs, state, out
