"""The functional environment interface and its derived `reset`/`step`."""

import abc
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Key

from .._custom_types import ActType, Info, MaskType, ObsType, StateType
from ..space import AbstractSpace

if TYPE_CHECKING:
    from ..render import AbstractRenderer


class AbstractEnvLike(eqx.Module, Generic[StateType, ActType, ObsType, MaskType]):
    """Anything that behaves as a pure environment: a base env or a wrapper.

    An environment is an immutable description (constants, spaces); all that
    changes lives in an explicit state. The dynamics are split into small pure
    hooks, and the Gymnasium-style `reset`/`step` are written once on top of
    them, so every env and wrapper gets the same auto-reset semantics.

    Attributes:
        name: A human-readable name.
        action_space: The space actions are drawn from.
        observation_space: The space observations lie in.
        render_fps: Frames per second at which consecutive states play in
            real time (Gymnasium's `metadata["render_fps"]` for the same
            env, e.g. 50 for CartPole, `round(1 / dt)` for a MuJoCo env):
            the default frame rate of `lerax.render.record_video`,
            `EvalCallback`'s videos and `lerax record`. None (the default
            here) when the env does not say; videos then play at
            `lerax.render.DEFAULT_FPS` (30, Gymnasium's `RecordVideo`
            default). An env gives its rate as a class constant
            (``render_fps = 50``), a property (derived from its time step)
            or a field; wrappers report the rate of the env they wrap.
    """

    name: eqx.AbstractVar[str]
    action_space: eqx.AbstractVar[AbstractSpace]
    observation_space: eqx.AbstractVar[AbstractSpace]
    # a plain class attribute, not a property, and not annotated (as a
    # ClassVar it would put a subclass's `render_fps` field first in the
    # field order, before fields without defaults): a subclass may override
    # it with a constant, a property or a dataclass field alike
    render_fps = None

    @abc.abstractmethod
    def initial(self, *, key: Key[Array, ""]) -> StateType:
        """Draws the state at the start of a fresh episode."""

    @abc.abstractmethod
    def restart(self, state: StateType, *, key: Key[Array, ""]) -> StateType:
        """The state that starts the next episode once `state`'s episode ended.

        Base environments draw a fresh `initial` state; stateful wrappers keep
        what must outlive an episode (such as normalisation statistics).
        """

    @abc.abstractmethod
    def transition(
        self, state: StateType, action: ActType, *, key: Key[Array, ""]
    ) -> StateType:
        """Advances the state by one step under `action`."""

    @abc.abstractmethod
    def observation(self, state: StateType, *, key: Key[Array, ""]) -> ObsType:
        """The observation emitted in `state` (the key allows sensor noise)."""

    @abc.abstractmethod
    def reward(
        self,
        state: StateType,
        action: ActType,
        next_state: StateType,
        *,
        key: Key[Array, ""],
    ) -> Float[Array, ""]:
        """The reward for moving from `state` to `next_state` under `action`."""

    @abc.abstractmethod
    def terminal(self, state: StateType, *, key: Key[Array, ""]) -> Bool[Array, ""]:
        """Whether `state` ends the episode by the task's own rules."""

    @abc.abstractmethod
    def truncate(self, state: StateType) -> Bool[Array, ""]:
        """Whether the episode is cut short in `state` (e.g. a time limit)."""

    @abc.abstractmethod
    def action_mask(self, state: StateType, *, key: Key[Array, ""]) -> MaskType | None:
        """The actions allowed in `state`, or None when all are allowed."""

    @abc.abstractmethod
    def state_info(self, state: StateType) -> Info:
        """Extra information about `state` (returned by `reset`)."""

    @abc.abstractmethod
    def transition_info(
        self, state: StateType, action: ActType, next_state: StateType
    ) -> Info:
        """Extra information about a transition (returned by `step`)."""

    @property
    @abc.abstractmethod
    def unwrapped(self) -> "AbstractEnv":
        """The innermost environment under all wrappers."""

    def default_renderer(
        self,
        *,
        headless: bool = False,
        width: int | None = None,
        height: int | None = None,
    ) -> "AbstractRenderer":
        """A renderer set up to draw this env (size, world-to-pixel transform).

        Envs that draw themselves override this together with `render`;
        wrappers hand both to the env they wrap.

        Args:
            headless: Draw off-screen (no window), e.g. for videos.
            width: Image width in pixels (None: the env's default).
            height: Image height in pixels (None: the env's default).

        Returns:
            A renderer, not yet opened.

        Raises:
            NotImplementedError: If this env does not render itself.
        """
        del headless, width, height
        raise NotImplementedError(_no_rendering(self, "default_renderer"))

    def render(self, state: StateType, renderer: "AbstractRenderer") -> None:
        """Draws one frame of `state` on `renderer` (without presenting it).

        Args:
            state: One state of this env (no batch or time axis).
            renderer: An open renderer, normally from `default_renderer`.

        Raises:
            NotImplementedError: If this env does not render itself.
        """
        del state, renderer
        raise NotImplementedError(_no_rendering(self, "render"))

    def render_states(
        self,
        states: Iterable[StateType],
        renderer: "AbstractRenderer | str" = "auto",
        dt: float = 0.0,
    ) -> None:
        """Draws and presents each state in turn, then closes the renderer.

        Args:
            states: States of this env, one per frame.
            renderer: A renderer, or ``"auto"`` for `default_renderer()` (a
                window). A `lerax.render.VideoRenderer` writes its file on
                close, and nothing if a frame fails (or the loop is
                interrupted).
            dt: Seconds to wait after each frame (playback speed).
        """
        if isinstance(renderer, str):
            if renderer != "auto":
                raise ValueError(
                    f"`renderer` must be a renderer or 'auto', got {renderer!r}."
                )
            renderer = self.default_renderer()
        renderer.open()
        try:
            for state in states:
                self.render(state, renderer)
                renderer.draw()
                if dt > 0:
                    time.sleep(dt)
        except BaseException:
            renderer.abort()  # a recorder writes nothing: an old file is kept
            raise
        renderer.close()

    def render_stacked(
        self,
        states: StateType,
        renderer: "AbstractRenderer | str" = "auto",
        dt: float = 0.0,
    ) -> None:
        """Like `render_states`, for states stacked along a leading time axis
        (e.g. the states collected by `jax.lax.scan`)."""
        self.render_states(unstack(states), renderer, dt)

    def reset(self, *, key: Key[Array, ""]) -> tuple[StateType, ObsType, Info]:
        """Starts an episode.

        Args:
            key: A JAX PRNG key.

        Returns:
            `(state, observation, info)`.
        """
        return _reset(self, key)

    def step(
        self,
        state: StateType,
        action: ActType,
        *,
        key: Key[Array, ""],
        check: bool = True,
        autoreset: bool = True,
    ) -> tuple[
        StateType, ObsType, Float[Array, ""], Bool[Array, ""], Bool[Array, ""], Info
    ]:
        """Takes one step, starting a new episode automatically when one ends.

        On a step where the episode ends (`terminated | truncated`), the
        returned state and observation already belong to the next episode, and
        `info["final_observation"]` holds the last observation of the finished
        one (Gymnasium/gymnax-1.0 semantics), so a truncated episode can be
        bootstrapped. `info["final_observation"]` is present on every step
        (equal to the observation when the episode goes on) so `info` has a
        fixed structure under `jax.lax.scan`. Envs with action masks also put
        the mask of that state in `info["final_action_mask"]` (for targets
        such as DQN's max over allowed next actions).

        Args:
            state: The current state.
            action: An element of `action_space`.
            key: A JAX PRNG key.
            check: Check at run time that the action's value lies in
                `action_space` (structure, shape and dtype are always checked
                at trace time). The run-time check costs a conditional per
                step, up to ~30% of a cheap env's step; lerax's own rollouts
                pass `check=False` because their actions are valid by
                construction (sampled from the space, or clipped to it).
            autoreset: Start the next episode when this one ends (the default).
                With False the returned state and observation stay those of
                the step taken, also when it ended the episode, and the
                next episode's `restart` is not computed at all: for loops
                that stop an env at its episode's end (evaluation), where
                the restart is wasted work (for MuJoCo envs a whole forward
                pass per step, and a third of the compiled program). Must be
                a Python bool.

        Returns:
            `(state, observation, reward, terminated, truncated, info)`.

        Raises:
            ValueError: At trace time, if `action` has the wrong structure,
                shape or dtype for `action_space`; or if the env is
                inconsistent (`reward`/`terminal`/`truncate` not scalars, or
                `transition` and `restart` giving differently shaped states).
            equinox.EquinoxRuntimeError: At run time, if `action`'s value is
                outside `action_space`.
        """
        if not isinstance(autoreset, bool):
            raise TypeError(
                f"`step(autoreset=...)` must be a Python bool, got {autoreset!r}."
            )
        return _step(
            self, state, _as_action(self.action_space, action), key, check, autoreset
        )


