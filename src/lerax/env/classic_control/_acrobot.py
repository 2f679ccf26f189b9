"""Acrobot: swing up a two-link under-actuated pendulum (Sutton, 1996).

Matches Gymnasium's `Acrobot-v1` ("book" dynamics integrated by one classic
Runge-Kutta step of `dt = 0.2`, angles wrapped into `[-pi, pi]`, velocities
clipped to `4 pi` and `9 pi`, reward -1 per step and 0 on the terminal step,
initial state `U(-0.1, 0.1)^4`, spaces). `lerax.env.make("Acrobot-v1")` adds
the 500-step time limit.
"""

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Int, Key

from ...space import Box, Discrete
from ._base import (
    AbstractClassicControlEnv,
    ClassicControlState,
    Default,
    check_classic_render_mode,
    check_nonnegative,
    check_numbers,
    check_positive,
    given,
    place,
    render_vector,
    wrap_angle,
)

if TYPE_CHECKING:
    from ...render import Abstract2DRenderer, Transform

_WHITE, _BLACK = (255, 255, 255), (0, 0, 0)
_LINK, _JOINT = (0, 204, 204), (204, 204, 0)


@final
class Acrobot(AbstractClassicControlEnv):
    """Two links hanging from a fixed pivot; only the joint between them is driven.

    State `y = [theta1, theta2, theta1_dot, theta2_dot]`, where `theta1` is the
    angle of the first link from straight down and `theta2` that of the second
    link relative to the first. The observation is
    `[cos theta1, sin theta1, cos theta2, sin theta2, theta1_dot, theta2_dot]`.
    Action `i` applies the torque `torques[i]` at the joint. The episode ends
    once the free end rises above `target_height`:
    `-cos(theta1) - cos(theta1 + theta2) > target_height`.

    Attributes:
        link_length_1: Length of the first link (m).
        link_length_2: Length of the second link (m) (not used by the
            dynamics, as in Gymnasium).
        link_mass_1: Mass of the first link (kg).
        link_mass_2: Mass of the second link (kg).
        link_com_pos_1: Distance from the pivot to the first link's centre of
            mass (m).
        link_com_pos_2: Distance from the joint to the second link's centre of
            mass (m).
        link_moi: Moment of inertia of each link (kg m^2).
        gravity: Gravitational acceleration (m/s^2).
        max_vel_1: `theta1_dot` is clipped to `[-max_vel_1, max_vel_1]`.
        max_vel_2: `theta2_dot` is clipped to `[-max_vel_2, max_vel_2]`.
        torques: The torque applied by each discrete action (N m).
        torque_noise_max: Each step's torque gets `U(-max, max)` noise, drawn
            from the transition key (0: deterministic, Gymnasium's default).
        target_height: The height the free end must exceed.
        dt: Seconds per step.
        initial_bound: Initial state components are `U(-bound, bound)`.
        book_or_nips: ``"book"`` (Sutton & Barto's equations, Gymnasium's
            default) or ``"nips"`` (the 1996 paper's, missing a term).
        solver: Optional Diffrax solver (see `AbstractClassicControlEnv`);
            None integrates with one classic RK4 step as Gymnasium does.
        stepsize_controller: Optional Diffrax step-size controller.
    """

    name = "Acrobot"
    render_size = (500, 500)
    render_fps = 15
    link_length_1: float
    link_length_2: float
    link_mass_1: float
    link_mass_2: float
    link_com_pos_1: float
    link_com_pos_2: float
    link_moi: float
    gravity: float
    max_vel_1: float
    max_vel_2: float
    torques: tuple[float, ...]
    torque_noise_max: float
    target_height: float
    dt: float
    initial_bound: float
    book_or_nips: str = eqx.field(static=True)
    solver: Any
    stepsize_controller: Any
    action_space: Discrete
    observation_space: Box

    def __init__(
        self,
        *,
        link_length_1: float = 1.0,
        link_length_2: float = 1.0,
        link_mass_1: float = 1.0,
        link_mass_2: float = 1.0,
        link_com_pos_1: float = 0.5,
        link_com_pos_2: float = 0.5,
        link_moi: float = 1.0,
        gravity: float = 9.8,
        max_vel_1: float = 4 * math.pi,
        max_vel_2: float = 9 * math.pi,
        torques: tuple[float, ...] = (-1.0, 0.0, 1.0),
        torque_noise_max: float = Default(0.0),
        target_height: float = 1.0,
        dt: float = 0.2,
        initial_bound: float = 0.1,
        book_or_nips: str = "book",
        solver: Any = None,
        stepsize_controller: Any = None,
        torque_max_noise: float | None = None,
        render_mode: None = None,
    ):
        """Builds the env; `torque_max_noise` is the earlier lerax's name for
        `torque_noise_max` (Gymnasium's); pass one of them, never both (even
        with a default value). `render_mode` is Gymnasium's keyword, and only None is
        accepted (see `lerax.env._checks.check_render_mode`)."""
        check_classic_render_mode("Acrobot", render_mode)
        if torque_max_noise is not None:
            if given(torque_noise_max):
                raise TypeError(
                    "`Acrobot` got both `torque_noise_max` and `torque_max_noise` "
                    "(the same constant); pass one."
                )
            torque_noise_max = torque_max_noise
        elif not given(torque_noise_max):
            torque_noise_max = float(torque_noise_max)
        check_numbers(
            "Acrobot",
            link_length_1=link_length_1,
            link_length_2=link_length_2,
            link_mass_1=link_mass_1,
            link_mass_2=link_mass_2,
            link_com_pos_1=link_com_pos_1,
            link_com_pos_2=link_com_pos_2,
            link_moi=link_moi,
            gravity=gravity,
            max_vel_1=max_vel_1,
            max_vel_2=max_vel_2,
            torque_noise_max=torque_noise_max,
            target_height=target_height,
            dt=dt,
            initial_bound=initial_bound,
        )
        check_positive(
            "Acrobot",
            link_length_1=link_length_1,
            link_length_2=link_length_2,
            link_mass_1=link_mass_1,
            link_mass_2=link_mass_2,
            link_moi=link_moi,
            max_vel_1=max_vel_1,
            max_vel_2=max_vel_2,
            dt=dt,
        )
        check_nonnegative(
            "Acrobot", torque_noise_max=torque_noise_max, initial_bound=initial_bound
        )
        if book_or_nips not in ("book", "nips"):
            raise ValueError(
                "`Acrobot(book_or_nips=...)` must be 'book' or 'nips', got "
                f"{book_or_nips!r}."
            )
        torques = _check_torques(torques)
        self.link_length_1 = link_length_1
        self.link_length_2 = link_length_2
        self.link_mass_1 = link_mass_1
        self.link_mass_2 = link_mass_2
        self.link_com_pos_1 = link_com_pos_1
        self.link_com_pos_2 = link_com_pos_2
        self.link_moi = link_moi
        self.gravity = gravity
        self.max_vel_1 = max_vel_1
        self.max_vel_2 = max_vel_2
        self.torques = torques
        self.torque_noise_max = torque_noise_max
        self.target_height = target_height
        self.dt = dt
        self.initial_bound = initial_bound
        self.book_or_nips = book_or_nips
        self.solver = solver
        self.stepsize_controller = stepsize_controller
        self.action_space = Discrete(len(torques))
        high = np.array([1.0, 1.0, 1.0, 1.0, max_vel_1, max_vel_2], dtype=np.float32)
        self.observation_space = Box(-high, high)

    def initial(self, *, key: Key[Array, ""]) -> ClassicControlState:
        b = self.initial_bound
        return ClassicControlState(jr.uniform(key, (4,), minval=-b, maxval=b))

    def _torque(self, action: Int[Array, ""]) -> Float[Array, ""]:
        return jnp.asarray(self.torques, jnp.float32)[action]

    def _derivative(self, y: Float[Array, " 4"], torque: Float[Array, ""]):
        theta1, theta2, dtheta1, dtheta2 = y
        m1, m2 = self.link_mass_1, self.link_mass_2
        l1 = self.link_length_1
        lc1, lc2 = self.link_com_pos_1, self.link_com_pos_2
        inertia = self.link_moi
        g = self.gravity
        cos2, sin2 = jnp.cos(theta2), jnp.sin(theta2)
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos2) + 2 * inertia
        d2 = m2 * (lc2**2 + l1 * lc2 * cos2) + inertia
        phi2 = m2 * lc2 * g * jnp.cos(theta1 + theta2 - math.pi / 2)
        phi1 = (
            -m2 * l1 * lc2 * dtheta2**2 * sin2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2
            + (m1 * lc1 + m2 * l1) * g * jnp.cos(theta1 - math.pi / 2)
            + phi2
        )
        numerator = torque + d2 / d1 * phi1 - phi2
        if self.book_or_nips == "book":
            numerator = numerator - m2 * l1 * lc2 * dtheta1**2 * sin2
        ddtheta2 = numerator / (m2 * lc2**2 + inertia - d2**2 / d1)
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return jnp.stack([dtheta1, dtheta2, ddtheta1, ddtheta2])

    def explicit_update(self, y: Float[Array, " 4"], action: Int[Array, ""]):
        # One classic fourth-order Runge-Kutta step, as Gymnasium's `rk4`.
        torque = self._torque(action)
        h = self.dt
        k1 = self._derivative(y, torque)
        k2 = self._derivative(y + h / 2 * k1, torque)
        k3 = self._derivative(y + h / 2 * k2, torque)
        k4 = self._derivative(y + h * k3, torque)
        return self.constrain(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4))

    def dynamics(self, y: Float[Array, " 4"], action: Int[Array, ""]):
        return self._derivative(y, self._torque(action))

    def constrain(self, y: Float[Array, " 4"]) -> Float[Array, " 4"]:
        return jnp.stack(
            [
                wrap_angle(y[0], -math.pi, math.pi),
                wrap_angle(y[1], -math.pi, math.pi),
                jnp.clip(y[2], -self.max_vel_1, self.max_vel_1),
                jnp.clip(y[3], -self.max_vel_2, self.max_vel_2),
            ]
        )

    def transition(
        self, state: ClassicControlState, action: Int[Array, ""], *, key: Key[Array, ""]
    ) -> ClassicControlState:
        # Torque noise shifts every available torque by the same U(-max, max)
        # draw; the step itself is the noise-free one of the shifted env.
        noise = self.torque_noise_max * jr.uniform(key, (), minval=-1.0, maxval=1.0)
        noisy = eqx.tree_at(
            lambda env: env.torques,
            self,
            jnp.asarray(self.torques, jnp.float32) + noise,
        )
        return AbstractClassicControlEnv.transition(noisy, state, action, key=key)

    def observation(self, state: ClassicControlState, *, key: Key[Array, ""]):
        del key
        theta1, theta2, dtheta1, dtheta2 = state.y
        observation = jnp.stack(
            [
                jnp.cos(theta1),
                jnp.sin(theta1),
                jnp.cos(theta2),
                jnp.sin(theta2),
                dtheta1,
                dtheta2,
            ]
        )
        # the space's dtype (float32) even when the state is float64 (x64)
        return observation.astype(self.observation_space.dtype)

    def reward(
        self, state, action, next_state, *, key: Key[Array, ""]
    ) -> Float[Array, ""]:
        del state, action
        return jnp.where(self.terminal(next_state, key=key), 0.0, -1.0)

    def terminal(
        self, state: ClassicControlState, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        del key
        theta1, theta2 = state.y[0], state.y[1]
        return -jnp.cos(theta1) - jnp.cos(theta2 + theta1) > self.target_height

    def render_transform(self, width: int, height: int) -> "Transform":
        from ...render import Transform

        # A square of half-side `l1 + l2 + 0.2` around the pivot fits the picture.
        bound = self.link_length_1 + self.link_length_2 + 0.2
        return Transform(min(width, height) / (2 * bound), (width / 2, height / 2))

    def render(
        self, state: ClassicControlState, renderer: "Abstract2DRenderer"
    ) -> None:
        theta1, theta2, _, _ = render_vector(self, state, 4)
        l1, l2 = self.link_length_1, self.link_length_2
        bound = l1 + l2 + 0.2
        elbow = (l1 * math.sin(theta1), -l1 * math.cos(theta1))
        renderer.clear(_WHITE)
        renderer.line((-bound, self.target_height), (bound, self.target_height), _BLACK)
        links = ((0.0, 0.0), theta1, l1), (elbow, theta1 + theta2, l2)
        for base, angle, length in links:
            bar = [(0.0, -0.1), (0.0, 0.1), (length, 0.1), (length, -0.1)]
            renderer.polygon(place(bar, angle - math.pi / 2, base), _LINK)
            renderer.circle(base, 0.1, _JOINT)


def _check_torques(torques: Any) -> tuple[float, ...]:
    """`torques` as a tuple of floats, one per action.

    Raises:
        TypeError: If `torques` is not a sequence of numbers (a single
            number, or text that `float` would read letter by letter).
        ValueError: If it is empty or holds NaN or an infinity.
    """
    example = "such as Gymnasium's (-1.0, 0.0, 1.0)"
    if isinstance(torques, jax.Array):
        torques = np.asarray(torques)
    items = np.asarray(torques, dtype=object) if _is_sequence(torques) else None
    if items is None or items.ndim != 1:
        raise TypeError(
            f"`Acrobot(torques=...)` must be a flat sequence of torques, one per "
            f"action, {example}; got {torques!r}."
        )
    values = []
    for torque in items:
        if isinstance(torque, (bool, np.bool_)) or not isinstance(
            torque, (int, float, np.number)
        ):
            raise TypeError(
                f"`Acrobot(torques=...)` must hold numbers (N m), got {torque!r} "
                f"in {torques!r}."
            )
        values.append(float(torque))
    if not values:
        raise ValueError(
            f"`Acrobot(torques=...)` must name at least one torque, {example}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"`Acrobot(torques=...)` must be finite, got {torques!r}.")
    return tuple(values)


def _is_sequence(value: Any) -> bool:
    """Whether `value` is a list, tuple or NumPy array (not text)."""
    return not isinstance(value, (str, bytes)) and isinstance(
        value, (Sequence, np.ndarray)
    )
