"""Off-policy replay behind normalisers: the buffer keeps what the
normalisers received, and each sampled batch is normalised with the current
statistics (Stable-Baselines3's `VecNormalize` semantics)."""

from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.algorithm import DQN, SAC, evaluate_policy
from lerax.algorithm._collector import collect, initial_carries
from lerax.algorithm._off_policy import _renormalized
from lerax.policy import MLPQPolicy, MLPSACPolicy
from lerax.space import Box
from lerax.wrapper import (
    AbstractStatefulWrapper,
    AbstractWrapperState,
    ClipObservation,
    NormalizeObservation,
    NormalizeReward,
    TransformObservation,
    normalization_statistics,
    renormalize,
    renormalizer,
    sync_normalization,
    unnormalized,
    unnormalized_observation_space,
)

PENDULUM = lerax.env.make("Pendulum-v1")
CARTPOLE = lerax.env.make("CartPole-v1")


def _pendulum_step(observation, action):
    """Gymnasium's Pendulum-v1 dynamics and reward, from an observation
    (cos, sin, angular velocity) and a torque."""
    cos, sin, velocity = observation.T
    theta = np.arctan2(sin, cos)
    torque = np.clip(action[:, 0], -2.0, 2.0)
    angle = ((theta + np.pi) % (2 * np.pi)) - np.pi
    reward = -(angle**2 + 0.1 * velocity**2 + 0.001 * torque**2)
    velocity = np.clip(velocity + (15.0 * sin + 3.0 * torque) * 0.05, -8.0, 8.0)
    theta = theta + velocity * 0.05
    return np.stack([np.cos(theta), np.sin(theta), velocity], -1), reward


@pytest.fixture(scope="module")
def trained():
    """SAC on Pendulum behind both normalisers, some steps of learning in."""
    env = NormalizeReward(NormalizeObservation(PENDULUM))
    algo = SAC(
        num_envs=2,
        buffer_size=1000,
        batch_size=32,
        learning_starts=200,
        q_width_size=16,
    )
    policy = MLPSACPolicy(env, feature_size=16, width_size=16, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(1))
    state, _ = algo.train(state, 200)  # 400 env steps, 200 after learning starts
    return env, state


def test_buffer_keeps_the_raw_env_values(trained):
    env, state = trained
    buffer = state.buffer
    n = int(buffer.size)
    assert n == 400
    observations = np.asarray(buffer.observations[:n], np.float64)
    next_observations = np.asarray(buffer.next_observations[:n], np.float64)
    # raw Pendulum observations lie on the unit circle; standardised ones don't
    np.testing.assert_allclose(np.hypot(*observations[:, :2].T), 1.0, atol=1e-5)
    expected_next, expected_reward = _pendulum_step(
        observations, np.asarray(buffer.actions[:n], np.float64)
    )
    np.testing.assert_allclose(next_observations, expected_next, atol=2e-5)
    np.testing.assert_allclose(buffer.rewards[:n], expected_reward, rtol=1e-4)
    # the statistics moved far from the identity, so a normalised buffer
    # would have failed the checks above
    (_, reward_stats), (_, observation_stats) = normalization_statistics(
        env, state.actors.env_state
    )
    assert float(reward_stats.var) > 10.0
    assert float(jnp.max(jnp.abs(observation_stats.mean))) > 0.1


def test_sampled_batches_are_normalised_with_the_current_statistics(trained):
    env, state = trained
    env_state = state.actors.env_state
    batch = state.buffer.sample(64, key=jr.key(5))
    out = jax.jit(lambda b: _renormalized(renormalizer(env, env_state), b))(batch)
    (_, reward_stats), (_, observation_stats) = normalization_statistics(env, env_state)
    mean, var = np.asarray(observation_stats.mean), np.asarray(observation_stats.var)

    def standardised(x):
        return np.clip((np.asarray(x) - mean) / np.sqrt(var + 1e-8), -10, 10)

    np.testing.assert_allclose(
        out["observations"], standardised(batch["observations"]), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        out["next_observations"],
        standardised(batch["next_observations"]),
        rtol=1e-5,
        atol=1e-6,
    )
    scaled = np.clip(
        np.asarray(batch["rewards"]) / np.sqrt(float(reward_stats.var) + 1e-8), -10, 10
    )
    np.testing.assert_allclose(out["rewards"], scaled, rtol=1e-5)
    for name in ("actions", "terminated"):
        np.testing.assert_array_equal(out[name], batch[name])


def _random_rollout(env, num_envs=1, num_steps=40):
    policy = MLPQPolicy(env, key=jr.key(0))

    def actor(policy_state, observation, mask, key):
        action = env.action_space.sample(key=key)
        return policy_state, action, action, {}

    carries = initial_carries(env, policy, num_envs, key=jr.key(1))
    return jax.jit(
        lambda c: collect(env, policy, actor, c, num_steps=num_steps, key=jr.key(2))
    )(carries)


