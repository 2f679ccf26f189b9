"""Shared machinery of the MuJoCo environments (physics on MJX)."""

import abc
import math
import numbers
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ..._custom_types import Info
from ...utils._checks import real_scalar
from .._base import AbstractEnv
from .._checks import check_nonnegative as check_nonnegative
from .._checks import check_number_fields
from .._checks import check_switch as check_switch
from .._state import AbstractEnvState
from ._model import load_model, mujoco_modules, put_model, resolve_xml
from ._options import MujocoRenderOptions

if TYPE_CHECKING:
    from ._render import MujocoRenderer


class MujocoState(AbstractEnvState):
    """The state of a MuJoCo env: the MJX simulation data.

    Attributes:
        data: A `mujoco.mjx.Data` (positions, velocities, simulation time and
            every derived quantity of the last forward pass).
    """

    data: Any

    @property
    def sim_state(self) -> Any:
        """`data`, under the earlier lerax's name."""
        return self.data


class AbstractMujocoEnv(AbstractEnv[MujocoState, Array, Array, None]):
    """A MuJoCo model stepped on MJX, `frame_skip` physics steps per env step.

    The shared skeleton: `initial` draws `qpos`/`qvel` (`initial_qpos_qvel`)
    and runs the forward pass, so body positions, sites and contacts of the
    first state are valid; `transition` writes the action into `ctrl` and
    runs `frame_skip` `mujoco.mjx.step`s in a loop (plus the post-constraint
    pass that fills `cfrc_ext` when `uses_contact_forces`). Tasks supply the
    observation, reward terms, termination rule and info.

    A state whose `qpos`/`qvel` is no longer finite (a physics blow-up) ends
    the episode: `terminal` is True, `info["diverged"]` is True, and the
    observation, reward and reward terms of that step are zeros, so one
    diverging env cannot put NaN into statistics shared by a batch.

    Every env also takes the rendering keywords of Gymnasium's `MujocoEnv`
    (kept in `render_options`, static: they never change the physics or its
    compiled program):

    - `default_camera_config`: settings of the free camera (`distance`,
      `azimuth`, `elevation`, `lookat`, ...); each env's default is its
      Gymnasium v5 default (None for InvertedDoublePendulum and Swimmer).
    - `width`, `height`: the default frame size of `default_renderer`, hence
      of `lerax.render.render_rgb`, `record_video` and `render_stacked`
      (480 x 480); their own `width`/`height` arguments override it.
    - `camera_id`, `camera_name`: the camera rendered from (not both): a
      camera of the model, or -1 for the free camera; by default the camera
      named ``"track"`` if the model has one, else the free camera.
    - `max_geom`: most geoms drawn per frame (1000).
    - `visual_options`: `{mujoco.mjtVisFlag: bool}` flags of the scene.
    - `render_mode`: only None. Gymnasium's env draws its own simulation on
      `env.render()` in a mode fixed at construction; a lerax env is
      functional and draws the state it is given when asked, so a stored
      mode would be read by nothing and ported code would build and then
      never render. Any other value raises a `TypeError` naming what to call
      instead (`render_rgb`, `record_video`, `render_stacked`, or
      `lerax.compatibility.LeraxToGymEnv(env, render_mode="rgb_array")`).

    Attributes:
        xml_file: The model file (a name bundled with Gymnasium or a path).
        frame_skip: Physics steps per env step.
        model: The `mujoco.mjx.Model`.
        uses_contact_forces: Whether the task reads `cfrc_ext` (then every
            step ends with `mujoco.mjx.rne_postconstraint`, as Gymnasium's
            `mj_rnePostConstraint`).
        render_options: The rendering options (Gymnasium's `width`,
            `height`, `camera_id`, `camera_name`, `default_camera_config`,
            `max_geom`, `visual_options`).
    """

    xml_file: eqx.AbstractVar[str]
    frame_skip: eqx.AbstractVar[int]
    model: eqx.AbstractVar[Any]
    render_options: eqx.AbstractVar[MujocoRenderOptions]
    uses_contact_forces: eqx.AbstractClassVar[bool]

    def __check_init__(self):
        # a weight or scale given as text or None was stored and failed (or
        # was misread) deep inside the compiled step
        check_number_fields(self)

    @abc.abstractmethod
    def initial_qpos_qvel(
        self, *, key: Key[Array, ""]
    ) -> tuple[Float[Array, " nq"], Float[Array, " nv"]]:
        """Draws the positions and velocities an episode starts from."""

    @abc.abstractmethod
    def observe(self, data: Any) -> Float[Array, " n"]:
        """The task's observation of MJX data `data`."""

    @abc.abstractmethod
    def reward_terms(
        self, data: Any, action: Float[Array, " nu"], next_data: Any
    ) -> tuple[Float[Array, ""], Info]:
        """The reward of a step and its terms, named as Gymnasium's `info`."""

    @abc.abstractmethod
    def task_terminal(self, data: Any) -> Bool[Array, ""]:
        """Whether `data` ends the episode by the task's rule."""

    @abc.abstractmethod
    def step_info(self, data: Any, next_data: Any) -> Info:
        """Gymnasium's step `info` without the reward terms (positions, ...)."""

    @abc.abstractmethod
    def reset_info(self, data: Any) -> Info:
        """Gymnasium's reset `info`."""

    @property
    def mj_model(self) -> Any:
        """The compiled `mujoco.MjModel` (for rendering and inspection)."""
        return load_model(self.xml_file)

    @property
    def default_camera(self) -> dict:
        """The free camera's settings (`default_camera_config`) as a dict."""
        return dict(self.render_options.default_camera_config or ())

    @property
    def dt(self) -> float:
        """Seconds per env step: the physics timestep times `frame_skip`."""
        return float(self.mj_model.opt.timestep) * self.frame_skip

    @property
    def render_fps(self) -> int:
        """Frames per second of real time, `round(1 / dt)`: Gymnasium's
        `metadata["render_fps"]` (e.g. 20 for HalfCheetah, 125 for Hopper).
        It follows `frame_skip` and the model's timestep."""
        return int(round(1.0 / self.dt))

    def default_renderer(
        self,
        *,
        headless: bool = False,
        width: int | None = None,
        height: int | None = None,
    ) -> "MujocoRenderer":
        """A `lerax.env.mujoco.MujocoRenderer` for this model, set up by the
        env's rendering options (`render_options`); `width`/`height` override
        the env's frame size."""
        from ._render import MujocoRenderer

        options = self.render_options
        return MujocoRenderer(
            self.xml_file,
            width=options.width if width is None else width,
            height=options.height if height is None else height,
            camera=self.default_camera,
            camera_id=options.camera_id,
            camera_name=options.camera_name,
            max_geom=options.max_geom,
            visual_options=dict(options.visual_options),
            headless=headless,
        )

    def render(self, state: MujocoState, renderer: Any) -> None:
        """Renders `state` (one, unbatched) on a `MujocoRenderer`.

        Raises:
            TypeError: If `renderer` is not a `MujocoRenderer` (or a
                `lerax.render.VideoRenderer` around one).
        """
        from ...render import VideoRenderer
        from ._render import MujocoRenderer

        target = renderer.renderer if isinstance(renderer, VideoRenderer) else renderer
        if not isinstance(target, MujocoRenderer):
            raise TypeError(
                f"{self.name} renders with a `lerax.env.mujoco.MujocoRenderer` "
                f"(see `default_renderer`), got {type(renderer).__name__}."
            )
        target.show(np.asarray(state.data.qpos), np.asarray(state.data.qvel))

    def set_state(
        self, qpos: Float[Array, " nq"], qvel: Float[Array, " nv"]
    ) -> MujocoState:
        """The state with these positions and velocities (after a forward pass),
        as Gymnasium's `set_state`."""
        _, mjx = mujoco_modules()
        with jax.numpy_rank_promotion("allow"):
            data = mjx.make_data(self.model)
            data = data.replace(
                qpos=jnp.asarray(qpos, data.qpos.dtype),
                qvel=jnp.asarray(qvel, data.qvel.dtype),
            )
            return MujocoState(mjx.forward(self.model, data))

    def initial(self, *, key: Key[Array, ""]) -> MujocoState:
        qpos, qvel = self.initial_qpos_qvel(key=key)
        return self.set_state(qpos, qvel)

    def transition(
        self, state: MujocoState, action: Float[Array, " nu"], *, key: Key[Array, ""]
    ) -> MujocoState:
        del key
        _, mjx = mujoco_modules()
        model = self.model
        data = state.data
        with jax.numpy_rank_promotion("allow"):
            data = data.replace(ctrl=jnp.asarray(action, data.ctrl.dtype))
            data = jax.lax.fori_loop(
                0, self.frame_skip, lambda _, d: mjx.step(model, d), data
            )
            if self.uses_contact_forces:
                data = mjx.rne_postconstraint(model, data)
        return MujocoState(data)

    def diverged(self, state: MujocoState) -> Bool[Array, ""]:
        """Whether the physics blew up: `qpos` or `qvel` is not finite."""
        data = state.data
        return ~(jnp.all(jnp.isfinite(data.qpos)) & jnp.all(jnp.isfinite(data.qvel)))

    def observation(self, state: MujocoState, *, key: Key[Array, ""]) -> Array:
        del key
        obs = jnp.asarray(self.observe(state.data), jnp.float32)
        return jnp.where(self.diverged(state), jnp.zeros_like(obs), obs)

    def _terms(self, state: MujocoState, action: Array, next_state: MujocoState):
        reward, terms = self.reward_terms(
            state.data, jnp.asarray(action, jnp.float32), next_state.data
        )
        bad = self.diverged(next_state)
        zero = lambda x: jnp.where(bad, jnp.zeros_like(x), x)
        return zero(jnp.asarray(reward, jnp.float32)), jax.tree.map(zero, terms)

    def reward(
        self,
        state: MujocoState,
        action: Array,
        next_state: MujocoState,
        *,
        key: Key[Array, ""],
    ) -> Float[Array, ""]:
        del key
        return self._terms(state, action, next_state)[0]

    def terminal(self, state: MujocoState, *, key: Key[Array, ""]) -> Bool[Array, ""]:
        del key
        return jnp.asarray(self.task_terminal(state.data)) | self.diverged(state)

    def truncate(self, state: MujocoState) -> Bool[Array, ""]:
        del state
        return jnp.array(False)

    def action_mask(self, state: MujocoState, *, key: Key[Array, ""]) -> None:
        del state, key
        return None

    def state_info(self, state: MujocoState) -> Info:
        return dict(self.reset_info(state.data))

    def transition_info(
        self, state: MujocoState, action: Array, next_state: MujocoState
    ) -> Info:
        info = dict(self.step_info(state.data, next_state.data))
        info.update(self._terms(state, action, next_state)[1])
        info["diverged"] = self.diverged(next_state)
        return info


