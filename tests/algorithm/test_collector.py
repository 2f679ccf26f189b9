"""The rollout collector draws from exactly the documented key stream (its
keys hash with `FUSED_THREEFRY` for speed, which must not change a value)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import lerax.env
from lerax.algorithm._collector import collect, initial_carries, initial_carry
from lerax.policy import MLPActorCriticPolicy
from lerax.wrapper import NormalizeObservation, NormalizeReward, share_statistics

from ..wrapper.test_running_statistics import reference as stats_reference


def _keys_in(tree):
    return [
        x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key)
    ]


def test_initial_carries_reset_each_env_with_its_split_key():
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    key = jr.key(7)
    carries = jax.jit(lambda k: initial_carries(env, policy, 5, key=k))(key)
    expected = jax.vmap(lambda k: initial_carry(env, policy, key=k))(jr.split(key, 5))
    for a, b in zip(jax.tree.leaves(carries), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # five different initial observations, inside CartPole's reset range
    observations = np.asarray(carries.observation)
    assert len({tuple(o) for o in observations}) == 5
    assert np.all(np.abs(observations) <= 0.05)
    default = jr.key_impl(jr.key(0))
    assert all(jr.key_impl(k) == default for k in _keys_in(carries))


def test_collect_acts_with_the_documented_keys():
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    num_envs, num_steps, key = 3, 6, jr.key(11)

    def actor(policy_state, observation, mask, act_key):
        action = jr.bernoulli(act_key).astype(jnp.int32)
        return policy_state, action, action, {"key": jr.key_data(act_key)}

    carries = initial_carries(env, policy, num_envs, key=jr.key(1))
    _, transitions = jax.jit(
        lambda c, k: collect(env, policy, actor, c, num_steps=num_steps, key=k)
    )(carries, key)
    # step t of env n acts with fold_in(split(split(key, T)[t], N)[n], 0)
    step_keys = jax.vmap(lambda k: jr.split(k, num_envs))(jr.split(key, num_steps))
    act_keys = jax.vmap(jax.vmap(lambda k: jr.fold_in(k, 0)))(step_keys)
    np.testing.assert_array_equal(
        np.asarray(transitions.extras["key"]), np.asarray(jr.key_data(act_keys))
    )
    expected_actions = jax.vmap(jax.vmap(lambda k: jr.bernoulli(k)))(act_keys)
    np.testing.assert_array_equal(
        np.asarray(transitions.action), np.asarray(expected_actions, np.int32)
    )


CARTPOLE = lerax.env.make("CartPole-v1")
NUM_ENVS, NUM_STEPS = 4, 40


def _coin_actor(policy_state, observation, mask, act_key):
    # ignores observations: a normalised env follows the raw env's
    # trajectories exactly, so the raw observations are known
    action = jr.bernoulli(act_key).astype(jnp.int32)
    return policy_state, action, action, {}


def _collect(env):
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    carries = initial_carries(env, policy, NUM_ENVS, key=jr.key(1))
    return jax.jit(
        lambda c: collect(
            env, policy, _coin_actor, c, num_steps=NUM_STEPS, key=jr.key(2)
        )
    )(carries)


def _raw_observations_seen():
    """Per env, every raw observation a normalisation wrapper sees: the
    initial one, each step's, and the new episode's after an auto-reset."""
    raw_final, raw = _collect(CARTPOLE)
    following = np.concatenate(
        [np.asarray(raw.observation[1:]), np.asarray(raw_final.observation)[None]]
    )
    done = np.asarray(raw.done)
    assert done.sum() > 0  # auto-resets happened
    return [
        np.concatenate(
            [
                np.asarray(raw.observation[0, n])[None],
                np.asarray(raw.final_observation[:, n]),
                following[:, n][done[:, n]],
            ]
        )
        for n in range(NUM_ENVS)
    ]


def _assert_statistics(stats, seen):
    mean, var, count = stats_reference(seen)
    np.testing.assert_allclose(stats.count, count, rtol=1e-7)
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(stats.var, var, rtol=1e-3, atol=1e-7)


def test_collect_shares_normalisation_statistics_over_the_envs():
    seen = _raw_observations_seen()
    final, _ = _collect(NormalizeObservation(CARTPOLE))
    stats = final.env_state.statistics
    for i in range(NUM_ENVS):  # one set of statistics, all envs' observations
        _assert_statistics(
            jax.tree.map(lambda x, i=i: x[i], stats), np.concatenate(seen)
        )
    np.testing.assert_array_equal(final.env_state.pending.count, 0.0)


def test_collect_keeps_per_env_statistics_when_not_shared():
    seen = _raw_observations_seen()
    env = NormalizeReward(NormalizeObservation(CARTPOLE, shared=False), shared=False)
    final, _ = _collect(env)
    stats = final.env_state.env_state.statistics
    for i in range(NUM_ENVS):  # each env's own observations only
        _assert_statistics(jax.tree.map(lambda x, i=i: x[i], stats), seen[i])
    returns = final.env_state.statistics
    assert len(set(np.asarray(returns.var).tolist())) == NUM_ENVS
    assert share_statistics(env, final.env_state) is final.env_state