def _no_rendering(env: AbstractEnvLike, method: str) -> str:
    return (
        f"{env.name!r} ({type(env).__name__}) cannot render itself: `{method}` is "
        "not implemented for it. Envs that draw themselves (e.g. the "
        "classic-control ones) define `default_renderer` and `render`; add them "
        "to this env to draw it."
    )


def unstack(states: Any) -> Iterator[Any]:
    """Splits a pytree of states stacked along a leading time axis into one
    state per step (as NumPy arrays, on the host).

    Raises:
        ValueError: If the leaves are scalars or their leading sizes differ.
    """
    host = jax.device_get(states)
    leaves = jax.tree.leaves(host)
    sizes = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in leaves}
    if not leaves or None in sizes or len(sizes) != 1:
        raise ValueError(
            "Expected states stacked along a leading time axis (as returned by "
            "`jax.lax.scan`), got leaves of shapes "
            f"{[jnp.shape(leaf) for leaf in leaves]}. For one state use `render`."
        )
    (size,) = sizes

    def at(index: int) -> Any:
        return jax.tree.map(lambda leaf: leaf[index], host)

    return (at(index) for index in range(size))


def _as_action(space: AbstractSpace, action: Any) -> Any:
    """Converts an action's leaves to (strongly typed) JAX arrays.

    For array-valued spaces (`shape` is not None) a list or tuple is turned
    into one array, so the env receives what `space.contains` validated
    rather than a sequence of scalars.
    """
    if space.shape is not None and isinstance(action, (list, tuple)):
        try:
            action = jnp.asarray(action)
        except (TypeError, ValueError):
            pass  # Left as is; `check_action` reports it.
    return jax.tree.map(_as_jax, action)