def load(owner: str, xml_file: str) -> tuple[str, Any, Any]:
    """Resolves and loads `xml_file`: `(path, mujoco.MjModel, mjx.Model)`."""
    path = resolve_xml(xml_file, owner)
    mj_model = load_model(path)
    return path, mj_model, put_model(mj_model, path)


def check_frame_skip(owner: str, frame_skip: Any) -> int:
    """Raises `ValueError` unless `frame_skip` is a positive int."""
    if (
        not isinstance(frame_skip, (int, np.integer))
        or isinstance(frame_skip, bool)
        or frame_skip < 1
    ):
        raise ValueError(
            f"`{owner}(frame_skip=...)` must be a positive int, got {frame_skip!r}."
        )
    return int(frame_skip)


def check_range(owner: str, name: str, value: Any) -> tuple[float, float]:
    """`value` as a pair of floats `(low, high)`.

    Raises:
        ValueError: Unless `value` is a pair of numbers (text such as
            ``("0.2", "1.0")`` included: `float` would read it) that are not
            NaN, with low <= high (an infinity is an open end).
    """
    try:
        low, high = (real_scalar(v) for v in value)
    except (TypeError, ValueError):
        low = high = None  # not a pair
    if low is None or high is None:
        raise ValueError(
            f"`{owner}({name}=...)` must be a pair of numbers (low, high), got "
            f"{value!r}."
        )
    if math.isnan(low) or math.isnan(high):
        raise ValueError(
            f"`{owner}({name}=...)` must not hold NaN (for an open end use "
            f"-inf or inf), got {value!r}."
        )
    if not low <= high:
        raise ValueError(f"`{owner}({name}=...)` must have low <= high, got {value!r}.")
    return low, high


