"""lerax: fast, pure, Equinox-native deep reinforcement learning in JAX.

Subpackages are imported explicitly (``import lerax.env``); importing ``lerax``
itself is cheap and pulls in no optional dependency.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lerax")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
