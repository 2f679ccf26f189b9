"""Target-network update rules."""

import abc
from typing import Any, final

import equinox as eqx
import jax

from ..utils._checks import check_unit_interval


def polyak_average(online: Any, target: Any, tau: float) -> Any:
    """`tau * online + (1 - tau) * target` on every inexact array leaf; other
    leaves are taken from `online`."""

    def mix(o, t):
        if eqx.is_inexact_array(o):
            return tau * o + (1.0 - tau) * t
        return o

    return jax.tree.map(mix, online, target)


class AbstractTargetUpdate(eqx.Module):
    """Maps `(online, target)` networks to the new target network."""

    @abc.abstractmethod
    def __call__(self, online: Any, target: Any) -> Any:
        """Returns the updated target."""


@final
class HardUpdate(AbstractTargetUpdate):
    """Copies the online network."""

    def __call__(self, online: Any, target: Any) -> Any:
        del target
        return online


@final
class SoftUpdate(AbstractTargetUpdate):
    """Polyak averaging with rate `tau` (Lillicrap et al. 2016).

    Attributes:
        tau: Weight of the online network, in [0, 1].
    """

    tau: float = 0.005

    def __check_init__(self):
        check_unit_interval("SoftUpdate", tau=self.tau)

    def __call__(self, online: Any, target: Any) -> Any:
        return polyak_average(online, target, self.tau)