def body_id(owner: str, mj_model: Any, body: int | str, option: str = "") -> int:
    """The index of a body given by index or name (`option`: the constructor
    keyword that gave it, for the messages).

    Raises:
        TypeError: If `body` is neither a str nor an int (a bool or a float
            such as 1.5 would otherwise pick body 1 without a word).
        ValueError: If the model has no such body.
    """
    mujoco, _ = mujoco_modules()
    where = f"`{owner}({option}=...)`" if option else f"`{owner}`"
    names = [mj_model.body(i).name for i in range(mj_model.nbody)]
    if isinstance(body, str):
        index = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_BODY, body)
        if index < 0:
            raise ValueError(
                f"{where}: the model has no body {body!r}; its bodies are {names}."
            )
        return int(index)
    if isinstance(body, (bool, np.bool_)) or not isinstance(body, numbers.Integral):
        example = next((name for name in names[1:] if name), "torso")
        raise TypeError(
            f"{where} must name a body (a str such as {example!r}) or give its "
            f"index (an int), got {body!r}."
        )
    if not 0 <= int(body) < mj_model.nbody:
        raise ValueError(
            f"{where}: body index {body} out of range [0, {mj_model.nbody}); the "
            f"model's bodies are {names}."
        )
    return int(body)


def uniform(key: Key[Array, ""], shape: tuple[int, ...], scale: float) -> Array:
    """`U(-scale, scale)` noise of `shape`."""
    return jax.random.uniform(key, shape, minval=-scale, maxval=scale)


