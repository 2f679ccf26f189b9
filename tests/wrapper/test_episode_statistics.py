"""`EpisodeStatistics`: return and length of every episode."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from lerax.env.classic_control import CartPole
from lerax.wrapper import (
    AbstractWrapper,
    ClipReward,
    EpisodeStatistics,
    EpisodeStatisticsState,
    TimeLimit,
)

from .toy_envs import GaussianEnv, RewardTableEnv, reset_and_run

LIMIT = 30
STEPS = 300


def check_episode_totals(out):
    """Compares `info["episode"]` with totals computed from the rewards.

    Returns:
        The number of terminated and of truncated (only) episodes.
    """
    out = jax.device_get(out)
    rewards = out["reward"]
    done = out["terminated"] | out["truncated"]
    episode = out["info"]["episode"]
    assert episode["return"].dtype == np.float32
    assert episode["length"].dtype == np.int32
    total, length = 0.0, 0
    for i in range(len(rewards)):
        total += float(rewards[i])
        length += 1
        # On every step: the totals so far, this step included.
        np.testing.assert_allclose(episode["return"][i], total, rtol=1e-5, atol=1e-5)
        assert episode["length"][i] == length
        if done[i]:
            total, length = 0.0, 0
    terminated = int(out["terminated"].sum())
    truncated = int((out["truncated"] & ~out["terminated"]).sum())
    return terminated, truncated


def random_actions(seed, n=STEPS):
    return jnp.asarray(np.random.default_rng(seed).integers(0, 2, n), jnp.int32)


def test_cartpole_under_time_limit(getkey):
    env = EpisodeStatistics(TimeLimit(CartPole(), LIMIT))
    assert env.name == "CartPole"
    assert env.observation_space == CartPole().observation_space
    assert env.action_space == CartPole().action_space
    state, _, info = env.reset(key=getkey())
    assert isinstance(state, EpisodeStatisticsState)
    assert info == {}
    state, out = reset_and_run(env, random_actions(0), getkey())[1:]
    np.testing.assert_array_equal(out["reward"], np.ones(STEPS))
    terminated, truncated = check_episode_totals(out)
    assert terminated > 0 and truncated > 0
    done = np.asarray(out["terminated"] | out["truncated"])
    lengths = np.asarray(out["info"]["episode"]["length"])[done]
    # Truncated episodes last exactly LIMIT steps; none is longer.
    assert lengths.max() == LIMIT
    np.testing.assert_array_equal(lengths[np.asarray(out["truncated"])[done]], LIMIT)
    # After a done step the next episode starts from zero.
    after = np.flatnonzero(done)[:-1] + 1
    np.testing.assert_array_equal(out["state"].episode_length[done], 0)
    np.testing.assert_array_equal(out["info"]["episode"]["length"][after], 1)


def test_statistics_inside_the_time_limit(getkey):
    env = TimeLimit(EpisodeStatistics(CartPole()), LIMIT)
    _, _, out = reset_and_run(env, random_actions(0), getkey())
    terminated, truncated = check_episode_totals(out)
    assert terminated > 0 and truncated > 0


def test_varying_rewards(getkey):
    env = EpisodeStatistics(TimeLimit(GaussianEnv(), 7))
    _, _, out = reset_and_run(env, jnp.zeros(STEPS, jnp.int32), getkey())
    assert len(np.unique(np.asarray(out["reward"]))) == STEPS
    terminated, truncated = check_episode_totals(out)
    assert terminated == 0 and truncated == STEPS // 7


def test_vmapped(getkey):
    env = EpisodeStatistics(TimeLimit(CartPole(), LIMIT))
    actions = jnp.stack([random_actions(2), random_actions(3)])
    keys = jr.split(getkey(), 2)
    _, _, out = jax.vmap(lambda a, k: reset_and_run(env, a, k))(actions, keys)
    for i in range(2):
        check_episode_totals(jax.tree.map(lambda x: x[i], out))


def test_make_adds_no_episode_statistics():
    # the docstring said `lerax.env.make` puts it outside `TimeLimit`
    import lerax.env

    env = lerax.env.make("CartPole-v1")
    while isinstance(env, AbstractWrapper):
        assert not isinstance(env, EpisodeStatistics)
        env = env.env


def test_both_orders_record_the_same_truncated_episodes(getkey):
    # truncation by a `TimeLimit` inside or outside ends the episode alike
    key = getkey()
    outside = reset_and_run(
        EpisodeStatistics(TimeLimit(CartPole(), LIMIT)), random_actions(4), key
    )[2]
    inside = reset_and_run(
        TimeLimit(EpisodeStatistics(CartPole()), LIMIT), random_actions(4), key
    )[2]
    assert check_episode_totals(outside)[1] > 0
    for field in ("return", "length"):
        np.testing.assert_array_equal(
            outside["info"]["episode"][field], inside["info"]["episode"][field]
        )


def test_inside_a_reward_wrapper_it_records_the_raw_return(getkey):
    # RewardTableEnv earns 1, -2, 3, 0.5 over an episode of four steps
    inside = ClipReward(EpisodeStatistics(RewardTableEnv()), -0.5, 0.5)
    _, _, out = reset_and_run(inside, jnp.zeros(4, jnp.int32), getkey())
    np.testing.assert_allclose(out["info"]["episode"]["return"][-1], 2.5)
    np.testing.assert_allclose(np.sum(out["reward"]), 1.0)
    outside = EpisodeStatistics(ClipReward(RewardTableEnv(), -0.5, 0.5))
    _, _, out = reset_and_run(outside, jnp.zeros(4, jnp.int32), getkey())
    np.testing.assert_allclose(out["info"]["episode"]["return"][-1], 1.0)
