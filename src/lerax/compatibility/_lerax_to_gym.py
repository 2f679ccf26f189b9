"""`LeraxToGymEnv`: a lerax environment behind the `gymnasium.Env` interface."""

import collections
import collections.abc
import functools
import hashlib
from typing import Any, final

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._extras import require
from ..env import AbstractEnvLike
from ..space import Dict
from ..space import Tuple as TupleSpace
from ._common import what_is
from ._gym_spaces import (
    gym_value_converter,
    lerax_to_gym_space,
    numpy_value_converter,
)

gym = require("gymnasium", "gym")


# The jitted calls take and return the env state as a list of its leaves and
# the PRNG key as raw key data: a list of arrays is flattened in C++, where
# an Equinox state module or a typed key costs Python work on every step.


def _reset(env: AbstractEnvLike, key_data):
    key, reset_key, mask_key = jr.split(jr.wrap_key_data(key_data), 3)
    state, observation, _ = env.reset(key=reset_key)
    mask = env.action_mask(state, key=mask_key)
    return jr.key_data(key), jax.tree.leaves(state), observation, mask


def _step(env: AbstractEnvLike, treedef, leaves, action, key_data):
    state = jax.tree.unflatten(treedef, leaves)
    key, step_key, mask_key = jr.split(jr.wrap_key_data(key_data), 3)
    # Gymnasium keeps the finished episode's last state and observation until
    # `reset`, which then restarts from it (`_restart`): no lerax auto-reset.
    state, observation, reward, terminated, truncated, info = env.step(
        state, action, key=step_key, check=False, autoreset=False
    )
    # Reward and flags travel to the host as one array (one transfer).
    scalars = jnp.stack([reward.astype(jnp.float32), terminated, truncated])
    mask = info.get("final_action_mask")
    if mask is None:
        mask = env.action_mask(state, key=mask_key)
    return jr.key_data(key), jax.tree.leaves(state), observation, scalars, mask


def _restart(env: AbstractEnvLike, treedef, leaves, key_data):
    # lerax's `restart`, as its auto-reset runs it: what wrappers carry
    # across episodes (normalisation statistics) carries on
    state = jax.tree.unflatten(treedef, leaves)
    key, restart_key, obs_key, mask_key = jr.split(jr.wrap_key_data(key_data), 4)
    state = env.restart(state, key=restart_key)
    observation = env.observation(state, key=obs_key)
    mask = env.action_mask(state, key=mask_key)
    return jr.key_data(key), jax.tree.leaves(state), observation, mask


# Compiled (reset, step, state structure) per env content: the envs of a
# vector env (e.g. SB3's `make_vec_env` calling a factory n times) are equal
# but distinct objects, and would otherwise each compile the same programs.
_COMPILED: "collections.OrderedDict[Any, tuple[Any, Any, Any, Any]]" = (
    collections.OrderedDict()
)
_COMPILED_SIZE = 16


def _content_key(env: AbstractEnvLike) -> Any:
    """A hashable key equal for envs with the same structure and values (None
    when some part cannot be hashed: the env then gets programs of its own)."""
    leaves, treedef = jax.tree.flatten(env)

    def leaf_key(leaf: Any) -> Any:
        if isinstance(leaf, (jax.Array, np.ndarray)):
            array = np.asarray(leaf)
            digest = hashlib.sha256(array.tobytes()).hexdigest()
            return ("array", array.shape, array.dtype.str, digest)
        return (type(leaf), leaf)

    try:
        key = (type(env), treedef, tuple(leaf_key(leaf) for leaf in leaves))
        hash(key)
    except TypeError:
        return None
    return key


def _compiled(env: AbstractEnvLike) -> tuple[Any, Any, Any, Any]:
    key = _content_key(env)
    if key is not None and key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key]
    # the env is closed over (its arrays become constants)
    treedef = jax.tree.structure(
        jax.eval_shape(lambda k: env.reset(key=k)[0], jr.key(0))
    )
    compiled = (
        jax.jit(functools.partial(_reset, env)),
        jax.jit(functools.partial(_step, env, treedef)),
        jax.jit(functools.partial(_restart, env, treedef)),
        treedef,
    )
    if key is not None:
        _COMPILED[key] = compiled
        while len(_COMPILED) > _COMPILED_SIZE:
            _COMPILED.popitem(last=False)
    return compiled


