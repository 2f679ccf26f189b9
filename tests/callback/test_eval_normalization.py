"""`EvalCallback` evaluates behind the training env's normalisation statistics."""

import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.algorithm import PPO, evaluate_policy
from lerax.callback import EvalCallback
from lerax.policy import MLPActorCriticPolicy
from lerax.wrapper import (
    NormalizeObservation,
    load_normalization,
    normalization_path,
    sync_normalization,
)

PENDULUM = lerax.env.make("Pendulum-v1")
ENV = NormalizeObservation(PENDULUM)
ALGO = PPO(num_envs=4, num_steps=32, num_batches=2, num_epochs=1)
ITERATIONS = 3
EVAL = dict(num_episodes=2, max_steps=50, seed=7)


def run(sync: bool, best_model_path=None):
    callback = EvalCallback(
        NormalizeObservation(PENDULUM),
        eval_freq=ITERATIONS * ALGO.steps_per_iteration,
        sync_normalization=sync,
        best_model_path=best_model_path,
        **EVAL,
    )
    policy = MLPActorCriticPolicy(ENV, key=jr.key(0))
    state = ALGO.init(ENV, policy, key=jr.key(1), callback=callback)
    state, _ = ALGO.train(state, ITERATIONS, callback=callback)
    return state


def mean_return(env, policy):
    returns, _ = evaluate_policy(
        env,
        policy,
        key=jr.key(EVAL["seed"]),
        num_episodes=EVAL["num_episodes"],
        max_steps=EVAL["max_steps"],
    )
    return float(np.mean(returns))


@pytest.mark.slow(17)
def test_eval_callback_uses_the_pooled_training_statistics(tmp_path):
    synced_run = run(True, best_model_path=tmp_path / "best")
    with pytest.warns(UserWarning, match="not frozen"):
        plain_run = run(False)
    assert int(synced_run.callback_state.num_evals) == 1
    # callbacks never change what is learned: both runs end in the same state
    np.testing.assert_array_equal(
        synced_run.actors.observation, plain_run.actors.observation
    )
    policy = synced_run.policy
    frozen = sync_normalization(
        NormalizeObservation(PENDULUM), ENV, synced_run.actors.env_state
    )
    assert frozen.is_frozen
    expected = mean_return(frozen, policy)
    got = float(synced_run.callback_state.mean_return)
    assert got == pytest.approx(expected, rel=1e-5)
    # the best policy is saved with the statistics it was evaluated behind,
    # and the two together reproduce the evaluation
    best = MLPActorCriticPolicy.deserialize(tmp_path / "best", ENV)
    loaded = load_normalization(
        normalization_path(tmp_path / "best"), NormalizeObservation(PENDULUM)
    )
    assert mean_return(loaded, best) == pytest.approx(got, rel=1e-5)
    # without syncing, the evaluation env starts fresh statistics each episode
    unsynced = float(plain_run.callback_state.mean_return)
    with pytest.warns(UserWarning, match="sync_normalization"):
        fresh = mean_return(NormalizeObservation(PENDULUM), policy)
    assert unsynced == pytest.approx(fresh, rel=1e-5)
    assert abs(unsynced - got) > 1e-3


def test_eval_callback_refuses_an_eval_env_without_the_normalisation():
    callback = EvalCallback(PENDULUM, eval_freq=ALGO.steps_per_iteration, **EVAL)
    policy = MLPActorCriticPolicy(ENV, key=jr.key(0))
    state = ALGO.init(ENV, policy, key=jr.key(1), callback=callback)
    with pytest.raises(ValueError, match="0 `NormalizeObservation`"):
        ALGO.train(state, 1, callback=callback)
