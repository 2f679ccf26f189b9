"""MuJoCo environments on MJX: Gymnasium's v5 locomotion and manipulation tasks.

Needs the `mujoco` extra (`pip install "lerax[mujoco]"`). Every env is a pure,
jittable, vmappable `lerax.env.AbstractEnv` whose state is MJX data; models
are Gymnasium's bundled XMLs (or your own, via `xml_file=`).
"""

from ._ant import Ant as Ant
from ._base import AbstractMujocoEnv as AbstractMujocoEnv
from ._base import MujocoState as MujocoState
from ._half_cheetah import HalfCheetah as HalfCheetah
from ._hopper import Hopper as Hopper
from ._humanoid import Humanoid as Humanoid
from ._humanoid_standup import HumanoidStandup as HumanoidStandup
from ._inverted_double_pendulum import (
    InvertedDoublePendulum as InvertedDoublePendulum,
)
from ._inverted_pendulum import InvertedPendulum as InvertedPendulum
from ._options import MujocoRenderKwargs as MujocoRenderKwargs
from ._options import MujocoRenderOptions as MujocoRenderOptions
from ._pusher import Pusher as Pusher
from ._reacher import Reacher as Reacher
from ._render import MujocoRenderer as MujocoRenderer
from ._swimmer import Swimmer as Swimmer
from ._walker2d import Walker2d as Walker2d

MujocoEnvState = MujocoState  # the earlier lerax's name
