"""CartPole: balance a pole on a cart (Barto, Sutton & Anderson, 1983).

Matches Gymnasium's `CartPole-v1` (dynamics, +1 reward on every step
including the terminal one, or with `sutton_barto_reward` 0 and -1 on the
terminal step, termination thresholds, initial state
`U(-0.05, 0.05)^4`, spaces). `lerax.env.make("CartPole-v1")` adds the
500-step time limit.
"""

import math
from typing import TYPE_CHECKING, Any, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Int, Key

from ...space import Box, Discrete
from ._base import (
    AbstractClassicControlEnv,
    ClassicControlState,
    check_classic_render_mode,
    check_nonnegative,
    check_numbers,
    check_positive,
    check_switch,
    place,
    render_vector,
)

if TYPE_CHECKING:
    from ...render import Abstract2DRenderer, Transform

_WHITE, _BLACK = (255, 255, 255), (0, 0, 0)
_POLE, _AXLE = (202, 152, 101), (129, 132, 203)


@final
class CartPole(AbstractClassicControlEnv):
    """A pole hinged on a cart; push the cart left (0) or right (1).

    State `y = [x, x_dot, theta, theta_dot]`; the observation is `y`.

    Attributes:
        gravity: Gravitational acceleration (m/s^2).
        cart_mass: Mass of the cart (kg).
        pole_mass: Mass of the pole (kg).
        half_length: Half the pole's length (m) (Gymnasium's `length`).
        force_mag: Magnitude of the push (N).
        dt: Seconds per step (Gymnasium's `tau`).
        theta_threshold_radians: The episode ends beyond this pole angle.
        x_threshold: The episode ends beyond this cart position.
        initial_bound: Initial state components are `U(-bound, bound)`.
        sutton_barto_reward: Gymnasium's option (>= 1.0): reward 0 on every
            step and -1 on the step that ends the episode, instead of +1 on
            every step.
        kinematics_integrator: ``"euler"`` (Gymnasium's default) or
            ``"semi-implicit euler"``.
        solver: Optional Diffrax solver (see `AbstractClassicControlEnv`).
        stepsize_controller: Optional Diffrax step-size controller.
    """

    name = "CartPole"
    render_size = (600, 400)
    render_fps = 50
    gravity: float
    cart_mass: float
    pole_mass: float
    half_length: float
    force_mag: float
    dt: float
    theta_threshold_radians: float
    x_threshold: float
    initial_bound: float
    kinematics_integrator: str = eqx.field(static=True)
    sutton_barto_reward: bool = eqx.field(static=True)
    solver: Any
    stepsize_controller: Any
    action_space: Discrete
    observation_space: Box

    def __init__(
        self,
        *,
        gravity: float = 9.8,
        cart_mass: float = 1.0,
        pole_mass: float = 0.1,
        half_length: float = 0.5,
        force_mag: float = 10.0,
        dt: float = 0.02,
        theta_threshold_radians: float = 12 * 2 * math.pi / 360,
        x_threshold: float = 2.4,
        initial_bound: float = 0.05,
        kinematics_integrator: str = "euler",
        solver: Any = None,
        stepsize_controller: Any = None,
        sutton_barto_reward: bool = False,
        render_mode: None = None,
    ):
        """Builds the env; `render_mode` is Gymnasium's keyword, and only None
        is accepted (see `lerax.env._checks.check_render_mode`)."""
        check_classic_render_mode("CartPole", render_mode)
        check_numbers(
            "CartPole",
            gravity=gravity,
            cart_mass=cart_mass,
            pole_mass=pole_mass,
            half_length=half_length,
            force_mag=force_mag,
            dt=dt,
            theta_threshold_radians=theta_threshold_radians,
            x_threshold=x_threshold,
            initial_bound=initial_bound,
        )
        check_positive(
            "CartPole",
            cart_mass=cart_mass,
            pole_mass=pole_mass,
            half_length=half_length,
            dt=dt,
            theta_threshold_radians=theta_threshold_radians,
            x_threshold=x_threshold,
        )
        check_nonnegative("CartPole", initial_bound=initial_bound)
        if kinematics_integrator not in ("euler", "semi-implicit euler"):
            raise ValueError(
                "`CartPole(kinematics_integrator=...)` must be 'euler' or "
                f"'semi-implicit euler', got {kinematics_integrator!r}."
            )
        self.gravity = gravity
        self.cart_mass = cart_mass
        self.pole_mass = pole_mass
        self.half_length = half_length
        self.force_mag = force_mag
        self.dt = dt
        self.theta_threshold_radians = theta_threshold_radians
        self.x_threshold = x_threshold
        self.initial_bound = initial_bound
        self.kinematics_integrator = kinematics_integrator
        self.sutton_barto_reward = check_switch(
            "CartPole", "sutton_barto_reward", sutton_barto_reward
        )
        self.solver = solver
        self.stepsize_controller = stepsize_controller
        self.action_space = Discrete(2)
        # Velocities are unbounded, as in Gymnasium (>= 1.0).
        high = np.array(
            [x_threshold * 2, np.inf, theta_threshold_radians * 2, np.inf],
            dtype=np.float32,
        )
        self.observation_space = Box(-high, high)

    def initial(self, *, key: Key[Array, ""]) -> ClassicControlState:
        b = self.initial_bound
        return ClassicControlState(jr.uniform(key, (4,), minval=-b, maxval=b))

    def _accelerations(self, y: Float[Array, " 4"], action: Int[Array, ""]):
        _, _, theta, theta_dot = y
        force = jnp.where(action == 1, self.force_mag, -self.force_mag)
        cos, sin = jnp.cos(theta), jnp.sin(theta)
        total_mass = self.cart_mass + self.pole_mass
        pole_mass_length = self.pole_mass * self.half_length
        temp = (force + pole_mass_length * theta_dot**2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.half_length * (4.0 / 3.0 - self.pole_mass * cos**2 / total_mass)
        )
        x_acc = temp - pole_mass_length * theta_acc * cos / total_mass
        return x_acc, theta_acc

    def explicit_update(self, y: Float[Array, " 4"], action: Int[Array, ""]):
        x, x_dot, theta, theta_dot = y
        x_acc, theta_acc = self._accelerations(y, action)
        if self.kinematics_integrator == "euler":
            x = x + self.dt * x_dot
            x_dot = x_dot + self.dt * x_acc
            theta = theta + self.dt * theta_dot
            theta_dot = theta_dot + self.dt * theta_acc
        else:
            x_dot = x_dot + self.dt * x_acc
            x = x + self.dt * x_dot
            theta_dot = theta_dot + self.dt * theta_acc
            theta = theta + self.dt * theta_dot
        return jnp.stack([x, x_dot, theta, theta_dot])

    def dynamics(self, y: Float[Array, " 4"], action: Int[Array, ""]):
        x_acc, theta_acc = self._accelerations(y, action)
        return jnp.stack([y[1], x_acc, y[3], theta_acc])

    def constrain(self, y: Float[Array, " 4"]) -> Float[Array, " 4"]:
        return y

    def observation(self, state: ClassicControlState, *, key: Key[Array, ""]):
        del key
        # the space's dtype (float32) even when the state is float64 (x64)
        return state.y.astype(self.observation_space.dtype)

    def reward(
        self, state, action, next_state, *, key: Key[Array, ""]
    ) -> Float[Array, ""]:
        del state, action
        if self.sutton_barto_reward:
            # as Gymnasium: -1 on the step into a terminal state, else 0
            done = self.terminal(next_state, key=key)
            return -jnp.asarray(done, jnp.float32)
        return jnp.array(1.0)

    def terminal(
        self, state: ClassicControlState, *, key: Key[Array, ""]
    ) -> Bool[Array, ""]:
        del key
        x, theta = state.y[0], state.y[2]
        return (
            (x < -self.x_threshold)
            | (x > self.x_threshold)
            | (theta < -self.theta_threshold_radians)
            | (theta > self.theta_threshold_radians)
        )

    def render_transform(self, width: int, height: int) -> "Transform":
        from ...render import Transform

        # The track's [-x_threshold, x_threshold] spans the width.
        return Transform.fit((-self.x_threshold, self.x_threshold), width)

    def render(
        self, state: ClassicControlState, renderer: "Abstract2DRenderer"
    ) -> None:
        x, _, theta, _ = render_vector(self, state, 4)
        # Gymnasium's picture in world units: `u` is one of its 600 pixels.
        u = 2 * self.x_threshold / 600
        track_y, half_w, half_h, pole_w = 100 * u, 25 * u, 15 * u, 10 * u
        axle = (x, track_y + half_h / 2)
        top = 2 * self.half_length - pole_w / 2
        pole = [(-pole_w / 2, -pole_w / 2), (-pole_w / 2, top)]
        pole += [(pole_w / 2, top), (pole_w / 2, -pole_w / 2)]
        renderer.clear(_WHITE)
        renderer.rect(
            (x - half_w, track_y - half_h), (x + half_w, track_y + half_h), _BLACK
        )
        renderer.polygon(place(pole, -theta, axle), _POLE)
        renderer.circle(axle, pole_w / 2, _AXLE)
        renderer.line((-self.x_threshold, track_y), (self.x_threshold, track_y), _BLACK)
