"""Environments: pure, functional, vectorisable.

See `AbstractEnvLike` for the interface and `make` for the registry.
"""

from ._base import AbstractEnv as AbstractEnv
from ._base import AbstractEnvLike as AbstractEnvLike
from ._registry import make as make
from ._registry import register as register
from ._registry import registered as registered
from ._state import AbstractEnvLikeState as AbstractEnvLikeState
from ._state import AbstractEnvState as AbstractEnvState
