"""Pendulum: swing up and balance a torque-limited pendulum.

Matches Gymnasium's `Pendulum-v1` (semi-implicit Euler dynamics with `g = 10`,
torque clipped to `[-2, 2]`, speed clipped to 8, reward
`-(angle^2 + 0.1 speed^2 + 0.001 torque^2)` on the state before the step with
the angle normalised into `[-pi, pi)`, no termination, initial state
`theta ~ U(-pi, pi)`, `theta_dot ~ U(-1, 1)`, spaces).
`lerax.env.make("Pendulum-v1")` adds the 200-step time limit.
"""

import math
from typing import TYPE_CHECKING, Any, final

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ...space import Box
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
)

if TYPE_CHECKING:
    from ...render import Abstract2DRenderer, Transform

_WHITE, _BLACK, _ROD = (255, 255, 255), (0, 0, 0), (204, 77, 77)


def angle_normalize(x: Float[Array, "..."]) -> Float[Array, "..."]:
    """Maps an angle into `[-pi, pi)`, as Gymnasium's `angle_normalize`."""
    return jnp.mod(x + math.pi, 2 * math.pi) - math.pi


@final
class Pendulum(AbstractClassicControlEnv):
    """A rigid pendulum on a motorised pivot, driven by a torque of shape `(1,)`.

    State `y = [theta, theta_dot]` with `theta = 0` pointing up (the angle is
    not wrapped); the observation is `[cos theta, sin theta, theta_dot]`. The
    episode never terminates on its own.

    Attributes:
        gravity: Gravitational acceleration (Gymnasium's `g`).
        mass: Mass of the pendulum (Gymnasium's `m`).
        length: Length of the pendulum (Gymnasium's `l`).
        max_speed: `theta_dot` is clipped to `[-max_speed, max_speed]`.
        max_torque: The torque is clipped to `[-max_torque, max_torque]`.
        dt: Seconds per step.
        initial_theta_bound: The initial angle is `U(-bound, bound)`.
        initial_theta_dot_bound: The initial speed is `U(-bound, bound)`.
        speed_cost: Weight of `theta_dot^2` in the cost.
        torque_cost: Weight of `torque^2` in the cost.
        solver: Optional Diffrax solver (see `AbstractClassicControlEnv`).
        stepsize_controller: Optional Diffrax step-size controller.
    """

    name = "Pendulum"
    render_size = (500, 500)
    render_fps = 30
    gravity: float
    mass: float
    length: float
    max_speed: float
    max_torque: float
    dt: float
    initial_theta_bound: float
    initial_theta_dot_bound: float
    speed_cost: float
    torque_cost: float
    solver: Any
    stepsize_controller: Any
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        gravity: float = Default(10.0),
        mass: float = Default(1.0),
        length: float = Default(1.0),
        max_speed: float = 8.0,
        max_torque: float = 2.0,
        dt: float = 0.05,
        initial_theta_bound: float = math.pi,
        initial_theta_dot_bound: float = 1.0,
        speed_cost: float = 0.1,
        torque_cost: float = 0.001,
        solver: Any = None,
        stepsize_controller: Any = None,
        g: float | None = None,
        m: float | None = None,
        l: float | None = None,  # noqa: E741
        render_mode: None = None,
    ):
        """Builds the env; `g`, `m` and `l` are Gymnasium's (and the earlier
        lerax's) names for `gravity`, `mass` and `length`
        (`lerax.env.make("Pendulum-v1", g=9.81)` as `gymnasium.make`); pass
        one name of each, never both (even with a default value).
        `render_mode` is Gymnasium's keyword, and only None is accepted (see
        `lerax.env._checks.check_render_mode`)."""
        check_classic_render_mode("Pendulum", render_mode)
        gravity = _alias("gravity", gravity, "g", g)
        mass = _alias("mass", mass, "m", m)
        length = _alias("length", length, "l", l)
        check_numbers(
            "Pendulum",
            gravity=gravity,
            mass=mass,
            length=length,
            max_speed=max_speed,
            max_torque=max_torque,
            dt=dt,
            initial_theta_bound=initial_theta_bound,
            initial_theta_dot_bound=initial_theta_dot_bound,
            speed_cost=speed_cost,
            torque_cost=torque_cost,
        )
        check_positive(
            "Pendulum",
            mass=mass,
            length=length,
            max_speed=max_speed,
            max_torque=max_torque,
            dt=dt,
        )
        check_nonnegative(
            "Pendulum",
            initial_theta_bound=initial_theta_bound,
            initial_theta_dot_bound=initial_theta_dot_bound,
        )
        self.gravity = gravity
        self.mass = mass
        self.length = length
        self.max_speed = max_speed
        self.max_torque = max_torque
        self.dt = dt
        self.initial_theta_bound = initial_theta_bound
        self.initial_theta_dot_bound = initial_theta_dot_bound
        self.speed_cost = speed_cost
        self.torque_cost = torque_cost
        self.solver = solver
        self.stepsize_controller = stepsize_controller
        self.action_space = Box(-max_torque, max_torque, shape=(1,))
        high = np.array([1.0, 1.0, max_speed], dtype=np.float32)
        self.observation_space = Box(-high, high)

    def initial(self, *, key: Key[Array, ""]) -> ClassicControlState:
        high = jnp.array(
            [self.initial_theta_bound, self.initial_theta_dot_bound], jnp.float32
        )
        return ClassicControlState(jr.uniform(key, (2,), minval=-high, maxval=high))

    def _torque(self, action: Float[Array, " 1"]) -> Float[Array, ""]:
        torque = jnp.asarray(action, jnp.float32)[0]
        return jnp.clip(torque, -self.max_torque, self.max_torque)

    def _acceleration(self, theta: Float[Array, ""], action: Float[Array, " 1"]):
        g, m, length = self.gravity, self.mass, self.length
        gravity_term = 3 * g / (2 * length) * jnp.sin(theta)
        return gravity_term + 3.0 / (m * length**2) * self._torque(action)

    def explicit_update(self, y: Float[Array, " 2"], action: Float[Array, " 1"]):
        theta, theta_dot = y
        theta_dot = theta_dot + self._acceleration(theta, action) * self.dt
        theta_dot = jnp.clip(theta_dot, -self.max_speed, self.max_speed)
        theta = theta + theta_dot * self.dt
        return jnp.stack([theta, theta_dot])

    def dynamics(self, y: Float[Array, " 2"], action: Float[Array, " 1"]):
        return jnp.stack([y[1], self._acceleration(y[0], action)])

    def constrain(self, y: Float[Array, " 2"]) -> Float[Array, " 2"]:
        return jnp.stack([y[0], jnp.clip(y[1], -self.max_speed, self.max_speed)])

    def observation(self, state: ClassicControlState, *, key: Key[Array, ""]):
        del key
        theta, theta_dot = state.y
        # the space's dtype (float32) even when the state is float64 (x64)
        observation = jnp.stack([jnp.cos(theta), jnp.sin(theta), theta_dot])
        return observation.astype(self.observation_space.dtype)

    def reward(
        self, state, action: Float[Array, " 1"], next_state, *, key: Key[Array, ""]
    ) -> Float[Array, ""]:
        # As Gymnasium: the cost of the state the step starts from.
        del next_state, key
        theta, theta_dot = state.y
        torque = self._torque(action)
        cost = (
            angle_normalize(theta) ** 2
            + self.speed_cost * theta_dot**2
            + self.torque_cost * torque**2
        )
        return -cost

    def terminal(
        self, state: ClassicControlState, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        del state, key
        return jnp.array(False)

    def render_transform(self, width: int, height: int) -> "Transform":
        from ...render import Transform

        # [-2.2, 2.2]^2 around the pivot fits the picture, as in Gymnasium.
        return Transform(min(width, height) / 4.4, (width // 2, height // 2))

    def render(
        self, state: ClassicControlState, renderer: "Abstract2DRenderer"
    ) -> None:
        """Draws the rod at the state's angle, as Gymnasium's picture without
        its torque arrow (the state holds no last action)."""
        theta, _ = render_vector(self, state, 2)
        angle = theta + math.pi / 2  # theta = 0 points up
        rod = [(0.0, -0.1), (0.0, 0.1), (self.length, 0.1), (self.length, -0.1)]
        (tip,) = place([(self.length, 0.0)], angle, (0.0, 0.0))
        renderer.clear(_WHITE)
        renderer.polygon(place(rod, angle, (0.0, 0.0)), _ROD)
        renderer.circle((0.0, 0.0), 0.1, _ROD)
        renderer.circle(tip, 0.1, _ROD)
        renderer.circle((0.0, 0.0), 0.05, _BLACK)


def _alias(name: str, value: Any, alias: str, other: Any) -> Any:
    """The constant given as `name` (`value`, maybe its `Default`) or as
    `alias` (`other`, None when left out); both at once is an error, whatever
    the values."""
    if other is None:
        return float(value) if not given(value) else value
    if given(value):
        raise TypeError(
            f"`Pendulum` got both `{name}` and `{alias}` (the same constant); pass one."
        )
    return other
