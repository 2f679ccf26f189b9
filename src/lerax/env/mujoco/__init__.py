"""MuJoCo environments on MJX: Gymnasium's v5 locomotion and manipulation tasks.

Needs the `mujoco` extra (`pip install "lerax[mujoco]"`). Every env is a pure,
jittable, vmappable `lerax.env.AbstractEnv` whose state is MJX data; models
are Gymnasium's bundled XMLs (or your own, via `xml_file=`).
"""

from ._ant import Ant as Ant
from ._base import AbstractMujocoEnv as AbstractMujocoEnv
from ._base import MujocoState as MujocoState
