"""`TransformReward`, `ClipReward`."""

import jax.numpy as jnp
import numpy as np
import pytest

from lerax.wrapper import ClipReward, TransformReward

from .toy_envs import REWARD_TABLE, RewardTableEnv, reset_and_run

ACTIONS = jnp.array([0, 1, 0, 1, 1, 0], jnp.int32)
# table[t] * (1 + action), episodes of four steps.
RAW = np.array([1.0, -4.0, 3.0, 1.0, 2.0, -2.0])


def test_raw_rewards(getkey):
    _, _, out = reset_and_run(RewardTableEnv(), ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], RAW)
    assert REWARD_TABLE == (1.0, -2.0, 3.0, 0.5)


def test_transform_reward(getkey):
    env = TransformReward(RewardTableEnv(), lambda r: 2 * r + 1)
    assert env.action_space == env.env.action_space
    assert env.observation_space == env.env.observation_space
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], 2 * RAW + 1)
    assert out["reward"].dtype == jnp.float32
    np.testing.assert_array_equal(out["terminated"], [0, 0, 0, 1, 0, 0])


def test_transform_reward_casts_to_float32(getkey):
    env = TransformReward(RewardTableEnv(), lambda r: (r > 0).astype(jnp.int32))
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], RAW > 0)
    assert out["reward"].dtype == jnp.float32


def test_clip_reward(getkey):
    _, _, out = reset_and_run(ClipReward(RewardTableEnv()), ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], np.clip(RAW, -1.0, 1.0))
    env = ClipReward(RewardTableEnv(), -2.5, 1.5)
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], [1.0, -2.5, 1.5, 1.0, 1.5, -2.0])


def test_clip_reward_min_above_max_raises():
    with pytest.raises(ValueError, match="min <= max"):
        ClipReward(RewardTableEnv(), 1.0, -1.0)
    ClipReward(RewardTableEnv(), 0.0, 0.0)  # A degenerate range is allowed.
