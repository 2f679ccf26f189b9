"""Learning tests: absolute returns at fixed budgets with fixed seeds.

Each trains once (seconds on 2 CPU cores) and evaluates the greedy policy on
32 episodes. Configurations follow the RL Zoo's tuned ones where they exist.
"""

import jax.numpy as jnp
import jax.random as jr
import optax
import pytest

import lerax.env
from lerax.algorithm import A2C, PPO, REINFORCE, evaluate_policy
from lerax.policy import MLPActorCriticPolicy, RecurrentActorCriticPolicy
from lerax.wrapper import (
    EpisodeStatistics,
    NormalizeReward,
    SelectObservation,
    TimeLimit,
)

from .envs import MaskedMatch


def train_and_evaluate(algo, env, policy, total, *, seed=0, eval_env=None):
    state = algo.init(env, policy, key=jr.key(seed))
    state, metrics = algo.train(state, algo.num_iterations(total))
    returns, _ = evaluate_policy(
        eval_env or env, state.policy, key=jr.key(1234), num_episodes=32
    )
    return state, metrics, float(jnp.mean(returns))


CARTPOLE = lerax.env.make("CartPole-v1")


@pytest.mark.slow(10)
def test_ppo_cartpole_solves_in_100k_steps():
    # RL Zoo: 8 envs x 32 steps, 20 epochs, full batch, gamma 0.98, lambda 0.8,
    # learning rate decaying linearly from 1e-3. Measured 500 for seeds 0-5
    # (policy and training keys both the seed).
    total = 100_000
    iterations = total // 256
    algo = PPO(
        num_envs=8,
        num_steps=32,
        num_epochs=20,
        num_batches=1,
        gamma=0.98,
        gae_lambda=0.8,
        learning_rate=optax.linear_schedule(1e-3, 0.0, 20 * iterations),
    )
    policy = MLPActorCriticPolicy(CARTPOLE, key=jr.key(0))
    _, _, mean_return = train_and_evaluate(algo, CARTPOLE, policy, total)
    assert mean_return >= 475, mean_return


def test_a2c_cartpole_solves_in_500k_steps():
    # RL Zoo: 8 envs, SB3 defaults otherwise. Measured 500 for policy keys
    # 0-3 with training keys 100-103.
    algo = A2C(num_envs=8)
    policy = MLPActorCriticPolicy(CARTPOLE, key=jr.key(0))
    _, _, mean_return = train_and_evaluate(algo, CARTPOLE, policy, 500_000, seed=100)
    assert mean_return >= 475, mean_return


def test_reinforce_cartpole_reaches_400_in_500k_steps():
    # Measured 500 for policy keys 0-3 with training keys 100-103.
    algo = REINFORCE(num_envs=8, num_steps=128, learning_rate=1e-3)
    policy = MLPActorCriticPolicy(CARTPOLE, key=jr.key(0))
    _, _, mean_return = train_and_evaluate(algo, CARTPOLE, policy, 500_000, seed=100)
    assert mean_return >= 400, mean_return


def test_masked_actions_are_never_taken_and_the_task_is_solved():
    env = TimeLimit(MaskedMatch(), 20)
    algo = PPO(
        num_envs=8, num_steps=32, num_epochs=4, num_batches=4, learning_rate=1e-3
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state, metrics, mean_return = train_and_evaluate(algo, env, policy, 40_000)
    assert mean_return >= 19.5, mean_return  # 20 is perfect
    # no episode ever ended through an illegal (masked) action during training
    assert float(jnp.nanmin(metrics["episode_length"])) == 20.0


PENDULUM = lerax.env.make("Pendulum-v1")


@pytest.mark.slow(22)
def test_ppo_pendulum_with_reward_normalisation():
    # RL Zoo's PPO configuration for Pendulum-v1 (without gSDE) with the
    # rewards normalised; evaluated on the raw env. Measured: -125 to -161 at
    # 300k steps over seeds 0-2. (Observation normalisation hurts here: the
    # running statistics of cos(theta) collapse once the pole is upright.)
    env = NormalizeReward(EpisodeStatistics(PENDULUM), gamma=0.9)
    algo = PPO(
        num_envs=4,
        num_steps=1024,
        num_epochs=10,
        num_batches=64,
        gamma=0.9,
        gae_lambda=0.95,
        learning_rate=1e-3,
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    _, _, mean_return = train_and_evaluate(
        algo, env, policy, 300_000, eval_env=PENDULUM
    )
    assert mean_return >= -250, mean_return


@pytest.mark.slow(40)
def test_recurrent_ppo_remembers_what_it_cannot_see():
    # CartPole with only positions observed: velocities must be inferred from
    # memory. A GRU policy beats an MLP at the same budget.
    env = SelectObservation(CARTPOLE, (0, 2))
    # Measured with this configuration: GRU 500 at 200k steps for training
    # seeds 0 and 1 (258 and 449 at 100k, 500 and 334 at 150k), MLP about 42.
    algo = PPO(
        num_envs=32, num_steps=64, num_epochs=10, num_batches=8, learning_rate=1e-3
    )
    _, _, gru = train_and_evaluate(
        algo, env, RecurrentActorCriticPolicy(env, key=jr.key(0)), 200_000, seed=0
    )
    _, _, mlp = train_and_evaluate(
        algo, env, MLPActorCriticPolicy(env, key=jr.key(0)), 200_000, seed=0
    )
    assert gru >= 400, (gru, mlp)
    assert mlp <= 150, (gru, mlp)