@final
class LeraxToGymEnv(gym.Env):
    """A lerax env as a `gymnasium.Env` (for Stable-Baselines3 and other
    Gymnasium tooling).

    `reset` and `step` run the lerax env's jitted `reset`/`step` and return
    NumPy values in the Gymnasium spaces `lerax_to_gym_space` gives. Gymnasium
    semantics are kept: on a step that ends an episode (`terminated` or
    `truncated`) the observation is that episode's last one, and the next
    episode starts only when `reset` is called. An unseeded `reset` starts
    it as lerax's auto-reset does (the env's `restart`), so what wrappers
    keep across episodes, such as `NormalizeObservation`'s statistics,
    carries on; a seeded one starts from the env's `initial` state, as does
    one mid-episode over a `GymToLeraxEnv` (its Gymnasium env cannot be
    restarted while in an episode). Randomness comes
    from a JAX PRNG key that `reset(seed=...)` re-creates, so a seeded reset
    followed by the same actions replays exactly. Envs with action masks
    put the mask of the current state in `info["action_mask"]` (also
    returned by `action_masks()`, the name sb3-contrib's `MaskablePPO`
    looks for).

    Attributes:
        env: The wrapped lerax env.
        observation_space: The Gymnasium observation space.
        action_space: The Gymnasium action space.
        render_mode: None or ``"rgb_array"``.
        metadata: This env's own dict (the class's is left as it is):
            ``"render_modes"``, and ``"render_fps"``, the wrapped env's
            `render_fps` (Gymnasium's value for the same id), which video
            recorders such as Gymnasium's `RecordVideo` play frames at. It
            is left out for an env that gives no rate (`render_fps` None),
            as Gymnasium does, and those recorders then use 30.
        state: The lerax env state of the current step (None before `reset`).
    """

    metadata = {"render_modes": ["rgb_array"]}

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
                f"`lerax.env.make('CartPole-v1')`), got {what_is(env)}."
            )
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                "`LeraxToGymEnv(render_mode=...)` must be None or 'rgb_array', got "
                f"{render_mode!r} (for a window, render the lerax env directly)."
            )
        self.env = env
        self.render_mode = render_mode
        # per instance (the rate is the wrapped env's), sharing nothing
        self.metadata = {"render_modes": list(LeraxToGymEnv.metadata["render_modes"])}
        if env.render_fps is not None:
            self.metadata["render_fps"] = env.render_fps
        self.observation_space = lerax_to_gym_space(env.observation_space)
        self.action_space = lerax_to_gym_space(env.action_space)
        # Shared by equal envs; a step is one compiled call taking the
        # state's leaves, then NumPy views of the results (~40 µs per step
        # for CartPole, Gymnasium's own is ~5 µs).
        self._reset_fn, self._step_fn, self._restart_fn, self._treedef = _compiled(env)
        self._key: Any = None  # raw key data
        self._leaves: Any = None  # the state's leaves
        self._mask: Any = None
        self._needs_reset = True
        self._to_gym = gym_value_converter(env.observation_space)
        self._to_numpy = numpy_value_converter(env.action_space)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts an episode.

        Args:
            seed: Re-seeds the env's PRNG key (`jax.random.key(seed)`, with
                the bits above the lowest 32 folded in, so every seed
                Gymnasium accepts gives its own episodes); when None the key
                carries on (or, before the first seeded reset, is drawn from
                Gymnasium's `np_random`).
            options: Unused (lerax envs take their options at construction).

        Returns:
            `(observation, info)`: without a seed, of the env's `restart`
            from the current state (what lerax's auto-reset gives: a new
            episode, with what wrappers carry across episodes carried on);
            with a seed, on the first reset, or mid-episode over a
            `GymToLeraxEnv`, of its `initial` state.
        """
        del options
        super().reset(seed=seed)
        if seed is not None:
            self._key = jr.key_data(_key_from_seed(seed))
        elif self._key is None:
            seed = int(self.np_random.integers(2**31 - 1))
            self._key = jr.key_data(jr.key(seed))
        # A reset mid-episode restarts too (a lerax env's `restart` holds for
        # any state), keeping what wrappers carry across episodes, except
        # over a `GymToLeraxEnv`: its host env cannot be restarted while
        # still in its episode, so that chain starts from `initial`.
        restartable = self._needs_reset or not _hosts_an_episode(self.env)
        if seed is None and self._leaves is not None and restartable:
            self._key, self._leaves, observation, self._mask = self._restart_fn(
                self._leaves, self._key
            )
        else:
            self._key, self._leaves, observation, self._mask = self._reset_fn(self._key)
        self._needs_reset = False
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
        if not _same_structure(self.env.action_space, given):
            raise self._not_in_space(given)
        try:
            with np.errstate(invalid="ignore", over="ignore"):
                action = self._to_numpy(action)
        except (TypeError, ValueError, KeyError, IndexError) as error:
            # e.g. None, a string, or an integer beyond int32
            raise self._not_in_space(given) from error
        if not (
            self.action_space.contains(action)
            and _converted_exactly(self.env.action_space, given, action)
        ):
            raise self._not_in_space(given)
        self._key, self._leaves, observation, scalars, self._mask = self._step_fn(
            self._leaves, action, self._key
        )
        # (NumPy views of CPU arrays: no copies, unlike `jax.device_get`)
        reward, terminated, truncated = np.asarray(scalars).tolist()
        terminated, truncated = bool(terminated), bool(truncated)
        self._needs_reset = terminated or truncated
        observation = self._to_gym(observation)
        return observation, reward, terminated, truncated, self._info()

    def _not_in_space(self, action: Any) -> ValueError:
        return ValueError(
            f"`LeraxToGymEnv.step`: action {action!r} is not in the action "
            f"space {self.action_space}."
        )

    @property
    def state(self) -> Any:
        """The lerax env state of the current step (None before the first
        `reset`); after a step that ended the episode, that episode's last
        state (until `reset`)."""
        if self._leaves is None:
            return None
        return jax.tree.unflatten(self._treedef, self._leaves)

    def _info(self) -> dict[str, Any]:
        if self._mask is None:
            return {}
        return {"action_mask": np.asarray(self._mask)}

    def action_masks(self) -> np.ndarray | None:
        """The action mask of the current state (None if the env has none)."""
        return None if self._mask is None else np.asarray(self._mask)

    def render(self) -> np.ndarray | None:
        """Renders the current state (after a step that ended the episode,
        that episode's last state).

        Returns:
            A `uint8[H, W, 3]` frame when `render_mode == "rgb_array"`, else
            None.

        Raises:
            RuntimeError: If called before `reset`.
        """
        if self.render_mode is None:
            return None
        if self._leaves is None:
            raise RuntimeError("`LeraxToGymEnv.render` needs a `reset()` first.")
        from ..render import render_rgb

        return np.asarray(render_rgb(self.env, self.state), dtype=np.uint8)

    def close(self) -> None:
        """Closes the innermost lerax env where it has a `close` (e.g.
        `GymToLeraxEnv`, whose Gymnasium env is then closed), as Gymnasium's
        wrappers pass `close` on."""
        close = getattr(self.env.unwrapped, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"LeraxToGymEnv({self.env.name})"


def _hosts_an_episode(env: AbstractEnvLike) -> bool:
    """Whether `env`'s innermost env is a `GymToLeraxEnv`, whose Gymnasium
    env lives on the host and can only be restarted after its episode ended."""
    from ._gym_to_lerax import GymToLeraxEnv  # Gymnasium is imported here anyway

    return isinstance(env.unwrapped, GymToLeraxEnv)


def _same_structure(space: Any, given: Any) -> bool:
    """Whether `given` has the containers of `space`: a mapping with exactly
    its keys for a `Dict`, a tuple, list or array of its length for a
    `Tuple` (as Gymnasium's `contains` asks; converting alone would drop
    extra items)."""
    if isinstance(space, Dict):
        return (
            isinstance(given, collections.abc.Mapping)
            and set(given) == set(space.keys())
            and all(_same_structure(s, given[k]) for k, s in space.items())
        )
    if isinstance(space, TupleSpace):
        return (
            (
                isinstance(given, (tuple, list))
                or (isinstance(given, np.ndarray) and given.ndim > 0)
            )
            and len(given) == len(space)
            and all(_same_structure(s, g) for s, g in zip(space, given))
        )
    return True


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


def _key_from_seed(seed: int) -> Any:
    """`jax.random.key(seed)` for seeds below 2**32; above, each further
    32-bit word of the seed is folded in (`jax.random.key` keeps only 32)."""
    seed = int(seed)
    key = jr.key(seed & 0xFFFFFFFF)
    rest = seed >> 32
    while rest:
        key = jr.fold_in(key, rest & 0xFFFFFFFF)
        rest >>= 32
    return key