def _as_jax(x: Any) -> Any:
    # Python scalars become weakly typed arrays; making them strongly typed
    # means `step(state, 1)` and `step(state, jnp.array(1, jnp.int32))` share
    # one compilation instead of tracing twice.
    x = x if isinstance(x, jax.Array) else jnp.asarray(x)
    return jnp.asarray(x, dtype=x.dtype) if getattr(x, "weak_type", False) else x


def _scalar(env: "AbstractEnvLike", hook: str, value: Any, dtype: Any) -> Any:
    """Checks (at trace time) that a hook returned a scalar, and casts it."""
    shape = jnp.shape(value)
    if shape != ():
        raise ValueError(
            f"`{type(env).__name__}.{hook}` must return a scalar, got shape {shape} "
            f"(environment {env.name!r})."
        )
    return jnp.asarray(value, dtype)


def _check_structure(space: AbstractSpace, action: Any) -> None:
    ok = space.contains(action)
    if not isinstance(ok, jax.core.Tracer) and not bool(ok):
        check_action(space, action)  # raises the structural error


def check_action(space: AbstractSpace, action: Any) -> Any:
    """Validates `action` against `space`: structure at trace time, value at run time.

    Returns:
        `action`, with a run-time check attached (use the returned value).
    """
    ok = space.contains(action)
    if not isinstance(ok, jax.core.Tracer):
        if not bool(ok):
            desc = jax.tree.map(
                lambda x: f"{jnp.shape(x)} {jnp.result_type(x)}", action
            )
            raise ValueError(
                f"Action {desc} is not an element of the action space {space!r}: "
                "check its shape, dtype and value (sample one with "
                "`env.action_space.sample(key=...)`)."
            )
        return action
    return eqx.error_if(
        action,
        ~ok,
        f"Action outside the action space {space!r}; clip or fix the policy's output "
        "(for `Box` actions, `lerax.wrapper.ClipAction` accepts any value).",
    )


def tree_layout(tree: Any) -> tuple[Any, list[tuple[tuple[int, ...], Any]]]:
    """A pytree's structure and its leaves' `(shape, dtype)`, for comparing
    what two computations produce (trace-time)."""
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, [(tuple(jnp.shape(x)), jnp.result_type(x)) for x in leaves]


def _check_same_layout(env: AbstractEnvLike, next_state: Any, restart: Any) -> None:
    """Raises (at trace time) if `transition` and `restart` disagree on the
    state's structure, shapes or dtypes: auto-reset selects between the two."""

    ours, theirs = tree_layout(next_state), tree_layout(restart)
    if ours != theirs:
        raise ValueError(
            f"{env.name!r}: `transition` and `restart`/`initial` must return states "
            "with the same structure, shapes and dtypes (auto-reset selects "
            f"between them), got {ours[1]} after `transition` and {theirs[1]} "
            "after `restart`."
        )


