"""PPO with observation normalisation balances InvertedPendulum-v5 (MJX)."""

import jax
import jax.random as jr
import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
pytest.importorskip("mujoco")

import lerax.env  # noqa: E402
from lerax.algorithm import PPO  # noqa: E402
from lerax.policy import MLPActorCriticPolicy  # noqa: E402
from lerax.wrapper import NormalizeObservation, normalization_statistics  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:UserWarning")


@pytest.mark.slow(40)
def test_ppo_inverted_pendulum_reaches_900_in_50k_steps():
    # 8 envs x 256 steps, 8 minibatches, 10 epochs, learning rate 1e-3.
    # Trained on MJX, evaluated on Gymnasium's own InvertedPendulum-v5 (C
    # MuJoCo, the lockstep oracle of test_gymnasium_oracle.py) behind the
    # training statistics pooled over the 8 envs: the policy must transfer to
    # the reference engine, and evaluating there compiles no second MJX step
    # (that alone took ~20 CPU-seconds). Measured (seed 0): 1000, the maximum,
    # in every one of the 8 episodes.
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
    [(_, statistics)] = normalization_statistics(env, state.actors.env_state)

    @jax.jit
    def act(observation):
        _, action = state.policy(None, env.normalize(observation, statistics))
        return action

    oracle = gymnasium.make("InvertedPendulum-v5")
    returns = []
    for seed in range(8):
        observation, _ = oracle.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = np.asarray(act(observation.astype(np.float32)))
            observation, reward, terminated, truncated, _ = oracle.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    oracle.close()
    assert np.mean(returns) >= 900, returns
