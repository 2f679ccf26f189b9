"""`LeraxToGymEnv`: a lerax environment behind the `gymnasium.Env` interface."""

import functools
from typing import Any, final

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._extras import require
from ..env import AbstractEnvLike
from ..space import Dict
from ..space import Tuple as TupleSpace
from ._gym_spaces import (
    gym_value_converter,
    lerax_to_gym_space,
    numpy_value_converter,
)

gym = require("gymnasium", "gym")


def _reset(env: AbstractEnvLike, key):
    key, reset_key, mask_key = jr.split(key, 3)
    state, observation, _ = env.reset(key=reset_key)
    mask = env.action_mask(state, key=mask_key)
    return key, state, observation, mask


def _step(env: AbstractEnvLike, state, action, key):
    key, step_key, mask_key = jr.split(key, 3)
    state, observation, reward, terminated, truncated, info = env.step(
        state, action, key=step_key, check=False
    )
    # Reward and flags travel to the host as one array (one transfer).
    scalars = jnp.stack([reward.astype(jnp.float32), terminated, truncated])
    # Gymnasium returns the finished episode's last observation; lerax has
    # already started the next episode and keeps that one in `info`.
    observation = info["final_observation"]
    mask = info.get("final_action_mask")
    if mask is None:
        mask = env.action_mask(state, key=mask_key)
    return key, state, observation, scalars, mask


@final
class LeraxToGymEnv(gym.Env):
    """A lerax env as a `gymnasium.Env` (for Stable-Baselines3 and other
    Gymnasium tooling).

    `reset` and `step` run the lerax env's jitted `reset`/`step` and return
    NumPy values in the Gymnasium spaces `lerax_to_gym_space` gives. Gymnasium
    semantics are kept: on a step that ends an episode (`terminated` or
    `truncated`) the observation is that episode's last one, and the next
    episode starts only when `reset` is called (lerax's own auto-reset
    result is discarded). Randomness comes from a JAX PRNG key that
    `reset(seed=...)` re-creates, so a seeded reset followed by the same
    actions replays exactly. Envs with action masks put the mask of the
    current state in `info["action_mask"]` (also returned by
    `action_masks()`, the name sb3-contrib's `MaskablePPO` looks for).

    Attributes:
        env: The wrapped lerax env.
        observation_space: The Gymnasium observation space.
        action_space: The Gymnasium action space.
        render_mode: None or ``"rgb_array"``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, env: AbstractEnvLike, render_mode: str | None = None):
        """Wraps `env`.

        Args:
            env: A lerax env (or wrapper).
            render_mode: None, or ``"rgb_array"`` for `render()` to return
                `uint8[H, W, 3]` frames (needs the `render` extra).

        Raises:
            TypeError: If `env` is not a lerax env.
            ValueError: If `render_mode` is not supported.
        """
        if not isinstance(env, AbstractEnvLike):
            raise TypeError(
                "`LeraxToGymEnv(env)` needs a lerax env (e.g. "
                f"`lerax.env.make('CartPole-v1')`), got {type(env).__name__}."
            )
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                "`LeraxToGymEnv(render_mode=...)` must be None or 'rgb_array', got "
                f"{render_mode!r} (for a window, render the lerax env directly)."
            )
        self.env = env
        self.render_mode = render_mode
        self.observation_space = lerax_to_gym_space(env.observation_space)
        self.action_space = lerax_to_gym_space(env.action_space)
        # The env is closed over (its arrays become constants), so a call
        # only flattens the small state: ~tens of microseconds per step.
        self._reset_fn = jax.jit(functools.partial(_reset, env))
        self._step_fn = jax.jit(functools.partial(_step, env))
        self._key: Any = None
        self._state: Any = None
        self._mask: Any = None
        self._needs_reset = True
        self._to_gym = gym_value_converter(env.observation_space)
        self._to_numpy = numpy_value_converter(env.action_space)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts an episode.

        Args:
            seed: Re-seeds the env's PRNG key (`jax.random.key(seed)`); when
                None the key carries on (or, before the first seeded reset,
                is drawn from Gymnasium's `np_random`).
            options: Unused (lerax envs take their options at construction).

        Returns:
            `(observation, info)`.
        """
        del options
        super().reset(seed=seed)
        if seed is not None:
            self._key = jr.key(seed)
        elif self._key is None:
            self._key = jr.key(int(self.np_random.integers(2**31 - 1)))
        self._key, self._state, observation, self._mask = self._reset_fn(self._key)
        self._needs_reset = False
        observation, self._mask = jax.device_get((observation, self._mask))
        return self._to_gym(observation), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Takes one step.

        Args:
            action: An element of `action_space`.

        Returns:
            `(observation, reward, terminated, truncated, info)`; when the
            episode ends, `observation` is its last observation.

        Raises:
            RuntimeError: If called before `reset` or after the episode
                ended without a `reset`.
            ValueError: If `action` is not in `action_space`.
        """
        if self._needs_reset:
            raise RuntimeError(
                "`LeraxToGymEnv.step` called before `reset()` or after the episode "
                "ended; call `reset()` first."
            )
        given = action
        with np.errstate(invalid="ignore", over="ignore"):
            action = self._to_numpy(action)
        if not (
            self.action_space.contains(action)
            and _converted_exactly(self.env.action_space, given, action)
        ):
            raise ValueError(
                f"`LeraxToGymEnv.step`: action {given!r} is not in the action "
                f"space {self.action_space}."
            )
        self._key, self._state, observation, scalars, mask = self._step_fn(
            self._state, action, self._key
        )
        observation, scalars, self._mask = jax.device_get((observation, scalars, mask))
        terminated, truncated = bool(scalars[1]), bool(scalars[2])
        self._needs_reset = terminated or truncated
        observation = self._to_gym(observation)
        return observation, float(scalars[0]), terminated, truncated, self._info()

    def _info(self) -> dict[str, Any]:
        if self._mask is None:
            return {}
        return {"action_mask": np.asarray(self._mask)}

    def action_masks(self) -> np.ndarray | None:
        """The action mask of the current state (None if the env has none)."""
        return None if self._mask is None else np.asarray(self._mask)

    def render(self) -> np.ndarray | None:
        """Renders the current state.

        After a step that ended the episode this shows the state lerax's
        auto-reset started (the finished episode's last state is not kept).

        Returns:
            A `uint8[H, W, 3]` frame when `render_mode == "rgb_array"`, else
            None.

        Raises:
            RuntimeError: If called before `reset`.
        """
        if self.render_mode is None:
            return None
        if self._state is None:
            raise RuntimeError("`LeraxToGymEnv.render` needs a `reset()` first.")
        from ..render import render_rgb

        return np.asarray(render_rgb(self.env, self._state), dtype=np.uint8)

    def __repr__(self) -> str:
        return f"LeraxToGymEnv({self.env.name})"


def _converted_exactly(space: Any, given: Any, converted: Any) -> bool:
    """Whether converting `given` to the dtypes of `space` kept its values:
    an integer or boolean space refuses 1.7 or 2 rather than truncating them
    (a float space rounds to its precision, as Gymnasium's `Box` does)."""
    if isinstance(space, Dict):
        return all(
            _converted_exactly(s, given[k], converted[k]) for k, s in space.items()
        )
    if isinstance(space, TupleSpace):
        return all(
            _converted_exactly(s, g, c) for s, g, c in zip(space, given, converted)
        )
    if np.issubdtype(np.dtype(space.dtype), np.floating):
        return True
    given = np.asarray(given)
    return given.shape == np.shape(converted) and bool(np.array_equal(given, converted))
