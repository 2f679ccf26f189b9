"""Wrapper base classes: forwarding written once, one hook left open per kind."""

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax.random as jr
from jaxtyping import Array, Bool, Float, Key

from .._custom_types import Info
from ..env import AbstractEnv, AbstractEnvLike, AbstractEnvLikeState, AbstractEnvState
from ..space import AbstractSpace

if TYPE_CHECKING:
    from ..render import AbstractRenderer


class AbstractWrapperState(AbstractEnvLikeState):
    """The state of a stateful wrapper: its own fields plus the inner `env_state`.

    Attributes:
        env_state: The wrapped environment's state.
    """

    env_state: eqx.AbstractVar[Any]

    @property
    def unwrapped(self) -> AbstractEnvState:
        return self.env_state.unwrapped


class _InstanceAttribute:
    """A read-only instance attribute, `getter(instance)`, that a subclass
    may replace with a class constant, a property or a dataclass field
    (with or without a default) alike.

    It is invisible on the class (reading it there raises `AttributeError`),
    so `dataclasses` takes no default from it for a subclass's field of the
    same name, and an instance's own value (a field's) comes first.
    """

    def __init__(self, getter: Callable[[Any], Any]):
        self.getter = getter
        self.name = "attribute"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            raise AttributeError(
                f"{self.name!r} is an attribute of instances, not of the class "
                f"{getattr(owner, '__name__', owner)}."
            )
        return self.getter(instance)


def _forwarded_render_fps(wrapper: "AbstractWrapper") -> float | None:
    """The wrapped env's real-time frame rate (None if it gives none)."""
    return wrapper.env.render_fps


def _forwarded_dt(wrapper: "AbstractWrapper") -> float:
    """The wrapped env's seconds per step.

    Raises:
        AttributeError: If the wrapped env has no `dt` (so `hasattr` tells
            whether the env has one).
    """
    try:
        return wrapper.env.dt  # type: ignore[attr-defined]
    except AttributeError:
        raise AttributeError(
            f"{type(wrapper).__name__}.dt: the env it wraps, {wrapper.name!r} "
            f"({type(wrapper.unwrapped).__name__}), has no `dt` (seconds per "
            "step). Envs with a fixed time step (classic-control and MuJoCo "
            "ones) define it; give your env a `dt` to read it through wrappers."
        ) from None


class AbstractWrapper(AbstractEnvLike):
    """An environment built around another one (`env`).

    The wrapped env's `name`, `render_fps` and (when it has one) `dt` are
    this wrapper's too, as is its rendering (`default_renderer`, `render`).
    A wrapper that changes the timing (e.g. one that repeats actions)
    overrides `render_fps` and `dt` with properties, constants or fields.

    Attributes:
        env: The wrapped environment.
    """

    env: eqx.AbstractVar[AbstractEnvLike]

    @property
    def name(self) -> str:
        return self.env.name

    @property
    def unwrapped(self) -> AbstractEnv:
        return self.env.unwrapped

    # not properties: a subclass (one that changes the timing) may replace
    # them with properties, constants or dataclass fields alike
    render_fps = _InstanceAttribute(_forwarded_render_fps)
    dt = _InstanceAttribute(_forwarded_dt)

    def default_renderer(
        self,
        *,
        headless: bool = False,
        width: int | None = None,
        height: int | None = None,
    ) -> "AbstractRenderer":
        return self.env.default_renderer(headless=headless, width=width, height=height)


class AbstractPassThroughWrapper(AbstractWrapper):
    """A stateless wrapper: it uses the inner env's state unchanged and maps
    actions, masks, observations and rewards through four hooks."""

    @abc.abstractmethod
    def map_action(self, action: Any) -> Any:
        """Maps an action of this wrapper's space to the inner env's space."""

    @abc.abstractmethod
    def map_mask(self, mask: Any) -> Any:
        """Maps the inner env's action mask to this wrapper's action space."""

    @abc.abstractmethod
    def map_observation(self, observation: Any) -> Any:
        """Maps an inner observation to this wrapper's observation space."""

    @abc.abstractmethod
    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        """Maps an inner reward to this wrapper's reward."""

    def initial(self, *, key: Key[Array, ""]) -> Any:
        return self.env.initial(key=key)

    def restart(self, state: Any, *, key: Key[Array, ""]) -> Any:
        return self.env.restart(state, key=key)

    def transition(self, state: Any, action: Any, *, key: Key[Array, ""]) -> Any:
        return self.env.transition(state, self.map_action(action), key=key)

    def observation(self, state: Any, *, key: Key[Array, ""]) -> Any:
        return self.map_observation(self.env.observation(state, key=key))

    def reward(self, state: Any, action: Any, next_state: Any, *, key: Key[Array, ""]):
        inner = self.env.reward(state, self.map_action(action), next_state, key=key)
        return self.map_reward(inner)

    def terminal(self, state: Any, *, key: Key[Array, ""]) -> Bool[Array, ""]:
        return self.env.terminal(state, key=key)

    def truncate(self, state: Any) -> Bool[Array, ""]:
        return self.env.truncate(state)

    def action_mask(self, state: Any, *, key: Key[Array, ""]) -> Any:
        mask = self.env.action_mask(state, key=key)
        return None if mask is None else self.map_mask(mask)

    def state_info(self, state: Any) -> Info:
        return self.env.state_info(state)

    def transition_info(self, state: Any, action: Any, next_state: Any) -> Info:
        return self.env.transition_info(state, self.map_action(action), next_state)

    def render(self, state: Any, renderer: "AbstractRenderer") -> None:
        self.env.render(state, renderer)


