"""The classic-control envs under test, with what Gymnasium says about each."""

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from lerax.env.classic_control import (
    Acrobot,
    CartPole,
    ContinuousMountainCar,
    MountainCar,
    Pendulum,
)


@dataclasses.dataclass(frozen=True)
class Case:
    """One env: its Gymnasium id, our class, and reference facts.

    Attributes:
        gym_id: The Gymnasium (and `lerax.env.make`) id.
        cls: Our env class.
        limit: The registered time limit.
        initial_low: Lower bounds of the uniform initial state.
        initial_high: Upper bounds of the uniform initial state.
        state_low: Lower bounds of a box of states worth testing (reaching
            every clipping, wrapping and termination rule).
        state_high: Upper bounds of that box.
        ambiguous: Given Gymnasium's (float64) state, whether it is so close
            to the termination boundary that float32 may decide differently.
        heuristic: A policy (Gymnasium state -> action) that reaches the
            goal, mixed with random actions so the oracle sees terminal steps;
            None for purely random actions.
    """

    gym_id: str
    cls: type
    limit: int
    initial_low: tuple[float, ...]
    initial_high: tuple[float, ...]
    state_low: tuple[float, ...]
    state_high: tuple[float, ...]
    ambiguous: Callable[[np.ndarray], bool]
    heuristic: Callable[[np.ndarray], object] | None

    def __str__(self) -> str:
        return self.gym_id


TOL = 1e-5


def _cartpole_ambiguous(s: np.ndarray) -> bool:
    x, theta = abs(float(s[0])), abs(float(s[2]))
    return abs(x - 2.4) < TOL or abs(theta - 12 * 2 * math.pi / 360) < TOL


def _acrobot_ambiguous(s: np.ndarray) -> bool:
    height = -math.cos(s[0]) - math.cos(s[1] + s[0])
    return abs(height - 1.0) < TOL


def _mountain_car_ambiguous(goal: float) -> Callable[[np.ndarray], bool]:
    def ambiguous(s: np.ndarray) -> bool:
        position, velocity = float(s[0]), float(s[1])
        return abs(position - goal) < TOL or (
            position >= goal - TOL and abs(velocity) < TOL
        )

    return ambiguous


def _never(s: np.ndarray) -> bool:
    del s
    return False


CASES = (
    Case(
        "CartPole-v1",
        CartPole,
        500,
        (-0.05,) * 4,
        (0.05,) * 4,
        (-2.4, -3.0, -0.21, -3.0),
        (2.4, 3.0, 0.21, 3.0),
        _cartpole_ambiguous,
        None,
    ),
    Case(
        "Acrobot-v1",
        Acrobot,
        500,
        (-0.1,) * 4,
        (0.1,) * 4,
        (-math.pi, -math.pi, -4 * math.pi, -9 * math.pi),
        (math.pi, math.pi, 4 * math.pi, 9 * math.pi),
        _acrobot_ambiguous,
        # Torque against the first link's swing pumps energy in.
        lambda s: 0 if s[2] > 0 else 2,
    ),
    Case(
        "MountainCar-v0",
        MountainCar,
        200,
        (-0.6, 0.0),
        (-0.4, 0.0),
        (-1.2, -0.07),
        (0.6, 0.07),
        _mountain_car_ambiguous(0.5),
        # Accelerate along the velocity to rock up the hill.
        lambda s: 2 if s[1] >= 0 else 0,
    ),
    Case(
        "MountainCarContinuous-v0",
        ContinuousMountainCar,
        999,
        (-0.6, 0.0),
        (-0.4, 0.0),
        (-1.2, -0.07),
        (0.6, 0.07),
        _mountain_car_ambiguous(0.45),
        lambda s: np.array([1.0 if s[1] >= 0 else -1.0], np.float32),
    ),
    Case(
        "Pendulum-v1",
        Pendulum,
        200,
        (-math.pi, -1.0),
        (math.pi, 1.0),
        (-10.0, -8.0),
        (10.0, 8.0),
        _never,
        None,
    ),
)
