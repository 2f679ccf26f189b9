"""Custom policies written to the abstract classes' contract (only the
abstract methods the contract names) build, act and train."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import lerax.env
from lerax.algorithm import PPO, TD3
from lerax.distribution import Categorical
from lerax.policy import (
    AbstractActorCriticPolicy,
    AbstractDeterministicPolicy,
    AbstractFeatureActorCriticPolicy,
    MLPActorCriticPolicy,
    RecurrentActorCriticPolicy,
)
from lerax.space import AbstractSpace, Box, Discrete


class LinearActorCritic(AbstractActorCriticPolicy):
    """Categorical logits and a value, both linear in the observation."""

    name: ClassVar[str] = "LinearActorCritic"
    observation_space: AbstractSpace
    action_space: Discrete
    logits: eqx.nn.Linear
    critic: eqx.nn.Linear

    def __init__(self, env, *, key):
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        size = env.observation_space.flat_size
        k_logits, k_critic = jax.random.split(key)
        self.logits = eqx.nn.Linear(size, env.action_space.n, key=k_logits)
        self.critic = eqx.nn.Linear(size, "scalar", key=k_critic)

    def _parts(self, observation):
        flat = self.observation_space.flatten_sample(observation)
        return Categorical(logits=self.logits(flat)), self.critic(flat)

    def action_and_value(self, state, observation, *, key, action_mask=None):
        distribution, value = self._parts(observation)
        action, log_prob = distribution.sample_and_log_prob(key)
        return state, action, value, log_prob

    def evaluate_action(self, state, observation, action, *, action_mask=None):
        distribution, value = self._parts(observation)
        return state, value, distribution.log_prob(action), distribution.entropy()

    def value(self, state, observation):
        return state, self._parts(observation)[1]

    def __call__(self, state, observation, *, key=None, action_mask=None):
        distribution, _ = self._parts(observation)
        action = distribution.mode() if key is None else distribution.sample(key)
        return state, action

    def reset(self, *, key):
        return None


class LinearDeterministic(AbstractDeterministicPolicy):
    """A tanh of a linear map, scaled onto the bounds; noise with a key."""

    name: ClassVar[str] = "LinearDeterministic"
    observation_space: AbstractSpace
    action_space: Box
    linear: eqx.nn.Linear

    def __init__(self, env, *, key):
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        size = env.observation_space.flat_size
        self.linear = eqx.nn.Linear(size, env.action_space.flat_size, key=key)

    def __call__(self, state, observation, *, key=None, action_mask=None):
        space = self.action_space
        flat = self.observation_space.flatten_sample(observation)
        action = jnp.reshape(space.high * jnp.tanh(self.linear(flat)), space.shape)
        if key is not None:
            action = action + 0.1 * jax.random.normal(key, space.shape)
        return state, jnp.clip(action, space.low, space.high)

    def reset(self, *, key):
        return None


def _moved(before, after) -> bool:
    old = jax.tree.leaves(eqx.filter(before, eqx.is_inexact_array))
    new = jax.tree.leaves(eqx.filter(after, eqx.is_inexact_array))
    return any(not np.allclose(a, b) for a, b in zip(old, new))


def _finite(policy) -> bool:
    leaves = jax.tree.leaves(eqx.filter(policy, eqx.is_inexact_array))
    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in leaves)


def test_a_custom_actor_critic_policy_acts_and_trains_with_ppo(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = LinearActorCritic(env, key=getkey())
    observation = env.observation_space.sample(key=getkey())
    assert env.action_space.contains(policy(None, observation)[1])
    trained = PPO(num_envs=2, num_steps=8, num_batches=2).learn(
        env, policy, 32, key=getkey()
    )
    assert isinstance(trained, LinearActorCritic)
    assert _moved(policy, trained)
    assert _finite(trained)


def test_a_custom_deterministic_policy_acts_and_trains_with_td3(getkey):
    env = lerax.env.make("Pendulum-v1")
    policy = LinearDeterministic(env, key=getkey())
    observation = env.observation_space.sample(key=getkey())
    assert env.action_space.contains(policy(None, observation)[1])
    algo = TD3(
        buffer_size=32,
        batch_size=4,
        learning_starts=4,
        q_width_size=8,
        q_depth=1,
        policy_frequency=1,
    )
    trained = algo.learn(env, policy, 12, key=getkey())
    assert isinstance(trained, LinearDeterministic)
    assert _moved(policy, trained)
    assert _finite(trained)


def test_the_actor_critic_contract_is_three_methods():
    assert AbstractActorCriticPolicy.__abstractmethods__ == {
        "action_and_value",
        "evaluate_action",
        "value",
        "__call__",
        "reset",
    }
    assert AbstractDeterministicPolicy.__abstractmethods__ == {"__call__", "reset"}
    for cls in (MLPActorCriticPolicy, RecurrentActorCriticPolicy):
        assert issubclass(cls, AbstractFeatureActorCriticPolicy)
    assert AbstractFeatureActorCriticPolicy.__abstractmethods__ == {
        "forward",
        "reset",
    }
