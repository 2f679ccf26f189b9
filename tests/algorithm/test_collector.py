"""The rollout collector draws from exactly the documented key stream (its
keys hash with `FUSED_THREEFRY` for speed, which must not change a value)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import lerax.env
from lerax.algorithm._collector import collect, initial_carries, initial_carry
from lerax.policy import MLPActorCriticPolicy
from lerax.wrapper import NormalizeObservation

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


def test_collect_shares_normalisation_statistics_over_the_envs():
    # the actor ignores observations, so the normalised env follows the raw
    # env's trajectories exactly and the raw observations are known
    raw_env = lerax.env.make("CartPole-v1")
    env = NormalizeObservation(raw_env)
    num_envs, num_steps = 4, 40

    def actor(policy_state, observation, mask, act_key):
        action = jr.bernoulli(act_key).astype(jnp.int32)
        return policy_state, action, action, {}

    def run(env):
        policy = MLPActorCriticPolicy(env, key=jr.key(0))
        carries = initial_carries(env, policy, num_envs, key=jr.key(1))
        return jax.jit(
            lambda c: collect(env, policy, actor, c, num_steps=num_steps, key=jr.key(2))
        )(carries)

    raw_final, raw = run(raw_env)
    final, _ = run(env)
    # every observation each wrapper saw: the initial one, each step's, and
    # the new episode's after an auto-reset
    following = np.concatenate(
        [np.asarray(raw.observation[1:]), np.asarray(raw_final.observation)[None]]
    )
    done = np.asarray(raw.done)
    assert done.sum() > 0  # auto-resets happened
    seen = [np.asarray(raw.observation[0])]
    seen += [np.asarray(raw.final_observation[t]) for t in range(num_steps)]
    seen += [following[done]]
    mean, var, count = stats_reference(np.concatenate(seen))
    stats = final.env_state.statistics
    for i in range(num_envs):  # one set of statistics, all envs' observations
        np.testing.assert_allclose(stats.count[i], count, rtol=1e-7)
        np.testing.assert_allclose(stats.mean[i], mean, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(stats.var[i], var, rtol=1e-3, atol=1e-7)
    np.testing.assert_array_equal(final.env_state.pending.count, 0.0)
