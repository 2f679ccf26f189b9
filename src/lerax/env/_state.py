"""Environment state base classes."""

import abc

import equinox as eqx


class AbstractEnvLikeState(eqx.Module):
    """The state of an environment or of a wrapper around one.

    Attributes:
        unwrapped: The state of the innermost (unwrapped) environment.
    """

    @property
    @abc.abstractmethod
    def unwrapped(self) -> "AbstractEnvState":
        """The state of the innermost environment."""


class AbstractEnvState(AbstractEnvLikeState):
    """The state of a base (unwrapped) environment; `unwrapped` is itself."""

    @property
    def unwrapped(self) -> "AbstractEnvState":
        return self