def where_tree(pred: Bool[Array, ""], on_true: Any, on_false: Any) -> Any:
    """Selects between two pytrees of the same structure leaf by leaf."""
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


@eqx.filter_jit
def _reset(env: AbstractEnvLike, key: Key[Array, ""]):
    init_key, obs_key = jr.split(key)
    state = env.initial(key=init_key)
    return state, env.observation(state, key=obs_key), env.state_info(state)


@eqx.filter_jit
def _step(
    env: AbstractEnvLike,
    state: Any,
    action: Any,
    key: Key[Array, ""],
    check: bool,
    autoreset: bool = True,
):
    if check:
        action = check_action(env.action_space, action)
    else:
        _check_structure(env.action_space, action)
    # Independent keys per hook via fold_in: hooks that ignore their key cost
    # nothing, since the unused hashes are removed by XLA.
    transition_key, reward_key, terminal_key, obs_key, restart_key, reset_obs_key = (
        jr.fold_in(key, i) for i in range(6)
    )
    try:
        next_state = env.transition(state, action, key=transition_key)
    except Exception as error:
        # at trace time only, and only on failure: a state of another env (or
        # an unwrapped env's state given to a wrapper) fails deep inside
        # `transition` with an unrelated message
        _check_state_layout(env, state, key, error)
        raise
    reward = _scalar(
        env,
        "reward",
        env.reward(state, action, next_state, key=reward_key),
        jnp.float32,
    )
    terminated = _scalar(
        env, "terminal", env.terminal(next_state, key=terminal_key), bool
    )
    truncated = _scalar(env, "truncate", env.truncate(next_state), bool)
    final_observation = env.observation(next_state, key=obs_key)
    info = dict(env.transition_info(state, action, next_state))
    if autoreset:
        done = terminated | truncated
        restart_state = env.restart(next_state, key=restart_key)
        _check_same_layout(env, next_state, restart_state)
        new_state = where_tree(done, restart_state, next_state)
        observation = where_tree(
            done, env.observation(restart_state, key=reset_obs_key), final_observation
        )
    else:
        new_state, observation = next_state, final_observation
    info["final_observation"] = final_observation
    final_mask = env.action_mask(next_state, key=jr.fold_in(key, 6))
    if final_mask is not None:  # masked envs only: the mask that goes with it
        info["final_action_mask"] = final_mask
    return new_state, observation, reward, terminated, truncated, info


def _check_state_layout(
    env: AbstractEnvLike, state: Any, key: Key[Array, ""], error: Exception
) -> None:
    """Raises a `TypeError` naming the mismatch (from `error`) when `state`
    is not laid out as `env`'s own states are."""
    try:
        expected = jax.eval_shape(lambda k: env.initial(key=k), key)
    except Exception:
        return  # cannot tell; the original error stands
    owner = type(env).__name__
    fix = (
        "Pass a state returned by this env's `reset`/`step` (a wrapped env, "
        "such as `lerax.env.make`'s `TimeLimit`, keeps its own state around "
        "the inner env's: use `reset` of the same env object you step)."
    )
    got_paths, got_def = jax.tree_util.tree_flatten_with_path(state)
    want_paths, want_def = jax.tree_util.tree_flatten_with_path(expected)
    if got_def != want_def:
        raise TypeError(
            f"`{owner}.step` got a state of type {type(state).__name__}, but "
            f"{owner}'s states are {type(expected).__name__}s (or differ in "
            f"layout). {fix}"
        ) from error
    for (path, got), (_, want) in zip(got_paths, want_paths):
        if jnp.shape(got) != want.shape:
            raise TypeError(
                f"`{owner}.step` got a state whose leaf "
                f"`state{jax.tree_util.keystr(path)}` has shape {jnp.shape(got)}, "
                f"but {owner}'s states have shape {want.shape} there (a state of "
                "another env, or a batched state: step a batch with `jax.vmap`). "
                f"{fix}"
            ) from error


class AbstractEnv(AbstractEnvLike[StateType, ActType, ObsType, MaskType]):
    """A base environment (not a wrapper): `unwrapped` is itself and a new
    episode always starts from a fresh `initial` state."""

    @property
    def unwrapped(self) -> "AbstractEnv":
        return self

    def restart(self, state: StateType, *, key: Key[Array, ""]) -> StateType:
        del state
        return self.initial(key=key)
