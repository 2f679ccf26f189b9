"""`GymnaxToLeraxEnv`: a gymnax environment as a lerax environment."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Key, PyTree

from .._custom_types import Info
from .._extras import require
from ..env import AbstractEnv, AbstractEnvState
from ..space import AbstractSpace
from ._common import what_is
from ._gymnax_spaces import cast_to, gymnax_space_to_lerax_space

gymnax_environment = require("gymnax.environments.environment", "gym")


@final
class GymnaxEnvState(AbstractEnvState):
    """The state of `GymnaxToLeraxEnv`.

    Attributes:
        env_state: The gymnax env's own state.
        observation: The observation gymnax returned for it.
        reward: The reward of the step that led here (0 after a reset).
        terminated: Whether gymnax reported termination on that step.
        truncated: Whether gymnax's time limit (`is_truncated`, i.e.
            `params.max_steps_in_episode`) was reached on that step.
    """

    env_state: PyTree
    observation: Any
    reward: Float[Array, ""]
    terminated: Bool[Array, ""]
    truncated: Bool[Array, ""]


@final
class GymnaxToLeraxEnv(AbstractEnv[GymnaxEnvState, Any, Any, None]):
    """A gymnax env (with its params) as a pure, vmappable lerax env.

    It calls gymnax's `reset_env` and `step_env` (no gymnax auto-reset:
    lerax's `step` does that) and keeps gymnax 1.0's two end signals apart:
    `terminated` is what `step_env` reports, `truncated` is gymnax's
    `is_truncated` (the time limit `params.max_steps_in_episode`), so lerax
    algorithms bootstrap at time limits. gymnax's per-step `info` (e.g. its
    `discount`) is not passed on: the lerax step's `info` holds lerax's own
    entries.

    Attributes:
        env: The gymnax env.
        params: Its `EnvParams` (a pytree; its array leaves may be vmapped
            or traced once the adapter is built with concrete ones, e.g.
            `jax.vmap(lambda p: rollout(eqx.tree_at(lambda e: e.params,
            env, p)))`).
        name: ``"GymnaxToLeraxEnv(<gymnax name>)"``.
        action_space: The lerax action space.
        observation_space: The lerax observation space.
        render_fps: None: gymnax envs declare no frame rate.
    """

    env: Any = eqx.field(static=True)
    params: PyTree
    name: str = eqx.field(static=True)
    action_space: AbstractSpace
    observation_space: AbstractSpace

    def __init__(self, env: Any, params: PyTree | None = None):
        """Wraps `env`.

        Args:
            env: A `gymnax.environments.environment.Environment`, e.g. from
                `gymnax.make("CartPole-v1")`.
            params: Its params (default `env.default_params`), concrete
                (the spaces are built from them).

        Raises:
            TypeError: If `env` is not a gymnax env or its spaces have no
                lerax counterpart, `params` are not of the type of
                `env.default_params` (e.g. another env's), or are traced (built inside
                `jax.jit` or `jax.vmap`; the message says how to vmap params
                instead).
        """
        if not isinstance(env, gymnax_environment.Environment):
            raise TypeError(
                "`GymnaxToLeraxEnv(env, params)` needs a gymnax `Environment` "
                f"(e.g. `env, params = gymnax.make('CartPole-v1')`), got "
                f"{what_is(env)}."
            )
        expected = type(env.default_params)
        if params is not None and not isinstance(params, expected):
            raise TypeError(
                f"`GymnaxToLeraxEnv({env.name}, params)` needs that env's params "
                f"({expected.__name__} from `{expected.__module__}`), got "
                f"{type(params).__name__} from `{type(params).__module__}`; pass "
                "the params `gymnax.make` returned with the env (or its "
                "`default_params`, changed with `.replace(...)`)."
            )
        self.env = env
        self.params = env.default_params if params is None else params
        self.name = f"GymnaxToLeraxEnv({env.name})"
        try:
            self.action_space = gymnax_space_to_lerax_space(
                env.action_space(self.params)
            )
            self.observation_space = gymnax_space_to_lerax_space(
                env.observation_space(self.params)
            )
        except jax.errors.JAXTypeError:
            raise TypeError(
                f"`GymnaxToLeraxEnv({env.name}, params)` was given traced params "
                "(inside `jax.jit` or `jax.vmap`), but its spaces are built from "
                "concrete ones. Build it outside with concrete params, then swap "
                "in the traced ones: `eqx.tree_at(lambda e: e.params, env, params)`."
            ) from None

    # gymnax envs declare no real-time frame rate (gymnax has no rendering
    # metadata), so this adapter gives none either, as the base does
    render_fps = None

    @property
    def dt(self) -> float:
        """The gymnax env's seconds per step, `params.dt` (gymnax's Acrobot,
        Pendulum, Reacher and Swimmer have it).

        Raises:
            AttributeError: If the params have no `dt` (e.g. CartPole, whose
                step is `params.tau`, as in Gymnasium), or it is not one
                concrete number (vmapped or traced params), so `hasattr`
                tells whether a single `dt` is known.
        """
        value = getattr(self.params, "dt", None)
        if value is None:
            raise AttributeError(
                f"{self.name}.dt: the gymnax params "
                f"({type(self.params).__name__}) have no `dt` (seconds per step)."
            )
        if isinstance(value, jax.core.Tracer) or jnp.ndim(value) != 0:
            raise AttributeError(
                f"{self.name}.dt: the gymnax params' `dt` is not one concrete "
                f"number (shape {jnp.shape(value)}, e.g. vmapped or traced "
                "params), so there is no single `dt`."
            )
        return float(value)

    def initial(self, *, key: Key[Array, ""]) -> GymnaxEnvState:
        observation, env_state = self.env.reset_env(key, self.params)
        return GymnaxEnvState(
            jax.tree.map(jnp.asarray, env_state),
            cast_to(self.observation_space, observation),
            jnp.zeros((), jnp.float32),
            jnp.zeros((), bool),
            jnp.zeros((), bool),
        )

    def transition(
        self, state: GymnaxEnvState, action: Any, *, key: Key[Array, ""]
    ) -> GymnaxEnvState:
        observation, env_state, reward, terminated, _ = self.env.step_env(
            key, state.env_state, action, self.params
        )
        truncated = self.env.is_truncated(env_state, self.params)
        # Integer leaves such as `time` may come back weakly typed; keep the
        # layout of `initial` so lerax's auto-reset can select between them.
        env_state = jax.tree.map(
            lambda new, old: jnp.asarray(new, jnp.result_type(old)),
            env_state,
            state.env_state,
        )
        return GymnaxEnvState(
            env_state,
            cast_to(self.observation_space, observation),
            jnp.asarray(reward, jnp.float32),
            jnp.asarray(terminated, bool),
            jnp.asarray(truncated, bool),
        )

    def observation(self, state: GymnaxEnvState, *, key: Key[Array, ""]) -> Any:
        del key
        return state.observation

    def reward(
        self,
        state: GymnaxEnvState,
        action: Any,
        next_state: GymnaxEnvState,
        *,
        key: Key[Array, ""],
    ) -> Float[Array, ""]:
        del state, action, key
        return next_state.reward

    def terminal(
        self, state: GymnaxEnvState, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        del key
        return state.terminated

    def truncate(self, state: GymnaxEnvState) -> Bool[Array, ""]:
        return state.truncated

    def action_mask(self, state: GymnaxEnvState, *, key: Key[Array, ""]) -> None:
        del state, key
        return None

    def state_info(self, state: GymnaxEnvState) -> Info:
        del state
        return {}

    def transition_info(
        self, state: GymnaxEnvState, action: Any, next_state: GymnaxEnvState
    ) -> Info:
        del state, action, next_state
        return {}