def clip(x: Array, low: float, high: float) -> Array:
    """Clips without promoting float32 to float64 for Python bounds."""
    return jnp.clip(x, jnp.asarray(low, x.dtype), jnp.asarray(high, x.dtype))


def action_box(mj_model: Any) -> Any:
    """Gymnasium's action space: the actuators' control ranges, float32."""
    from ...space import Box

    low, high = np.asarray(mj_model.actuator_ctrlrange, np.float32).T
    return Box(low, high)


def unbounded_box(size: int) -> Any:
    """An unbounded float32 observation box of `size` entries."""
    from ...space import Box

    return Box(-np.inf, np.inf, shape=(int(size),))


def planar_velocity(before: Array, after: Array, dt: float) -> Array:
    """`(after - before) / dt`, the finite-difference velocity Gymnasium uses."""
    return (after - before) / dt


def sample_until(key: Key[Array, ""], sample: Any, accept: Any) -> Array:
    """Rejection sampling: draws `sample(key)` until `accept(x)` holds."""

    def cond(carry):
        return ~accept(carry[1])

    def body(carry):
        key, _ = carry
        key, sub = jax.random.split(key)
        return key, sample(sub)

    key, sub = jax.random.split(key)
    return jax.lax.while_loop(cond, body, (key, sample(sub)))[1]