def test_renormalize_maps_through_the_wrappers_outside_the_normaliser():
    # a shape-changing map and a clip outside the normaliser
    inner = NormalizeObservation(CARTPOLE)
    env = ClipObservation(
        TransformObservation(inner, lambda o: 2.0 * o[:2], Box(-20.0, 20.0, (2,))),
        -3.0,
        3.0,
    )
    assert unnormalized_observation_space(env) == CARTPOLE.observation_space
    carries, transitions = _random_rollout(env)
    raw = transitions.unnormalized
    assert set(raw) == {"observation", "final_observation"}  # no reward normaliser
    # the raw values are CartPole's own: the plain env with the same keys
    # takes the same actions and emits exactly these observations
    _, plain = _random_rollout(CARTPOLE)
    np.testing.assert_array_equal(plain.action, transitions.action)
    np.testing.assert_array_equal(raw["observation"], plain.observation)
    np.testing.assert_array_equal(raw["final_observation"], plain.final_observation)
    # the observation the env emits for the current state, from the raw one
    emitted, _ = renormalize(
        env, carries.env_state, carries.env_state.inner_observation[0]
    )
    np.testing.assert_allclose(emitted, carries.observation[0], rtol=1e-5, atol=1e-6)
    assert emitted.shape == (2,) and float(jnp.max(jnp.abs(emitted))) <= 3.0
    # DQN's buffer stores the raw rows (4 values); sampled, they come out as
    # the env emits them (2 values)
    algo = DQN(buffer_size=100, batch_size=8, learning_starts=16)
    state = algo.init(
        env, MLPQPolicy(env, key=jr.key(0)), key=jr.key(3), total_timesteps=20
    )
    state, _ = algo.train(state, 20)
    assert state.buffer.observations.shape == (100, 4)
    batch = state.buffer.sample(8, key=jr.key(4))
    out = _renormalized(renormalizer(env, state.actors.env_state), batch)
    assert out["observations"].shape == (8, 2)
    for row in range(8):
        expected, _ = renormalize(
            env, state.actors.env_state, batch["observations"][row]
        )
        np.testing.assert_allclose(out["observations"][row], expected, rtol=1e-6)


class _Steps(AbstractWrapperState):
    env_state: Any
    count: Any


class StepCountObservation(AbstractStatefulWrapper):
    """Adds the episode's step count to every observation: a stateful
    observation map the replay cannot re-apply."""

    env: Any

    @property
    def observation_space(self):
        return self.env.observation_space

    def wrap(self, env_state, *, key):
        return _Steps(env_state, jnp.zeros((), jnp.float32))

    def carry_over(self, state, env_state, *, key):
        return _Steps(env_state, jnp.zeros((), jnp.float32))

    def advance(self, state, action, next_env_state, *, key):
        return _Steps(next_env_state, state.count + 1.0)

    def observation(self, state, *, key):
        return self.env.observation(state.env_state, key=key) + state.count

    def reward(self, state, action, next_state, *, key):
        return self.env.reward(state.env_state, action, next_state.env_state, key=key)

    def truncate(self, state):
        return self.env.truncate(state.env_state)

    def transition_info(self, state, action, next_state):
        return self.env.transition_info(state.env_state, action, next_state.env_state)


def test_a_stateful_wrapper_outside_the_normaliser_stores_emitted_values():
    env = NormalizeReward(StepCountObservation(NormalizeObservation(CARTPOLE)))
    assert unnormalized_observation_space(env) == env.observation_space
    _, transitions = _random_rollout(env)
    # observations cannot be replayed through the step counter, rewards can
    assert set(transitions.unnormalized) == {"reward"}
    np.testing.assert_array_equal(transitions.unnormalized["reward"], 1.0)
    # the counter inside the normaliser is fine: it is part of the raw env
    inside = NormalizeObservation(StepCountObservation(CARTPOLE))
    _, transitions = _random_rollout(inside)
    assert set(transitions.unnormalized) == {"observation", "final_observation"}
    # and a buffer of emitted values comes back unchanged
    carries, _ = _random_rollout(env)
    x = jnp.arange(4.0)
    assert renormalize(env, carries.env_state, x)[0] is x


def test_envs_without_normalisers_record_nothing():
    _, transitions = _random_rollout(CARTPOLE)
    assert transitions.unnormalized == {}
    assert unnormalized(CARTPOLE, None, {}) == {}


@pytest.mark.slow(30)
def test_sac_pendulum_behind_normalisers_reaches_minus_200_in_20k_steps():
    # Stored normalised (as they were emitted), the same runs ended between
    # -1311 and -513 over seeds 0-3; replayed with the current statistics,
    # between -138 and -119.
    env = NormalizeReward(NormalizeObservation(PENDULUM))
    algo = SAC(policy_lr=1e-3, q_lr=1e-3, buffer_size=20_000, q_width_size=64)
    policy = MLPSACPolicy(env, feature_size=64, width_size=64, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(100), total_timesteps=20_000)
    state, _ = algo.train(state, 20_000)
    evaluation = sync_normalization(
        NormalizeObservation(PENDULUM), env, state.actors.env_state
    )
    returns, _ = evaluate_policy(
        evaluation, state.policy, key=jr.key(1234), num_episodes=32
    )
    assert float(jnp.mean(returns)) >= -200, returns


def test_logged_episode_returns_are_those_of_the_raw_rewards():
    # without EpisodeStatistics below it, the collector sums the rewards
    # NormalizeReward received, not the scaled ones
    def rollout(env):
        policy = MLPSACPolicy(env, key=jr.key(0))

        def actor(policy_state, observation, mask, key):
            action = jnp.array([0.5])
            return policy_state, action, action, {}

        carries = initial_carries(env, policy, 2, key=jr.key(1))
        return collect(env, policy, actor, carries, num_steps=210, key=jr.key(2))[1]

    plain = rollout(PENDULUM)
    normalized = rollout(NormalizeReward(PENDULUM))
    done = np.asarray(plain.done)
    assert done[199].all() and done.sum() == 2  # one 200-step episode per env
    np.testing.assert_allclose(
        normalized.episode_return[199], plain.reward[:200].sum(0), rtol=1e-5
    )
    np.testing.assert_allclose(
        normalized.episode_return[199], plain.episode_return[199], rtol=1e-5
    )
    # the scaled rewards sum to something else entirely
    assert not np.allclose(normalized.reward[:200].sum(0), plain.reward[:200].sum(0))