class AbstractActionWrapper(AbstractPassThroughWrapper):
    """Changes only the action space (`map_action`, `map_mask`)."""

    @property
    def observation_space(self) -> AbstractSpace:
        return self.env.observation_space

    def map_observation(self, observation: Any) -> Any:
        return observation

    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        return reward


class AbstractObservationWrapper(AbstractPassThroughWrapper):
    """Changes only observations (`map_observation`, `observation_space`)."""

    @property
    def action_space(self) -> AbstractSpace:
        return self.env.action_space

    def map_action(self, action: Any) -> Any:
        return action

    def map_mask(self, mask: Any) -> Any:
        return mask

    def map_reward(self, reward: Float[Array, ""]) -> Float[Array, ""]:
        return reward


class AbstractRewardWrapper(AbstractPassThroughWrapper):
    """Changes only rewards (`map_reward`)."""

    @property
    def action_space(self) -> AbstractSpace:
        return self.env.action_space

    @property
    def observation_space(self) -> AbstractSpace:
        return self.env.observation_space

    def map_action(self, action: Any) -> Any:
        return action

    def map_mask(self, mask: Any) -> Any:
        return mask

    def map_observation(self, observation: Any) -> Any:
        return observation


class AbstractStatefulWrapper(AbstractWrapper):
    """A wrapper with its own state (an `AbstractWrapperState` around the inner
    state). Subclasses say how that state is created (`wrap`), carried into
    the next episode (`carry_over`) and advanced (`advance`), and define
    `observation`, `reward`, `truncate` and `transition_info`."""

    @abc.abstractmethod
    def wrap(self, env_state: Any, *, key: Key[Array, ""]) -> AbstractWrapperState:
        """Builds this wrapper's state around a fresh inner state."""

    @abc.abstractmethod
    def carry_over(
        self, state: AbstractWrapperState, env_state: Any, *, key: Key[Array, ""]
    ) -> AbstractWrapperState:
        """Builds the state of the next episode from the ended `state` and the
        inner env's restarted state."""

    @abc.abstractmethod
    def advance(
        self,
        state: AbstractWrapperState,
        action: Any,
        next_env_state: Any,
        *,
        key: Key[Array, ""],
    ) -> AbstractWrapperState:
        """Builds the next wrapper state after the inner env moved to `next_env_state`."""

    @property
    def action_space(self) -> AbstractSpace:
        return self.env.action_space

    # Key convention: the inner env receives the wrapper's key unchanged and the
    # wrapper's own hooks get `own_key(key)`. A wrapper that draws nothing then
    # costs no random-number work at all (XLA removes the unused fold-in),
    # which matters on the hot path of `step`.

    def initial(self, *, key: Key[Array, ""]) -> AbstractWrapperState:
        return self.wrap(self.env.initial(key=key), key=own_key(key))

    def restart(
        self, state: AbstractWrapperState, *, key: Key[Array, ""]
    ) -> AbstractWrapperState:
        env_state = self.env.restart(state.env_state, key=key)
        return self.carry_over(state, env_state, key=own_key(key))

    def transition(
        self, state: AbstractWrapperState, action: Any, *, key: Key[Array, ""]
    ):
        next_env_state = self.env.transition(state.env_state, action, key=key)
        return self.advance(state, action, next_env_state, key=own_key(key))

    def terminal(
        self, state: AbstractWrapperState, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        return self.env.terminal(state.env_state, key=key)

    def action_mask(self, state: AbstractWrapperState, *, key: Key[Array, ""]) -> Any:
        return self.env.action_mask(state.env_state, key=key)

    def state_info(self, state: AbstractWrapperState) -> Info:
        return self.env.state_info(state.env_state)

    def render(self, state: AbstractWrapperState, renderer: "AbstractRenderer") -> None:
        self.env.render(state.env_state, renderer)


_WRAPPER_SALT = 0x7EA51DE5


def own_key(key: Key[Array, ""]) -> Key[Array, ""]:
    """The key a stateful wrapper uses for its own randomness, derived from the
    key it passes on unchanged to the inner env. `fold_in` with a large
    constant hashes a counter no ordinary draw of the inner env reaches (it
    would need 2^31 random words in one call), so the two are independent."""
    return jr.fold_in(key, _WRAPPER_SALT)


def require_box(env: AbstractEnvLike, wrapper: str, which: str) -> None:
    """Raises a `TypeError` if `env`'s `which` space (`"action"`/`"observation"`) is not a `Box`."""
    from ..space import Box

    space = getattr(env, f"{which}_space")
    if not isinstance(space, Box):
        raise TypeError(
            f"`{wrapper}` needs an env whose {which} space is a `Box`, but {env.name!r} "
            f"has {space!r}. Use it only on continuous {which}s (or wrap with "
            "`FlattenObservation` first for observations)."
        )


def require_transform(wrapper: str, which: str, space: Any, **funcs: Any) -> None:
    """Raises a `TypeError` unless `space` (the new `which` space,
    `"action"`/`"observation"`, of `Transform<Which>`) is a lerax space and
    every one of `funcs` is callable."""
    if not isinstance(space, AbstractSpace):
        raise TypeError(
            f"`{wrapper}(env, func, {which}_space)`: `{which}_space` must be "
            f"a lerax space (e.g. `lerax.space.Box`), got {space!r}. Use a space "
            "from `lerax.space` (convert a Gymnasium space with"
            " `lerax.compatibility.gym_space_to_lerax_space`)."
        )
    for name, func in funcs.items():
        if not callable(func):
            raise TypeError(
                f"`{wrapper}({name}=...)` must be callable (a function), got {func!r}."
            )
