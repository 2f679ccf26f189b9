"""Target-network updates: hard copies and Polyak averaging."""

from ._update import AbstractTargetUpdate as AbstractTargetUpdate
from ._update import HardUpdate as HardUpdate
from ._update import SoftUpdate as SoftUpdate
from ._update import polyak_average as polyak_average
