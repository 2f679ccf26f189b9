"""`TransformReward`, `ClipReward`."""

import jax
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


def test_clip_reward_checks_numpy_and_jax_bounds_too():
    # only plain Python numbers were compared: NumPy min > max was accepted
    for low, high in (
        (np.float32(2.0), np.float32(1.0)),
        (np.float64(2.0), 1),
        (jnp.asarray(2.0), jnp.asarray(1.0)),
    ):
        with pytest.raises(ValueError, match=r"ClipReward.*min <= max.*Swap"):
            ClipReward(RewardTableEnv(), low, high)
    ClipReward(RewardTableEnv(), np.float32(-1.0), jnp.asarray(1.0))


def test_clip_reward_refuses_bounds_that_cannot_clip_a_reward():
    with pytest.raises(ValueError, match=r"ClipReward\(min=None, max=None\).*bound"):
        ClipReward(RewardTableEnv(), None, None)
    # an array bound made every reward an array, refused only at step
    with pytest.raises(ValueError, match=r"ClipReward\(min=.*scalar.*\(1,\)"):
        ClipReward(RewardTableEnv(), np.array([2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"ClipReward\(max=.*scalar.*\(2,\)"):
        ClipReward(RewardTableEnv(), -1.0, jnp.ones(2))
    # NaN made every reward NaN
    with pytest.raises(ValueError, match=r"ClipReward\(min=.*NaN.*None"):
        ClipReward(RewardTableEnv(), float("nan"), 1.0)
    with pytest.raises(ValueError, match=r"ClipReward\(max=.*NaN"):
        ClipReward(RewardTableEnv(), -1.0, np.float32("nan"))
    with pytest.raises(TypeError, match=r"ClipReward\(max=.*string"):
        ClipReward(RewardTableEnv(), -1.0, "1.0")


def test_clip_reward_with_one_bound(getkey):
    env = ClipReward(RewardTableEnv(), None, 1.5)
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], np.minimum(RAW, 1.5))
    env = ClipReward(RewardTableEnv(), -np.inf, 1.5)
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], np.minimum(RAW, 1.5))
    env = ClipReward(RewardTableEnv(), np.float32(-1.0), None)
    _, _, out = reset_and_run(env, ACTIONS, getkey())
    np.testing.assert_array_equal(out["reward"], np.maximum(RAW, -1.0))


def test_clip_reward_bounds_may_be_traced(getkey):
    # a vmap over bounds still builds (the check sees tracers, not values)
    def clipped(high):
        env = ClipReward(RewardTableEnv(), -1.0, high)
        return reset_and_run(env, ACTIONS, getkey())[2]["reward"]

    out = jax.vmap(clipped)(jnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, [np.clip(RAW, -1, 1), np.clip(RAW, -1, 2)])
