"""Stateful wrappers of the off-policy MLP policies, for algorithm tests.

Each wrapper's state counts the steps of the running episode (reset to 0 at
episode start); the count, scaled, is an extra input of the wrapped network,
which is built on the observation plus that input. With `strict=True` the
policy also checks that the count equals `observation[0]` (which holds on
the `Counter` env, whose observation is the step index) and raises (through
`eqx.error_if`, also inside `jit`, `vmap` and `grad`) when it is evaluated
with the state of another step.
"""

from typing import Any, ClassVar, final

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, Key

from lerax.policy import (
    AbstractDeterministicPolicy,
    AbstractDiscreteSACPolicy,
    AbstractPolicyState,
    AbstractQPolicy,
    AbstractSACPolicy,
    MLPDeterministicPolicy,
    MLPDiscreteSACPolicy,
    MLPQPolicy,
    MLPSACPolicy,
)
from lerax.space import AbstractSpace, Box, Discrete

SCALE = 500.0  # counts enter the network as count / SCALE
WRONG_STATE = "policy evaluated with the state of another step"


@final
class StepCount(AbstractPolicyState):
    """Steps taken in the running episode."""

    count: Int[Array, ""]


def fresh() -> StepCount:
    return StepCount(jnp.zeros((), jnp.int32))


def augmented(env: Any) -> tuple[Box, AbstractSpace]:
    """The wrapped network's spaces: the flat observation plus the count."""
    size = env.observation_space.flat_size + 1
    return Box(-jnp.inf, jnp.inf, (size,)), env.action_space


def advance(
    space: AbstractSpace, state: StepCount, observation: Any, strict: bool
) -> tuple[StepCount, Float[Array, " n"]]:
    """`(next_state, network_input)` for one step."""
    flat = space.flatten_sample(observation)
    count = state.count.astype(flat.dtype)
    if strict:
        flat = eqx.error_if(flat, count != flat[0], WRONG_STATE)
    return StepCount(state.count + 1), jnp.concatenate([flat, (count / SCALE)[None]])


@final
class CountingQPolicy(AbstractQPolicy):
    """`MLPQPolicy` fed the episode's step count."""

    name: ClassVar[str] = "CountingQPolicy"
    observation_space: AbstractSpace
    action_space: Discrete
    epsilon: float
    inner: MLPQPolicy
    strict: bool = eqx.field(static=True)

    def __init__(self, env, *, key: Key[Array, ""], strict: bool = False, **kwargs):
        self.observation_space, self.action_space = (
            env.observation_space,
            env.action_space,
        )
        self.inner = MLPQPolicy(augmented(env), key=key, **kwargs)
        self.epsilon = self.inner.epsilon
        self.strict = strict

    def q_values(self, state, observation):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner.q_values(None, features)[1]

    def reset(self, *, key):
        del key
        return fresh()


@final
class CountingSACPolicy(AbstractSACPolicy):
    """`MLPSACPolicy` fed the episode's step count."""

    name: ClassVar[str] = "CountingSACPolicy"
    observation_space: AbstractSpace
    action_space: Box
    inner: MLPSACPolicy
    strict: bool = eqx.field(static=True)

    def __init__(self, env, *, key: Key[Array, ""], strict: bool = False, **kwargs):
        self.observation_space, self.action_space = (
            env.observation_space,
            env.action_space,
        )
        self.inner = MLPSACPolicy(augmented(env), key=key, **kwargs)
        self.strict = strict

    def action_distribution(self, state, observation, *, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner.action_distribution(None, features)[1]

    def action_and_log_prob(self, state, observation, *, key, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return (state,) + self.inner.action_and_log_prob(None, features, key=key)[1:]

    def __call__(self, state, observation, *, key=None, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner(None, features, key=key)[1]

    def reset(self, *, key):
        del key
        return fresh()


@final
class CountingDiscreteSACPolicy(AbstractDiscreteSACPolicy):
    """`MLPDiscreteSACPolicy` fed the episode's step count."""

    name: ClassVar[str] = "CountingDiscreteSACPolicy"
    observation_space: AbstractSpace
    action_space: Discrete
    inner: MLPDiscreteSACPolicy
    strict: bool = eqx.field(static=True)

    def __init__(self, env, *, key: Key[Array, ""], strict: bool = False, **kwargs):
        self.observation_space, self.action_space = (
            env.observation_space,
            env.action_space,
        )
        self.inner = MLPDiscreteSACPolicy(augmented(env), key=key, **kwargs)
        self.strict = strict

    def action_distribution(self, state, observation, *, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner.action_distribution(
            None, features, action_mask=action_mask
        )[1]

    def action_probs_and_log_probs(self, state, observation, *, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        out = self.inner.action_probs_and_log_probs(
            None, features, action_mask=action_mask
        )
        return (state,) + out[1:]

    def action_and_log_prob(self, state, observation, *, key, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        out = self.inner.action_and_log_prob(
            None, features, key=key, action_mask=action_mask
        )
        return (state,) + out[1:]

    def __call__(self, state, observation, *, key=None, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner(None, features, key=key, action_mask=action_mask)[1]

    def reset(self, *, key):
        del key
        return fresh()


@final
class CountingDeterministicPolicy(AbstractDeterministicPolicy):
    """`MLPDeterministicPolicy` fed the episode's step count."""

    name: ClassVar[str] = "CountingDeterministicPolicy"
    observation_space: AbstractSpace
    action_space: Box
    exploration_noise: float
    inner: MLPDeterministicPolicy
    strict: bool = eqx.field(static=True)

    def __init__(self, env, *, key: Key[Array, ""], strict: bool = False, **kwargs):
        self.observation_space, self.action_space = (
            env.observation_space,
            env.action_space,
        )
        self.inner = MLPDeterministicPolicy(augmented(env), key=key, **kwargs)
        self.exploration_noise = self.inner.exploration_noise
        self.strict = strict

    def deterministic_action(self, state, observation):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner.deterministic_action(None, features)[1]

    def __call__(self, state, observation, *, key=None, action_mask=None):
        state, features = advance(
            self.observation_space, state, observation, self.strict
        )
        return state, self.inner(None, features, key=key)[1]

    def reset(self, *, key):
        del key
        return fresh()
