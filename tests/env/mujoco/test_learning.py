"""PPO with observation normalisation balances InvertedPendulum-v5 (MJX)."""

import jax.numpy as jnp
import jax.random as jr
import pytest

pytest.importorskip("mujoco")

import lerax.env  # noqa: E402
from lerax.algorithm import PPO, evaluate_policy  # noqa: E402
from lerax.policy import MLPActorCriticPolicy  # noqa: E402
from lerax.wrapper import NormalizeObservation, sync_normalization  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:UserWarning")


@pytest.mark.slow(64)
def test_ppo_inverted_pendulum_reaches_900_in_50k_steps():
    # 8 envs x 256 steps, 8 minibatches, 10 epochs, learning rate 1e-3.
    # Measured (seed 0): mean return 1000 (the maximum) over 16 evaluation
    # episodes; about 90 CPU-seconds in all, most of it compilation.
    env = NormalizeObservation(lerax.env.make("InvertedPendulum-v5"))
    algo = PPO(
        num_envs=8,
        num_steps=256,
        num_epochs=10,
        num_batches=8,
        gamma=0.99,
        gae_lambda=0.95,
        learning_rate=1e-3,
    )
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(0))
    state, _ = algo.train(state, algo.num_iterations(50_000))
    # evaluated behind the training statistics, pooled over the 8 envs
    returns, _ = evaluate_policy(
        sync_normalization(env, env, state.actors.env_state),
        state.policy,
        key=jr.key(1234),
        num_episodes=8,
        max_steps=1000,
    )
    assert float(jnp.mean(returns)) >= 900, returns
