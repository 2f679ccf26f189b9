"""Off-policy algorithms with stateful policies: stored states and their use."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.algorithm import DDPG, DQN, SAC, TD3, SACDiscrete, evaluate_policy
from lerax.callback import EvalCallback
from lerax.policy import MLPQPolicy, MLPSACPolicy
from lerax.space import Discrete
from lerax.wrapper import TimeLimit

from .envs import Counter
from .stateful_policies import (
    WRONG_STATE,
    CountingDeterministicPolicy,
    CountingDiscreteSACPolicy,
    CountingQPolicy,
    CountingSACPolicy,
)


def assert_learning_metric(algo, values, name):
    """A gradient-step metric: NaN in the iterations before `learning_starts`
    (no update ran), finite from the first iteration that learns."""
    values = np.asarray(values)
    first = -(-algo.learning_starts // algo.steps_per_iteration) - 1
    assert np.isnan(values[:first]).all(), name
    assert np.isfinite(values[first:]).all(), name


def test_buffer_rows_hold_the_states_the_collector_used(getkey):
    # CartPole under random actions: episodes of varied length end inside
    # the run, both before and after `learning_starts`.
    env = lerax.env.make("CartPole-v1")
    policy = CountingQPolicy(env, width_size=16, key=getkey())
    algo = DQN(
        num_envs=2, num_steps=8, buffer_size=512, batch_size=16, learning_starts=64
    )
    state = algo.init(env, policy, key=getkey(), total_timesteps=192)
    iteration = eqx.filter_jit(algo.iteration)
    steps = []
    for _ in range(12):  # 4 iterations of random actions, 8 exploring
        state, _, transitions = iteration(state)
        steps.append(transitions)
    transitions = jax.tree.map(lambda *x: jnp.concatenate(x), *steps)  # [T, N]
    buffer = state.buffer
    counts = np.asarray(buffer.policy_states.count[:192]).reshape(96, 2)
    next_counts = np.asarray(buffer.next_policy_states.count[:192]).reshape(96, 2)
    observations = np.asarray(buffer.observations[:192]).reshape(96, 2, 4)
    done = np.asarray(transitions.done)

    # the rows are the collector's states, in the order they were used
    np.testing.assert_array_equal(counts, transitions.policy_state.count)
    np.testing.assert_array_equal(next_counts, transitions.next_policy_state.count)

    # a manual rollout of the policy's own state update over the stored
    # observations, resetting after every episode end
    for n in range(2):
        policy_state = policy.reset(key=getkey())
        for t in range(96):
            assert counts[t, n] == int(policy_state.count), (t, n)
            policy_state, _ = policy.q_values(policy_state, observations[t, n])
            assert next_counts[t, n] == int(policy_state.count), (t, n)
            if done[t, n]:
                policy_state = policy.reset(key=getkey())

    # the state after an episode's last step is the pre-reset one (the
    # episode's length), and the next step starts again from 0
    ends = np.argwhere(done[:-1])
    assert len(ends) >= 4
    assert (next_counts[done] > 0).all()
    np.testing.assert_array_equal(
        next_counts[done], np.asarray(transitions.episode_length)[done]
    )
    assert (counts[ends[:, 0] + 1, ends[:, 1]] == 0).all()
    # during the random-action phase (first 32 steps per env) the policy
    # still ran, so its state advanced
    assert counts[:32].max() > 1


def test_stateless_policies_store_no_states(getkey):
    env = lerax.env.make("CartPole-v1")
    algo = DQN(buffer_size=64, batch_size=4, learning_starts=4)
    policy = MLPQPolicy(env, width_size=8, key=getkey())
    state = algo.init(env, policy, key=getkey(), total_timesteps=8)
    state, _ = algo.train(state, 2)
    assert state.buffer.policy_states is None
    assert state.buffer.next_policy_states is None
    batch = state.buffer.sample(4, key=getkey())
    assert batch["policy_states"] is None and batch["next_policy_states"] is None

    pendulum = lerax.env.make("Pendulum-v1")
    policy = MLPSACPolicy(pendulum, feature_size=8, width_size=8, key=getkey())
    algo = SAC(buffer_size=64, batch_size=4, learning_starts=4, q_width_size=8)
    state = algo.init(pendulum, policy, key=getkey())
    assert state.buffer.policy_states is None
    assert state.buffer.next_policy_states is None


DISCRETE = Discrete(2)


def strict_setup(algo_cls, key):
    """A `strict` counting policy on a Counter env that ends episodes by
    termination (discrete actions) or by truncation (continuous)."""
    small = dict(buffer_size=64, batch_size=4, learning_starts=8)
    if algo_cls is DQN:
        env = TimeLimit(Counter(terminate_at=3, action_space=DISCRETE), 10)
        return env, CountingQPolicy(env, width_size=8, strict=True, key=key), small
    if algo_cls is SACDiscrete:
        env = TimeLimit(Counter(terminate_at=3, action_space=DISCRETE), 10)
        policy = CountingDiscreteSACPolicy(env, width_size=8, strict=True, key=key)
        return env, policy, dict(small, q_width_size=8)
    env = TimeLimit(Counter(), 3)
    if algo_cls is SAC:
        policy = CountingSACPolicy(
            env, feature_size=8, width_size=8, strict=True, key=key
        )
    else:
        policy = CountingDeterministicPolicy(env, width_size=8, strict=True, key=key)
    return env, policy, dict(small, q_width_size=8)


@pytest.mark.parametrize("algo_cls", [DQN, SACDiscrete, SAC, TD3, DDPG])
def test_losses_evaluate_the_policy_with_the_stored_states(algo_cls, getkey):
    # The strict policy raises unless its state equals the Counter
    # observation it is evaluated on: every policy (and target-policy)
    # evaluation, in acting and in the losses, gets the state of its step.
    env, policy, kwargs = strict_setup(algo_cls, getkey())
    algo = algo_cls(**kwargs)
    state = algo.init(env, policy, key=getkey(), total_timesteps=48)
    state, metrics = algo.train(state, algo.num_iterations(48))
    buffer = state.buffer
    np.testing.assert_array_equal(
        buffer.policy_states.count[:48], buffer.observations[:48, 0]
    )
    np.testing.assert_array_equal(
        buffer.next_policy_states.count[:48], buffer.next_observations[:48, 0]
    )
    loss = "loss" if algo_cls is DQN else "q_loss"
    for name, values in metrics.items():
        if name == "exploration_rate":  # DQN's schedule: every iteration
            assert np.isfinite(np.asarray(values)).all()
        elif not name.startswith("episode"):  # NaN in iterations ending none
            assert_learning_metric(algo, values, name)
    assert float(metrics[loss][-1]) != 0.0  # learning ran

    update = eqx.filter_jit(algo.update)
    batch = buffer.sample(4, key=getkey())
    _, good = update(state.learner, batch, key=getkey(), step=jnp.array(1))
    assert all(np.isfinite(float(v)) for v in good.values())
    # swapping the current and next states breaks the losses
    swapped = dict(
        batch,
        policy_states=batch["next_policy_states"],
        next_policy_states=batch["policy_states"],
    )
    with pytest.raises(eqx.EquinoxRuntimeError, match=WRONG_STATE):
        jax.block_until_ready(
            update(state.learner, swapped, key=getkey(), step=jnp.array(1))
        )


def test_stateful_learning_vmaps_over_seeds(getkey):
    env = TimeLimit(Counter(terminate_at=3, action_space=DISCRETE), 10)
    policy = CountingQPolicy(env, width_size=8, strict=True, key=getkey())
    algo = DQN(buffer_size=64, batch_size=4, learning_starts=8)
    learn = eqx.filter_jit(
        jax.vmap(lambda k: eqx.filter(algo.learn(env, policy, 32, key=k), eqx.is_array))
    )
    trained = learn(jr.split(getkey(), 3))
    weights = trained.inner.q_network.layers[0].weight
    assert weights.shape[0] == 3
    assert not jnp.allclose(weights[0], weights[1])  # seeds differ
    assert jnp.isfinite(weights).all()


def test_dqn_trains_a_stateful_policy_on_cartpole():
    # RL Zoo's DQN CartPole-v1 configuration, 64-unit network, 50k steps,
    # with the step count as an extra input. DQN solves CartPole and then
    # forgets it again (see test_off_policy.py): the policy left at 50k steps
    # returned 135 / 71 / 500 / 161 for seeds 1-4, the best of the periodic
    # evaluations 500 for all four; the latter is asserted, as there.
    env = lerax.env.make("CartPole-v1")
    evaluation = EvalCallback(env, eval_freq=5120, num_episodes=16, seed=7)
    algo = DQN(
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        target_update_interval=10,
        num_steps=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
    )
    policy = CountingQPolicy(env, width_size=64, key=jr.key(0))
    state = algo.init(
        env, policy, key=jr.key(1), total_timesteps=50_000, callback=evaluation
    )
    state, metrics = algo.train(state, algo.num_iterations(50_000), callback=evaluation)
    assert_learning_metric(algo, metrics["loss"], "loss")
    best = state.callback_state.best_policy(state.policy)
    returns, _ = evaluate_policy(env, best, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= 475, returns


@pytest.mark.slow(22)
def test_sac_trains_a_stateful_policy_on_pendulum():
    # As the stateless SAC Pendulum test, 10k steps, with the step count as an
    # extra input: measured -119 / -190 for seeds 0 / 1 (random: about -1200).
    env = lerax.env.make("Pendulum-v1")
    algo = SAC(policy_lr=1e-3, q_lr=1e-3, buffer_size=10_000, q_width_size=64)
    policy = CountingSACPolicy(env, feature_size=64, width_size=64, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(1), total_timesteps=10_000)
    state, metrics = algo.train(state, 10_000)
    for name in ("q_loss", "policy_loss", "alpha", "entropy"):
        assert_learning_metric(algo, metrics[name], name)
    returns, _ = evaluate_policy(env, state.policy, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= -250, returns
