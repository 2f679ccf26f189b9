"""Classic-control environments, equal to Gymnasium's by default."""

from ._base import AbstractClassicControlEnv as AbstractClassicControlEnv
from ._base import ClassicControlState as ClassicControlState
from ._cartpole import CartPole as CartPole
