"""Shared machinery of the classic-control environments."""

import abc
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ..._custom_types import Info
from ..._extras import require
from .._base import AbstractEnv
from .._checks import check_nonnegative as check_nonnegative
from .._checks import check_number_fields, check_render_mode
from .._checks import check_numbers as check_numbers
from .._checks import check_order as check_order
from .._checks import check_positive as check_positive
from .._checks import check_switch as check_switch
from .._state import AbstractEnvState

if TYPE_CHECKING:
    from ...render import Abstract2DRenderer, Transform


class ClassicControlState(AbstractEnvState):
    """The state of a classic-control env: its physical state vector `y`."""

    y: Float[Array, " n"]


class AbstractClassicControlEnv(AbstractEnv[ClassicControlState, Any, Any, None]):
    """A low-dimensional physical system stepped at a fixed `dt`.

    By default `transition` applies `explicit_update`, the exact discrete update
    Gymnasium uses (so trajectories match Gymnasium's to float32 precision).
    With `solver` set to a Diffrax solver, the continuous-time ODE `dynamics`
    is integrated over `[0, dt]` instead and `constrain` (bounds, angle
    wrapping, walls) applied afterwards.

    Attributes:
        dt: The control period in seconds.
        solver: None for Gymnasium's update, or a `diffrax.AbstractSolver`.
        stepsize_controller: A Diffrax step-size controller for the solver
            path (None: one constant step of `dt`).
        render_size: The default picture size `(width, height)`, Gymnasium's.
        render_fps: The frame rate of videos, Gymnasium's
            `metadata["render_fps"]` for the env: a class constant that does
            not follow `dt`, as in Gymnasium (CartPole 50, i.e. `1 / dt`;
            Acrobot 15 and Pendulum 30, faster than their `1 / dt` of 5
            and 20; the mountain cars 30).
    """

    dt: eqx.AbstractVar[float]
    solver: eqx.AbstractVar[Any]
    stepsize_controller: eqx.AbstractVar[Any]
    render_size: eqx.AbstractClassVar[tuple[int, int]]
    render_fps: eqx.AbstractClassVar[int]

    def __check_init__(self):
        # a constant given as text or None would be stored and fail deep
        # inside tracing with an unrelated message
        check_number_fields(self)

    @abc.abstractmethod
    def render_transform(self, width: int, height: int) -> "Transform":
        """The world-to-pixel mapping of a `width` x `height` picture."""

    @abc.abstractmethod
    def render(
        self, state: ClassicControlState, renderer: "Abstract2DRenderer"
    ) -> None:
        """Draws `state` as Gymnasium's renderer of the same env does."""

    def default_renderer(
        self,
        *,
        headless: bool = False,
        width: int | None = None,
        height: int | None = None,
    ) -> "Abstract2DRenderer":
        """A pygame renderer of Gymnasium's size for this env (`render_size`).

        Giving only one of `width`/`height` keeps the default aspect ratio.
        Needs the ``render`` extra.
        """
        from ... import render

        width, height = _size(width, height, self.render_size)
        transform = self.render_transform(width, height)
        if headless:
            return render.HeadlessPygameRenderer(width, height, transform)
        return render.PygameRenderer(width, height, transform, title=self.name)

    @abc.abstractmethod
    def explicit_update(self, y: Float[Array, " n"], action: Any) -> Float[Array, " n"]:
        """Gymnasium's discrete-time update of the state vector."""

    @abc.abstractmethod
    def dynamics(self, y: Float[Array, " n"], action: Any) -> Float[Array, " n"]:
        """The time derivative `dy/dt` under a constant action."""

    @abc.abstractmethod
    def constrain(self, y: Float[Array, " n"]) -> Float[Array, " n"]:
        """Applies bounds and wrapping after an ODE step."""

    def transition(
        self, state: ClassicControlState, action: Any, *, key: Key[Array, ""]
    ):
        del key
        if self.solver is None:
            return ClassicControlState(self.explicit_update(state.y, action))
        diffrax = require("diffrax", "ode")
        controller = self.stepsize_controller
        if controller is None:
            controller = diffrax.ConstantStepSize()
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, args: self.dynamics(y, args)),
            self.solver,
            t0=0.0,
            t1=self.dt,
            dt0=self.dt,
            y0=state.y,
            args=action,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=controller,
        )
        return ClassicControlState(self.constrain(solution.ys[-1]))

    def truncate(self, state: ClassicControlState) -> Bool[Array, ""]:
        del state
        return jnp.array(False)

    def action_mask(self, state: ClassicControlState, *, key: Key[Array, ""]) -> None:
        del state, key
        return None

    def state_info(self, state: ClassicControlState) -> Info:
        del state
        return {}

    def transition_info(self, state, action, next_state) -> Info:
        del state, action, next_state
        return {}


def _size(
    width: int | None, height: int | None, default: tuple[int, int]
) -> tuple[int, int]:
    if width is None and height is None:
        return default
    if width is None:
        return max(round(height * default[0] / default[1]), 1), height
    if height is None:
        return width, max(round(width * default[1] / default[0]), 1)
    return width, height


def render_vector(env: Any, state: Any, size: int) -> list[float]:
    """The physical state vector of one (unbatched) state, as Python floats.

    Raises:
        ValueError: If the state is batched or stacked.
    """
    y = np.asarray(state.unwrapped.y)
    if y.shape != (size,):
        raise ValueError(
            f"`{type(env).__name__}.render` draws one state (state vector of shape "
            f"({size},)), got shape {y.shape}. Draw stacked states with "
            "`env.render_stacked(states)` or `lerax.render.record_video`."
        )
    return [float(v) for v in y]


def place(
    points: Sequence[tuple[float, float]],
    angle: float,
    origin: tuple[float, float],
) -> list[tuple[float, float]]:
    """Rotates points counter-clockwise by `angle` radians about the origin,
    then shifts them by `origin`."""
    c, s = math.cos(angle), math.sin(angle)
    ox, oy = origin
    return [(ox + c * x - s * y, oy + s * x + c * y) for x, y in points]


def wrap_angle(x: Float[Array, "..."], low: float, high: float) -> Float[Array, "..."]:
    """Wraps `x` into `[low, high]` exactly as Gymnasium's acrobot `wrap` loops do."""
    width = high - low
    above = x - width * jnp.ceil((x - high) / width)
    below = x + width * jnp.ceil((low - x) / width)
    return jnp.where(x > high, above, jnp.where(x < low, below, x))


class Default(float):
    """A constructor default that shows as its value in the signature but
    tells "left out" from "given", so a constant with two names can refuse
    both at once even when one of them equals the default."""


def given(value: Any) -> bool:
    """Whether the caller passed `value` (it is not a `Default`)."""
    return not isinstance(value, Default)


def check_classic_render_mode(owner: str, render_mode: Any) -> None:
    """Refuses every `render_mode` but None, as the MuJoCo envs do (see
    `lerax.env._checks.check_render_mode`).

    Raises:
        TypeError: If `render_mode` is not None.
    """
    check_render_mode(
        owner,
        render_mode,
        " The frame size is the `width`/`height` of `render_rgb` and "
        "`record_video` (Gymnasium's size by default).",
    )
