"""Classic-control environments, equal to Gymnasium's by default."""

from ._acrobot import Acrobot as Acrobot
from ._base import AbstractClassicControlEnv as AbstractClassicControlEnv
from ._base import ClassicControlState as ClassicControlState
from ._cartpole import CartPole as CartPole
from ._continuous_mountain_car import ContinuousMountainCar as ContinuousMountainCar
from ._mountain_car import MountainCar as MountainCar
from ._pendulum import Pendulum as Pendulum
