"""`GymToLeraxEnv`: a Gymnasium environment inside lerax, through host callbacks.

A Gymnasium env is a stateful Python object, so the lerax hooks that change
it call it on the host through an ordered `jax.experimental.io_callback`:
`initial` resets it, `transition` steps it and, when that step ends the
episode, resets it in the same call (seeded from the step's key), so there
is one host call per step; `restart` then only reads the new episode's
first observation. The JAX-side state only mirrors what the last call
returned. Limits that follow:

- One env, stepped sequentially: under `jax.vmap` the callbacks run only for
  a batch of size one (`num_envs=1`, `evaluate_policy(num_episodes=1)`);
  a larger batch raises a `ValueError`. For parallel envs use a native
  lerax (or gymnax, through `GymnaxToLeraxEnv`) env.
- Every call advances the real env: compiled functions that share the
  wrapper share the env, and a checkpointed training state does not hold
  the host env's state: a resumed run (a new process, a new Gymnasium env)
  resets it, seeded from the step's key, before its first step.
- Episodes end when Gymnasium ends them. A lerax wrapper that ends them on
  its own (a lerax `TimeLimit` around this env) cannot restart the host
  env mid-episode, so the step after such an end raises an error; give
  Gymnasium the limit instead (`gymnasium.make(id, max_episode_steps=N)`).
- Gymnasium's `info` is dropped and rendering is not available.
"""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.custom_batching import custom_vmap
from jax.experimental import io_callback
from jaxtyping import Array, Bool, Float, Key

from .._custom_types import Info
from .._extras import require
from ..env import AbstractEnv, AbstractEnvState
from ..space import AbstractSpace
from ._common import what_is
from ._gym_spaces import gym_space_to_lerax_space, numpy_value_converter

gym = require("gymnasium", "gym")


@final
class GymEnvState(AbstractEnvState):
    """The JAX-side mirror of a Gymnasium env after its last call.

    Attributes:
        observation: The last observation.
        reward: The last reward (0 after a reset).
        terminated: Whether the last step terminated the episode.
        truncated: Whether the last step truncated the episode.
        restart_observation: When the last step ended the episode, the first
            observation of the next one (the host env has already been reset,
            seeded from the step's key); otherwise equal to `observation`.
        stale: Whether this state restarts an episode Gymnasium did not end
            (the host env is still in the old one): stepping it is an error.
    """

    observation: Any
    reward: Float[Array, ""]
    terminated: Bool[Array, ""]
    truncated: Bool[Array, ""]
    restart_observation: Any
    stale: Bool[Array, ""]


class _HostState:
    """What lerax knows of the host env: whether it was reset since it was
    wrapped (a state resumed from a checkpoint meets a fresh env)."""

    def __init__(self):
        self.started = False


def _seed(key: Key[Array, ""]) -> Array:
    return jr.randint(key, (), 0, 2**31 - 1, dtype=jnp.int32)


def _unbatched(function):
    """Lets `function` (a host call) run under `jax.vmap` with batch size 1."""
    wrapped = custom_vmap(function)

    @wrapped.def_vmap
    def rule(axis_size, in_batched, *args):
        if axis_size != 1:
            raise ValueError(
                "`GymToLeraxEnv` wraps one stateful Gymnasium env and runs only "
                f"unbatched or in a batch of one, but it was vmapped over {axis_size} "
                "(e.g. `num_envs` > 1 or `evaluate_policy(num_episodes>1)`); use "
                "`num_envs=1`, or a native lerax env for parallel environments."
            )
        args = jax.tree.map(
            lambda x, batched: x[0] if batched else x, args, tuple(in_batched)
        )
        out = wrapped(*args)
        return jax.tree.map(lambda x: x[None], out), jax.tree.map(lambda _: True, out)

    return wrapped


