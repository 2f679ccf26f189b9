"""Lazy imports of optional dependencies with errors that name the extra."""

import importlib
from types import ModuleType


def require(module: str, extra: str) -> ModuleType:
    """Imports `module`, or raises an `ImportError` naming the extra to install.

    Args:
        module: The dotted module name, e.g. ``"diffrax"``.
        extra: The lerax extra that provides it, e.g. ``"ode"``.

    Returns:
        The imported module.

    Raises:
        ImportError: If the module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"`{module}` is needed for this feature but is not installed. "
            f'Install it with `pip install "lerax[{extra}]"`.'
        ) from error
