"""`AbstractPolicy` and `AbstractPolicyState`."""

import abc
from typing import Any, Generic

import equinox as eqx
from jaxtyping import Array, Key

from .._custom_types import ActType, MaskType, ObsType, StateType
from ..space import AbstractSpace
from ..utils import Serializable


class AbstractPolicyState(eqx.Module):
    """Base class for policy internal states (e.g. a recurrent hidden state)."""


class AbstractPolicy(Serializable, Generic[StateType, ActType, ObsType, MaskType]):
    """Base class for policies.

    Policies map observations and internal states to actions and new
    internal states. Stateless policies use `None` as their state.

    Attributes:
        name: The name of the policy.
        action_space: The action space of the policy.
        observation_space: The observation space of the policy.
    """

    name: eqx.AbstractClassVar[str]
    action_space: eqx.AbstractVar[AbstractSpace]
    observation_space: eqx.AbstractVar[AbstractSpace]

    @abc.abstractmethod
    def __call__(
        self,
        state: StateType,
        observation: ObsType,
        *,
        key: Key[Array, ""] | None = None,
        action_mask: MaskType | None = None,
    ) -> tuple[StateType, ActType]:
        """Return the next action and new internal state given the current
        observation and internal state.

        A key can be provided for stochastic policies. If no key is provided,
        the policy should behave deterministically.

        Args:
            state: The current internal state of the policy.
            observation: The current observation.
            key: An optional JAX random key for stochastic policies.
            action_mask: An optional action mask.

        Returns:
            The new internal state and the action to take.
        """

    @abc.abstractmethod
    def reset(self, *, key: Key[Array, ""]) -> StateType:
        """Return an initial internal state for the policy.

        Args:
            key: A JAX random key for initializing the state.

        Returns:
            An initial internal state for the policy.
        """


def spaces_of(env: Any) -> tuple[AbstractSpace, AbstractSpace]:
    """`(observation_space, action_space)` of an env, or of a pair of spaces.

    Policies are built from an env (anything with `observation_space` and
    `action_space`) so they always agree with it.
    """
    if isinstance(env, tuple) and len(env) == 2:
        observation_space, action_space = env
    else:
        try:
            observation_space, action_space = env.observation_space, env.action_space
        except AttributeError:
            raise TypeError(
                "A policy is built from an env (or an `(observation_space, "
                f"action_space)` pair), got {type(env).__name__}."
            ) from None
    for space in (observation_space, action_space):
        if not isinstance(space, AbstractSpace):
            raise TypeError(f"Expected lerax spaces, got {type(space).__name__}.")
    return observation_space, action_space