def _gym_action_converter(space: Any) -> Callable[[Any], Any]:
    """A function turning a lerax action (NumPy leaves of lerax's dtypes) into
    the values Gymnasium's `space` holds: a Python `int` for each `Discrete`,
    arrays of the space's own dtype otherwise (int8 for `MultiBinary`, whose
    lerax values are bool; int64 or float64 where lerax has 32 bits, a
    float64 `Box`'s values kept within its bounds), in the space's
    containers."""
    if isinstance(space, gym.spaces.Dict):
        parts = {k: _gym_action_converter(s) for k, s in space.spaces.items()}
        return lambda value: {k: f(value[k]) for k, f in parts.items()}
    if isinstance(space, gym.spaces.Tuple):
        items = [_gym_action_converter(s) for s in space.spaces]
        return lambda value: tuple(f(v) for f, v in zip(items, value))
    if isinstance(space, gym.spaces.Discrete):
        return lambda value: int(np.asarray(value))
    dtype = np.dtype(space.dtype)
    if isinstance(space, gym.spaces.Box) and dtype == np.float64:
        # lerax's 32-bit bounds are the 64-bit ones rounded, possibly outward
        # (0.1 becomes 0.10000000149...): an action at lerax's bound would be
        # just outside Gymnasium's, so it is moved back onto it
        low, high = space.low, space.high
        return lambda value: np.clip(np.asarray(value).astype(dtype), low, high)
    return lambda value: np.asarray(value).astype(dtype)


