"""ContinuousMountainCar: MountainCar with a continuous throttle.

Matches Gymnasium's `MountainCarContinuous-v0` (dynamics with the throttle
clipped to `[-1, 1]`, velocity and position clipping, the inelastic left wall,
reward `+100` on reaching the goal at position 0.45 minus `0.1 action^2` per
step, initial position `U(-0.6, -0.4)` at rest, spaces).
`lerax.env.make("MountainCarContinuous-v0")` adds the 999-step time limit.
"""

from typing import TYPE_CHECKING, Any, final

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from ...space import Box
from ._base import (
    AbstractClassicControlEnv,
    ClassicControlState,
    check_classic_render_mode,
    check_numbers,
    check_order,
    check_positive,
    render_vector,
)
from ._mountain_car import draw_mountain_car, mountain_car_transform

if TYPE_CHECKING:
    from ...render import Abstract2DRenderer, Transform


@final
class ContinuousMountainCar(AbstractClassicControlEnv):
    """A car in a valley between two hills, driven by a throttle in `[-1, 1]`
    (an action of shape `(1,)`), that must reach the flag on the right hill.

    State `y = [position, velocity]`; the observation is `y`. The track's
    height is `sin(3 position)`, so the slope pulls with
    `-gravity * cos(3 position)`. Time is counted in steps (`dt = 1`).

    Attributes:
        min_action: The throttle is clipped to `[min_action, max_action]`.
        max_action: See `min_action`.
        min_position: The left wall; the car stops there.
        max_position: The right end of the track.
        max_speed: The speed is clipped to `[-max_speed, max_speed]`.
        goal_position: The episode ends at or beyond this position...
        goal_velocity: ...with at least this velocity.
        power: Acceleration per step at full throttle.
        gravity: Scale of the slope's acceleration per step.
        goal_reward: The bonus paid on the step that reaches the goal.
        action_cost: Each step costs `action_cost * action^2`.
        dt: Time per step (Gymnasium's update uses 1).
        initial_low: The initial position is `U(initial_low, initial_high)`.
        initial_high: See `initial_low`.
        solver: Optional Diffrax solver (see `AbstractClassicControlEnv`).
        stepsize_controller: Optional Diffrax step-size controller.
    """

    name = "ContinuousMountainCar"
    render_size = (600, 400)
    render_fps = 30
    min_action: float
    max_action: float
    min_position: float
    max_position: float
    max_speed: float
    goal_position: float
    goal_velocity: float
    power: float
    gravity: float
    goal_reward: float
    action_cost: float
    dt: float
    initial_low: float
    initial_high: float
    solver: Any
    stepsize_controller: Any
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        min_action: float = -1.0,
        max_action: float = 1.0,
        min_position: float = -1.2,
        max_position: float = 0.6,
        max_speed: float = 0.07,
        goal_position: float = 0.45,
        goal_velocity: float = 0.0,
        power: float = 0.0015,
        gravity: float = 0.0025,
        goal_reward: float = 100.0,
        action_cost: float = 0.1,
        dt: float = 1.0,
        initial_low: float = -0.6,
        initial_high: float = -0.4,
        solver: Any = None,
        stepsize_controller: Any = None,
        render_mode: None = None,
    ):
        """Builds the env; `render_mode` is Gymnasium's keyword, and only None
        is accepted (see `lerax.env._checks.check_render_mode`)."""
        check_classic_render_mode("ContinuousMountainCar", render_mode)
        check_numbers(
            "ContinuousMountainCar",
            min_action=min_action,
            max_action=max_action,
            min_position=min_position,
            max_position=max_position,
            max_speed=max_speed,
            goal_position=goal_position,
            goal_velocity=goal_velocity,
            power=power,
            gravity=gravity,
            goal_reward=goal_reward,
            action_cost=action_cost,
            dt=dt,
            initial_low=initial_low,
            initial_high=initial_high,
        )
        check_positive("ContinuousMountainCar", max_speed=max_speed, dt=dt)
        check_order(
            "ContinuousMountainCar",
            "initial_low",
            initial_low,
            "initial_high",
            initial_high,
        )
        check_order(
            "ContinuousMountainCar",
            "min_position",
            min_position,
            "max_position",
            max_position,
        )
        check_order(
            "ContinuousMountainCar", "min_action", min_action, "max_action", max_action
        )
        self.min_action = min_action
        self.max_action = max_action
        self.min_position = min_position
        self.max_position = max_position
        self.max_speed = max_speed
        self.goal_position = goal_position
        self.goal_velocity = goal_velocity
        self.power = power
        self.gravity = gravity
        self.goal_reward = goal_reward
        self.action_cost = action_cost
        self.dt = dt
        self.initial_low = initial_low
        self.initial_high = initial_high
        self.solver = solver
        self.stepsize_controller = stepsize_controller
        self.action_space = Box(min_action, max_action, shape=(1,))
        self.observation_space = Box(
            np.array([min_position, -max_speed], dtype=np.float32),
            np.array([max_position, max_speed], dtype=np.float32),
        )

    def initial(self, *, key: Key[Array, ""]) -> ClassicControlState:
        position = jr.uniform(
            key, (), minval=self.initial_low, maxval=self.initial_high
        )
        return ClassicControlState(jnp.stack([position, jnp.zeros_like(position)]))

    def _acceleration(self, position: Float[Array, ""], action: Float[Array, " 1"]):
        throttle = jnp.asarray(action, jnp.float32)[0]
        throttle = jnp.clip(throttle, self.min_action, self.max_action)
        return throttle * self.power - self.gravity * jnp.cos(3 * position)

    def explicit_update(self, y: Float[Array, " 2"], action: Float[Array, " 1"]):
        position, velocity = y
        velocity = velocity + self.dt * self._acceleration(position, action)
        velocity = jnp.clip(velocity, -self.max_speed, self.max_speed)
        position = position + self.dt * velocity
        return self.constrain(jnp.stack([position, velocity]))

    def dynamics(self, y: Float[Array, " 2"], action: Float[Array, " 1"]):
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
        self, state, action: Float[Array, " 1"], next_state, *, key: Key[Array, ""]
    ) -> Float[Array, ""]:
        # As Gymnasium: the bonus is paid when the step reaches the goal, and
        # the cost uses the action as given (not the clipped throttle).
        del state
        bonus = jnp.where(self.terminal(next_state, key=key), self.goal_reward, 0.0)
        action = jnp.asarray(action, jnp.float32)
        return bonus - self.action_cost * action[0] ** 2

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
