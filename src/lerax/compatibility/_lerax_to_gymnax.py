"""`LeraxToGymnaxEnv`: a lerax environment behind gymnax's interface."""

from typing import Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Int, Key, PyTree

from .._extras import require
from ..env import AbstractEnvLike
from ..space import Discrete
from ._common import what_is
from ._gymnax_spaces import cast_to, lerax_to_gymnax_space, to_gymnax_value

gymnax_environment = require("gymnax.environments.environment", "gym")
struct = require("flax.struct", "gym")

_NO_LIMIT = 2**31 - 1


@struct.dataclass
class LeraxEnvParams(gymnax_environment.EnvParams):
    """gymnax params of `LeraxToGymnaxEnv`.

    Attributes:
        max_steps_in_episode: An extra gymnax time limit on top of the lerax
            env's own truncation (default: none).
    """

    max_steps_in_episode: int = _NO_LIMIT


@final
class LeraxEnvState(eqx.Module):
    """gymnax state of `LeraxToGymnaxEnv`.

    Attributes:
        env_state: The lerax env's state.
        time: Steps taken in the episode (gymnax's convention).
        terminated: Whether the step that led here terminated the episode.
        truncated: Whether the lerax env truncated it there (e.g. its
            `TimeLimit`).
    """

    env_state: PyTree
    time: Int[Array, ""]
    terminated: Bool[Array, ""]
    truncated: Bool[Array, ""]


@final
class LeraxToGymnaxEnv(gymnax_environment.Environment):
    """A lerax env as a gymnax `Environment` (pure JAX, vmappable).

    `reset_env`/`step_env` run the lerax env's hooks without auto-reset;
    gymnax's own `reset`/`step` (with its auto-reset and
    `info["final_observation"]`) are inherited unchanged. Termination and
    truncation stay separate: `step_env` returns the lerax termination, and
    `is_truncated` reports the lerax env's truncation (such as its
    `TimeLimit`) or gymnax's `params.max_steps_in_episode`, whichever comes
    first.

    gymnax's auto-reset calls `reset_env`, which starts from the lerax env's
    `initial` state: wrapper state that lerax carries across episodes
    through `restart` (running normalisation statistics) starts afresh in
    each episode here. Action masks are not exposed (gymnax has none).

    Attributes:
        env: The wrapped lerax env.
    """

    def __init__(self, env: AbstractEnvLike):
        """Wraps `env`.

        Args:
            env: A lerax env (or wrapper).

        Raises:
            TypeError: If `env` is not a lerax env.
        """
        if not isinstance(env, AbstractEnvLike):
            raise TypeError(
                "`LeraxToGymnaxEnv(env)` needs a lerax env (e.g. "
                f"`lerax.env.make('CartPole-v1')`), got {what_is(env)}."
            )
        self.env = env

    @property
    def default_params(self) -> LeraxEnvParams:
        return LeraxEnvParams()

    def reset_env(
        self, key: Key[Array, ""], params: LeraxEnvParams
    ) -> tuple[Any, LeraxEnvState]:
        del params
        init_key, obs_key = jr.split(key)
        env_state = self.env.initial(key=init_key)
        false = jnp.zeros((), bool)
        state = LeraxEnvState(env_state, jnp.zeros((), jnp.int32), false, false)
        return self._observe(env_state, obs_key), state

    def step_env(
        self,
        key: Key[Array, ""],
        state: LeraxEnvState,
        action: Any,
        params: LeraxEnvParams,
    ) -> tuple[Any, LeraxEnvState, Array, Array, dict[str, Any]]:
        del params
        action = cast_to(self.env.action_space, action)
        transition_key, reward_key, terminal_key, obs_key = jr.split(key, 4)
        env_state = self.env.transition(state.env_state, action, key=transition_key)
        reward = self.env.reward(state.env_state, action, env_state, key=reward_key)
        terminated = jnp.asarray(self.env.terminal(env_state, key=terminal_key), bool)
        truncated = jnp.asarray(self.env.truncate(env_state), bool)
        observation = self._observe(env_state, obs_key)
        info = dict(self.env.transition_info(state.env_state, action, env_state))
        info["discount"] = 1.0 - terminated.astype(jnp.float32)
        new_state = LeraxEnvState(env_state, state.time + 1, terminated, truncated)
        return (
            observation,
            new_state,
            jnp.asarray(reward, jnp.float32),
            terminated,
            info,
        )

    def get_obs(self, state: LeraxEnvState, params=None, key=None) -> Any:
        """The observation of `state` (with a fixed key if none is given)."""
        del params
        key = jr.key(0) if key is None else key
        return self._observe(state.env_state, key)

    def _observe(self, env_state: PyTree, key: Key[Array, ""]) -> Any:
        # in the dtypes of `observation_space()` (int32 for MultiBinary)
        return to_gymnax_value(
            self.env.observation_space, self.env.observation(env_state, key=key)
        )

    def is_terminated(self, state: LeraxEnvState, params: LeraxEnvParams) -> Array:
        del params
        return state.terminated

    def is_truncated(self, state: LeraxEnvState, params: LeraxEnvParams) -> Array:
        return state.truncated | (state.time >= params.max_steps_in_episode)

    @property
    def name(self) -> str:
        return f"LeraxToGymnaxEnv({self.env.name})"

    @property
    def render_fps(self) -> float | None:
        """The lerax env's `render_fps` (frames per second of real-time
        playback; None when it gives none). gymnax itself has no such
        attribute: this one lets tools that read it from lerax envs read it
        through the adapter too."""
        return self.env.render_fps

    @property
    def dt(self) -> float:
        """The lerax env's `dt` (seconds per step).

        Raises:
            AttributeError: If the lerax env has no `dt` (so `hasattr` tells
                whether it has one).
        """
        try:
            return self.env.dt  # type: ignore[attr-defined]
        except AttributeError:
            raise AttributeError(
                f"{self.name}.dt: the lerax env {self.env.name!r} "
                f"({type(self.env.unwrapped).__name__}) has no `dt` (seconds per "
                "step)."
            ) from None

    @property
    def num_actions(self) -> int:
        """The number of actions, `0, ..., n - 1` (gymnax's convention).

        Raises:
            ValueError: If the action space is not a `Discrete` starting at
                0 (one with another `start` is a gymnax integer `Box`: its
                actions are not `0, ..., n - 1`).
        """
        space = self.env.action_space
        if not isinstance(space, Discrete):
            raise ValueError(
                f"`num_actions` needs a Discrete action space, got {space!r}."
            )
        if space.start != 0:
            raise ValueError(
                f"`num_actions` counts actions `0, ..., n - 1`, but the action "
                f"space {space!r} starts at {space.start}; draw actions from "
                "`action_space(params)` (an integer Box), or wrap the lerax env "
                "so that its actions start at 0."
            )
        return space.n

    def action_space(self, params: LeraxEnvParams | None = None) -> Any:
        del params
        return lerax_to_gymnax_space(self.env.action_space)

    def observation_space(self, params: LeraxEnvParams | None = None) -> Any:
        del params
        return lerax_to_gymnax_space(self.env.observation_space)

    def state_space(self, params: LeraxEnvParams | None = None) -> Any:
        del params
        raise NotImplementedError(
            "`LeraxToGymnaxEnv.state_space` is not available: lerax states are "
            "arbitrary pytrees without a space."
        )