@final
class GymToLeraxEnv(AbstractEnv[GymEnvState, Any, Any, None]):
    """A Gymnasium env used as a lerax env (see the module notes for limits).

    `initial` resets the Gymnasium env with a seed drawn from the key, so a
    lerax run is reproducible from its key; `transition` steps it; when an
    episode ends, lerax's auto-reset resets it (again seeded from the key).

    Attributes:
        gym_env: The Gymnasium env (held by reference; it is stateful).
        host_state: Whether the host env was reset since it was wrapped.
        name: ``"GymToLeraxEnv(<env id>)"``.
        action_space: The lerax action space.
        observation_space: The lerax observation space.
    """

    gym_env: Any = eqx.field(static=True)
    host_state: "_HostState" = eqx.field(static=True)
    name: str = eqx.field(static=True)
    action_space: AbstractSpace
    observation_space: AbstractSpace

    def __init__(self, gym_env: Any = None, *, env: Any = None):
        """Wraps `gym_env`.

        Args:
            gym_env: A `gymnasium.Env` (e.g. `gymnasium.make("CartPole-v1")`).
            env: The earlier lerax's name for `gym_env`
                (`GymToLeraxEnv(env=...)`); give one of them.

        Raises:
            TypeError: If `gym_env` is a vector env or not a `gymnasium.Env`,
                or its spaces have no lerax counterpart, or both or neither
                of `gym_env` and `env` are given.
        """
        if (gym_env is None) == (env is None):
            raise TypeError(
                "`GymToLeraxEnv` takes one Gymnasium env: `GymToLeraxEnv(gym_env)` "
                "(or the earlier lerax's `GymToLeraxEnv(env=...)`), not both or "
                "neither."
            )
        gym_env = env if gym_env is None else gym_env
        if isinstance(gym_env, gym.vector.VectorEnv):
            raise TypeError(
                "`GymToLeraxEnv` wraps a single `gymnasium.Env`, not a vector env; "
                "lerax batches envs itself (`num_envs`), but a Gymnasium env can "
                "only be used with `num_envs=1`."
            )
        if not isinstance(gym_env, gym.Env):
            raise TypeError(
                f"`GymToLeraxEnv(gym_env)` needs a `gymnasium.Env`, got "
                f"{what_is(gym_env)}."
            )
        self.gym_env = gym_env
        self.host_state = _HostState()
        spec = getattr(gym_env, "spec", None)
        label = spec.id if spec is not None else type(gym_env.unwrapped).__name__
        self.name = f"GymToLeraxEnv({label})"
        self.action_space = gym_space_to_lerax_space(gym_env.action_space)
        self.observation_space = gym_space_to_lerax_space(gym_env.observation_space)

    @property
    def render_fps(self) -> float | None:
        """The Gymnasium env's `metadata["render_fps"]` (e.g. 50 for
        `CartPole-v1`), None when it gives none."""
        return self.gym_env.metadata.get("render_fps")

    @property
    def dt(self) -> float:
        """The Gymnasium env's seconds per step (`env.unwrapped.dt`, as
        MuJoCo envs give it).

        Raises:
            AttributeError: If the Gymnasium env has no `dt` (so `hasattr`
                tells whether it has one).
        """
        try:
            return float(self.gym_env.unwrapped.dt)
        except AttributeError:
            raise AttributeError(
                f"{self.name}.dt: the Gymnasium env "
                f"({type(self.gym_env.unwrapped).__name__}) has no `dt` (seconds "
                "per step); classic-control ones keep theirs under another name "
                "(e.g. CartPole's `tau`)."
            ) from None

    def _call(self, host, *args) -> GymEnvState:
        # Results travel as (observation, restart observation, [reward,
        # terminated, truncated]): few buffers keep the host call cheap.
        obs = jax.tree.map(
            lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype),
            self.observation_space.canonical(),
        )
        shapes = (obs, obs, jax.ShapeDtypeStruct((3,), jnp.float32))
        call = _unbatched(lambda *a: io_callback(host, shapes, *a, ordered=True))
        observation, restart_observation, scalars = call(*args)
        return GymEnvState(
            observation,
            scalars[0],
            scalars[1] > 0.5,
            scalars[2] > 0.5,
            restart_observation,
            jnp.zeros((), bool),
        )

    def initial(self, *, key: Key[Array, ""]) -> GymEnvState:
        convert = numpy_value_converter(self.observation_space)
        env = self.gym_env

        host_state = self.host_state

        def host(seed):
            observation = convert(env.reset(seed=int(seed))[0])
            host_state.started = True
            return observation, observation, np.zeros(3, np.float32)

        return self._call(host, _seed(key))

    def restart(self, state: GymEnvState, *, key: Key[Array, ""]) -> GymEnvState:
        # The host env was reset by the step that ended the episode (one
        # host call per step instead of two; `step` computes a restart state
        # on every step and selects it only when the episode ended).
        del key
        zero = jnp.zeros((), jnp.float32)
        false = jnp.zeros((), bool)
        obs = state.restart_observation
        ended = state.terminated | state.truncated
        return GymEnvState(obs, zero, false, false, obs, ~ended)

    def transition(
        self, state: GymEnvState, action: Any, *, key: Key[Array, ""]
    ) -> GymEnvState:
        # The ordered callback runs after the previous one; the state only
        # says whether the host env is where lerax thinks it is.
        leaves, treedef = jax.tree.flatten(action)
        convert = numpy_value_converter(self.observation_space)
        env = self.gym_env
        host_state = self.host_state
        to_gym = _gym_action_converter(env.action_space)
        seed = eqx.error_if(
            _seed(key),
            state.stale,
            f"{self.name}: a wrapper ended the episode (e.g. a lerax `TimeLimit`) "
            "but the Gymnasium env did not, and it cannot be restarted "
            "mid-episode from compiled code. Let Gymnasium end episodes: "
            "`gymnasium.make(id, max_episode_steps=N)` instead of a lerax "
            "`TimeLimit` around `GymToLeraxEnv`.",
        )

        def host(seed, *leaves):
            action = to_gym(jax.tree.unflatten(treedef, leaves))
            if not host_state.started:
                # a state from elsewhere (a checkpoint) and a fresh host env
                env.reset(seed=int(seed))
                host_state.started = True
            observation, reward, terminated, truncated, _ = env.step(action)
            observation = convert(observation)
            restart_observation = observation
            if terminated or truncated:
                restart_observation = convert(env.reset(seed=int(seed))[0])
            scalars = np.array([reward, terminated, truncated], np.float32)
            return observation, restart_observation, scalars

        return self._call(host, seed, *leaves)

    def observation(self, state: GymEnvState, *, key: Key[Array, ""]) -> Any:
        del key
        return state.observation

    def reward(
        self,
        state: GymEnvState,
        action: Any,
        next_state: GymEnvState,
        *,
        key: Key[Array, ""],
    ) -> Float[Array, ""]:
        del state, action, key
        return next_state.reward

    def terminal(self, state: GymEnvState, *, key: Key[Array, ""]) -> Bool[Array, ""]:
        del key
        return state.terminated

    def truncate(self, state: GymEnvState) -> Bool[Array, ""]:
        return state.truncated

    def action_mask(self, state: GymEnvState, *, key: Key[Array, ""]) -> None:
        del state, key
        return None

    def state_info(self, state: GymEnvState) -> Info:
        del state
        return {}

    def transition_info(
        self, state: GymEnvState, action: Any, next_state: GymEnvState
    ) -> Info:
        del state, action, next_state
        return {}

    def close(self) -> None:
        """Closes the Gymnasium env."""
        self.gym_env.close()
