"""MountainCar: drive an under-powered car up a hill (Moore, 1990).

Matches Gymnasium's `MountainCar-v0` (dynamics, velocity and position
clipping, the inelastic left wall, reward -1 per step, goal at position 0.5,
initial position `U(-0.6, -0.4)` at rest, spaces).
`lerax.env.make("MountainCar-v0")` adds the 200-step time limit.
"""

import math
from typing import TYPE_CHECKING, Any, final

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Int, Key

from ...space import Box, Discrete
from ._base import (
    AbstractClassicControlEnv,
    ClassicControlState,
    check_classic_render_mode,
    check_numbers,
    check_order,
    check_positive,
    place,
    render_vector,
)

if TYPE_CHECKING:
    from ...render import Abstract2DRenderer, Transform

_WHITE, _BLACK, _WHEEL, _FLAG = (
    (255, 255, 255),
    (0, 0, 0),
    (128, 128, 128),
    (204, 204, 0),
)


@final
class MountainCar(AbstractClassicControlEnv):
    """A car in a valley between two hills; accelerate left (0), not at all
    (1) or right (2) to reach the flag on the right hill.

    State `y = [position, velocity]`; the observation is `y`. The track's
    height is `sin(3 position)`, so the slope pulls with
    `-gravity * cos(3 position)`. Time is counted in steps (`dt = 1`).

    Attributes:
        min_position: The left wall; the car stops there.
        max_position: The right end of the track.
        max_speed: The speed is clipped to `[-max_speed, max_speed]`.
        goal_position: The episode ends at or beyond this position...
        goal_velocity: ...with at least this velocity.
        force: Acceleration from the engine per step.
        gravity: Scale of the slope's acceleration per step.
        dt: Time per step (Gymnasium's update uses 1).
        initial_low: The initial position is `U(initial_low, initial_high)`.
        initial_high: See `initial_low`.
        solver: Optional Diffrax solver (see `AbstractClassicControlEnv`).
        stepsize_controller: Optional Diffrax step-size controller.
    """

    name = "MountainCar"
    render_size = (600, 400)
    render_fps = 30
    min_position: float
    max_position: float
    max_speed: float
    goal_position: float
    goal_velocity: float
    force: float
    gravity: float
    dt: float
    initial_low: float
    initial_high: float
    solver: Any
    stepsize_controller: Any
    action_space: Discrete
    observation_space: Box

    def __init__(
        self,
        *,
        min_position: float = -1.2,
        max_position: float = 0.6,
        max_speed: float = 0.07,
        goal_position: float = 0.5,
        goal_velocity: float = 0.0,
        force: float = 0.001,
        gravity: float = 0.0025,
        dt: float = 1.0,
        initial_low: float = -0.6,
        initial_high: float = -0.4,
        solver: Any = None,
        stepsize_controller: Any = None,
        render_mode: None = None,
    ):
        """Builds the env; `render_mode` is Gymnasium's keyword, and only None
        is accepted (see `lerax.env._checks.check_render_mode`)."""
        check_classic_render_mode("MountainCar", render_mode)
        check_numbers(
            "MountainCar",
            min_position=min_position,
            max_position=max_position,
            max_speed=max_speed,
            goal_position=goal_position,
            goal_velocity=goal_velocity,
            force=force,
            gravity=gravity,
            dt=dt,
            initial_low=initial_low,
            initial_high=initial_high,
        )
        check_positive("MountainCar", max_speed=max_speed, dt=dt)
        check_order(
            "MountainCar", "initial_low", initial_low, "initial_high", initial_high
        )
        check_order(
            "MountainCar", "min_position", min_position, "max_position", max_position
        )
        self.min_position = min_position
        self.max_position = max_position
        self.max_speed = max_speed
        self.goal_position = goal_position
        self.goal_velocity = goal_velocity
        self.force = force
        self.gravity = gravity
        self.dt = dt
        self.initial_low = initial_low
        self.initial_high = initial_high
        self.solver = solver
        self.stepsize_controller = stepsize_controller
        self.action_space = Discrete(3)
        self.observation_space = Box(
            np.array([min_position, -max_speed], dtype=np.float32),
            np.array([max_position, max_speed], dtype=np.float32),
        )

    def initial(self, *, key: Key[Array, ""]) -> ClassicControlState:
        position = jr.uniform(
            key, (), minval=self.initial_low, maxval=self.initial_high
        )
        return ClassicControlState(jnp.stack([position, jnp.zeros_like(position)]))

    def _acceleration(self, position: Float[Array, ""], action: Int[Array, ""]):
        # signed first: `action - 1` of an unsigned action 0 would wrap around
        push = (jnp.asarray(action).astype(jnp.int32) - 1).astype(jnp.float32)
        push = push * self.force
        return push - self.gravity * jnp.cos(3 * position)

    def explicit_update(self, y: Float[Array, " 2"], action: Int[Array, ""]):
        position, velocity = y
        velocity = velocity + self.dt * self._acceleration(position, action)
        velocity = jnp.clip(velocity, -self.max_speed, self.max_speed)
        position = position + self.dt * velocity
        return self.constrain(jnp.stack([position, velocity]))

    def dynamics(self, y: Float[Array, " 2"], action: Int[Array, ""]):
        return jnp.stack([y[1], self._acceleration(y[0], action)])

    def constrain(self, y: Float[Array, " 2"]) -> Float[Array, " 2"]:
        velocity = jnp.clip(y[1], -self.max_speed, self.max_speed)
        position = jnp.clip(y[0], self.min_position, self.max_position)
        at_wall = (position <= self.min_position) & (velocity < 0)
        return jnp.stack([position, jnp.where(at_wall, 0.0, velocity)])

    def observation(self, state: ClassicControlState, *, key: Key[Array, ""]):
        del key
        # the space's dtype (float32) even when the state is float64 (x64)
        return state.y.astype(self.observation_space.dtype)

    def reward(
        self, state, action, next_state, *, key: Key[Array, ""]
    ) -> Float[Array, ""]:
        del state, action, next_state, key
        return jnp.array(-1.0)

    def terminal(
        self, state: ClassicControlState, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        del key
        position, velocity = state.y
        return (position >= self.goal_position) & (velocity >= self.goal_velocity)

    def render_transform(self, width: int, height: int) -> "Transform":
        return mountain_car_transform(self, width)

    def render(
        self, state: ClassicControlState, renderer: "Abstract2DRenderer"
    ) -> None:
        draw_mountain_car(self, render_vector(self, state, 2)[0], renderer)


def mountain_car_transform(env: Any, width: int) -> "Transform":
    """Positions `[min_position, max_position]` span the width."""
    from ...render import Transform

    return Transform.fit((env.min_position, env.max_position), width)


def draw_mountain_car(env: Any, position: float, renderer: "Abstract2DRenderer"):
    """Gymnasium's mountain-car picture: the hill `0.45 sin(3 x) + 0.55`, the
    car tilted by `cos(3 x)` radians, and the goal flag."""

    def hill(x):
        return 0.45 * np.sin(3 * x) + 0.55

    u = (env.max_position - env.min_position) / 600  # one Gymnasium pixel
    xs = np.linspace(env.min_position, env.max_position, 100)
    renderer.clear(_WHITE)
    renderer.polyline(list(zip(xs, hill(xs))), _BLACK)
    base = (position, 10 * u + float(hill(position)))
    angle = math.cos(3 * position)
    body = [(-20 * u, 0.0), (-20 * u, 20 * u), (20 * u, 20 * u), (20 * u, 0.0)]
    renderer.polygon(place(body, angle, base), _BLACK)
    for wheel in place([(10 * u, 0.0), (-10 * u, 0.0)], angle, base):
        renderer.circle(wheel, 8 * u, _WHEEL)
    flag_x, flag_low = env.goal_position, float(hill(env.goal_position))
    flag_high = flag_low + 50 * u
    renderer.line((flag_x, flag_low), (flag_x, flag_high), _BLACK)
    pennant = [(flag_x, flag_high), (flag_x, flag_high - 10 * u)]
    pennant.append((flag_x + 25 * u, flag_high - 5 * u))
    renderer.polygon(pennant, _FLAG)
