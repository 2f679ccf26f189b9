"""`NormalizeObservation` and `NormalizeReward`."""

import re
import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.space import Box, Discrete
from lerax.wrapper import (
    NormalizeObservation,
    NormalizeReward,
    RunningMeanStd,
    TimeLimit,
    TransformObservation,
)

from .test_running_statistics import reference as stats_reference
from .toy_envs import (
    GAUSSIAN_MEAN,
    GAUSSIAN_STD,
    DictObsEnv,
    GaussianEnv,
    MaskedDiscreteEnv,
    RewardTableEnv,
    reset_and_run,
    run,
)

STEPS = 2000


@pytest.fixture(scope="module")
def trained():
    """A `NormalizeObservation(GaussianEnv())` run for `STEPS` steps."""
    env = NormalizeObservation(GaussianEnv())
    state, obs, _ = env.reset(key=jr.key(0))
    final, out = run(env, state, jnp.zeros(STEPS, jnp.int32), jr.key(1))
    return env, state, obs, final, jax.device_get(out)


def raw_observations_seen(first_state, out):
    """The raw observations the statistics were updated with, in order."""
    seen = [np.asarray(first_state.env_state.x)]
    done = out["terminated"] | out["truncated"]
    for i in range(len(done)):
        seen.append(out["info"]["x"][i])
        if done[i]:
            seen.append(out["state"].env_state.x[i])
    return np.stack(seen)


# --- NormalizeObservation ----------------------------------------------------


def test_normalize_observation_spaces():
    env = NormalizeObservation(GaussianEnv())
    assert env.observation_space == Box(-10.0, 10.0, (2,))
    assert env.action_space == Discrete(2)
    assert NormalizeObservation(GaussianEnv(), clip=None).observation_space == Box(
        -np.inf, np.inf, (2,)
    )


def test_normalized_observations_are_standardised(trained):
    _, _, _, _, out = trained
    obs = out["obs"][STEPS // 2 :]
    np.testing.assert_allclose(obs.mean(0), [0.0, 0.0], atol=0.1)
    np.testing.assert_allclose(obs.std(0), [1.0, 1.0], atol=0.1)


def test_statistics_match_a_reference_and_survive_auto_resets(trained):
    _, first_state, first_obs, final, out = trained
    done = out["terminated"] | out["truncated"]
    assert done.sum() == STEPS // 10  # auto-resets happened
    seen = raw_observations_seen(first_state, out)
    mean, var, count = stats_reference(seen)
    stats = final.statistics
    # One update per initial observation, per step and per auto-reset.
    np.testing.assert_allclose(stats.count, 1e-4 + 1 + STEPS + done.sum())
    np.testing.assert_allclose(count, stats.count, rtol=1e-6)
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-4)
    np.testing.assert_allclose(stats.var, var, rtol=1e-3)
    np.testing.assert_allclose(stats.mean, GAUSSIAN_MEAN, atol=0.15)
    np.testing.assert_allclose(np.sqrt(stats.var), GAUSSIAN_STD, rtol=0.1)
    # The first observation is normalised with the statistics after one update.
    x0 = np.asarray(first_state.env_state.x)
    one = stats_reference(x0[None])
    np.testing.assert_allclose(
        first_obs, (x0 - one[0]) / np.sqrt(one[1] + 1e-8), rtol=1e-3, atol=1e-5
    )


def test_observations_use_the_current_statistics(trained):
    _, _, _, _, out = trained
    stats = out["state"].statistics
    raw = np.asarray(out["state"].env_state.x)
    expected = np.clip((raw - stats.mean) / np.sqrt(stats.var + 1e-8), -10, 10)
    np.testing.assert_allclose(out["obs"], expected, rtol=1e-5, atol=1e-6)


def test_frozen_statistics_do_not_update_and_clipping(trained, getkey):
    env, _, _, final, _ = trained
    statistics = final.statistics
    mean, var = np.asarray(statistics.mean), np.asarray(statistics.var)
    frozen = NormalizeObservation(env.env, clip=1.5).frozen(statistics)
    assert frozen.is_frozen and frozen.clip == 1.5
    assert frozen.observation_space == Box(-1.5, 1.5, (2,))
    state, _, _ = frozen.reset(key=getkey())
    np.testing.assert_array_equal(state.statistics.mean, statistics.mean)
    _, state, out = reset_and_run(frozen, jnp.zeros(STEPS, jnp.int32), getkey())
    for field in ("mean", "var", "count"):
        values = getattr(out["state"].statistics, field)
        np.testing.assert_array_equal(
            values, np.broadcast_to(getattr(statistics, field), values.shape)
        )
    raw = np.asarray(out["state"].env_state.x)
    expected = np.clip((raw - mean) / np.sqrt(var + 1e-8), -1.5, 1.5)
    np.testing.assert_allclose(out["obs"], expected, rtol=1e-5, atol=1e-6)
    # Clipping is active: about 13% of standard normal draws exceed 1.5.
    assert 0.05 < np.mean(np.abs(np.asarray(out["obs"])) == 1.5) < 0.25


def test_vmapped_envs_keep_separate_statistics(trained, getkey):
    env = trained[0]
    actions = jnp.zeros(STEPS, jnp.int32)
    keys = jr.split(getkey(), 2)
    _, batched, _ = jax.vmap(lambda k: reset_and_run(env, actions, k))(keys)
    for i in range(2):
        _, single, _ = reset_and_run(env, actions, keys[i])
        np.testing.assert_allclose(
            batched.statistics.mean[i], single.statistics.mean, rtol=1e-5
        )
        np.testing.assert_allclose(
            batched.statistics.var[i], single.statistics.var, rtol=1e-5
        )
    assert not np.allclose(batched.statistics.mean[0], batched.statistics.mean[1])


class NoisySensorEnv(GaussianEnv):
    """`GaussianEnv` seen through a noisy sensor: the observation draws from
    its key (the API allows it)."""

    def observation(self, state, *, key):
        return state.x + jr.normal(key, (2,))


def test_noisy_observations_are_drawn_once_and_recorded_as_seen():
    # the statistics and `unnormalized_observation` took one noise draw and
    # the agent saw another; with identity statistics they must agree
    env = NormalizeObservation(NoisySensorEnv(), clip=None, epsilon=0.0)
    env = env.frozen(RunningMeanStd.zeros((2,)))
    state, obs, _ = env.reset(key=jr.key(0))
    np.testing.assert_array_equal(obs, state.inner_observation)
    for key in jr.split(jr.key(1), 12):  # an episode end included
        state, obs, _, _, _, info = env.step(state, jnp.int32(0), key=key)
        np.testing.assert_array_equal(
            info["final_observation"], info["unnormalized_observation"]
        )
        np.testing.assert_array_equal(obs, state.inner_observation)
    # learning statistics take in exactly what was emitted, normalised back
    learning = NormalizeObservation(NoisySensorEnv(), clip=None)
    state, obs, _ = learning.reset(key=jr.key(2))
    state, obs, *_ = learning.step(state, jnp.int32(0), key=jr.key(3))
    np.testing.assert_allclose(
        obs, learning.normalize(state.inner_observation, state.statistics)
    )


def test_normalize_observation_bad_input():
    discrete = TransformObservation(
        MaskedDiscreteEnv(), lambda o: o[0].astype(jnp.int32) % 3, Discrete(3)
    )
    with pytest.raises(TypeError, match=r"`NormalizeObservation`.*Discrete\(3\)"):
        NormalizeObservation(discrete)
    with pytest.raises(TypeError, match=r"`NormalizeObservation`.*Dict\("):
        NormalizeObservation(DictObsEnv())
    with pytest.raises(ValueError, match="clip"):
        NormalizeObservation(GaussianEnv(), clip=0.0)
    # a negative epsilon made every observation NaN from the first reset
    for epsilon, match in ((-1.0, ">= 0"), (float("nan"), "finite")):
        with pytest.raises(ValueError, match=rf"epsilon=\.\.\.\)` must be {match}"):
            NormalizeObservation(GaussianEnv(), epsilon=epsilon)
        with pytest.raises(ValueError, match=rf"epsilon=\.\.\.\)` must be {match}"):
            NormalizeReward(GaussianEnv(), epsilon=epsilon)


# --- NormalizeReward ---------------------------------------------------------


def normalize_reward_reference(rewards, dones, gamma, clip, epsilon=1e-8):
    """The discounted-return running variance, written out in float64."""
    mean, var, count = 0.0, 1.0, 1e-4
    ret = 0.0
    scaled = []
    for reward, done in zip(rewards, dones):
        ret = gamma * ret + reward
        total = count + 1
        delta = ret - mean
        mean = mean + delta / total
        var = (var * count + delta**2 * count / total) / total
        count = total
        value = reward / np.sqrt(var + epsilon)
        if clip is not None:
            value = np.clip(value, -clip, clip)
        scaled.append(value)
        if done:
            ret = 0.0
    return np.array(scaled), (mean, var, count)


ACTIONS = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0], np.int32)


def raw_rewards(actions):
    table = np.array([1.0, -2.0, 3.0, 0.5])
    t = np.arange(len(actions)) % 4
    return table[t] * (1 + actions), t == 3


@pytest.mark.parametrize(
    "gamma, clip",
    [(0.99, 10.0), (0.5, 0.7), (0.9, None), (0.0, None), (1.0, None)],
)
def test_normalize_reward_matches_the_reference(getkey, gamma, clip):
    # Without clipping, gamma is passed as an array: one compilation serves
    # all three cases (and a traced discount works).
    env = NormalizeReward(
        RewardTableEnv(), gamma=gamma if clip else jnp.asarray(gamma), clip=clip
    )
    _, state, out = reset_and_run(env, jnp.asarray(ACTIONS), getkey())
    rewards, dones = raw_rewards(ACTIONS)
    np.testing.assert_array_equal(out["terminated"], dones)
    expected, (mean, var, count) = normalize_reward_reference(
        rewards, dones, gamma, clip
    )
    np.testing.assert_allclose(out["reward"], expected, rtol=1e-5)
    np.testing.assert_allclose(state.statistics.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(state.statistics.var, var, rtol=1e-5)
    np.testing.assert_allclose(state.statistics.count, count, rtol=1e-6)
    if clip is not None and clip < 1:
        assert np.isclose(np.abs(out["reward"]).max(), clip)


def test_normalize_reward_resets_the_return_on_truncation_too(getkey):
    # as VecNormalize (and unlike Gymnasium's NormalizeReward, which resets
    # on termination only), documented in the class docstring
    env = NormalizeReward(TimeLimit(RewardTableEnv(), 3), gamma=0.9, clip=None)
    _, state, out = reset_and_run(env, jnp.asarray(ACTIONS), getkey())
    assert out["truncated"].any() and not out["terminated"].any()
    t = np.arange(len(ACTIONS)) % 3
    rewards = np.array([1.0, -2.0, 3.0])[t] * (1 + ACTIONS)
    expected, _ = normalize_reward_reference(rewards, t == 2, 0.9, None)
    np.testing.assert_allclose(out["reward"], expected, rtol=1e-5)
    carried, _ = normalize_reward_reference(rewards, np.zeros_like(t), 0.9, None)
    assert not np.allclose(out["reward"], carried, rtol=1e-3)


def test_normalize_reward_frozen(getkey):
    statistics = RunningMeanStd(jnp.array(0.0), jnp.array(4.0), jnp.array(10.0))
    env = NormalizeReward(RewardTableEnv(), clip=None).frozen(statistics)
    _, state, out = reset_and_run(env, jnp.asarray(ACTIONS), getkey())
    rewards, _ = raw_rewards(ACTIONS)
    np.testing.assert_allclose(out["reward"], rewards / 2, rtol=1e-6)
    np.testing.assert_array_equal(state.statistics.var, 4.0)
    np.testing.assert_array_equal(state.statistics.count, 10.0)


def test_normalize_reward_vmapped_envs_keep_separate_statistics(getkey):
    env = NormalizeReward(RewardTableEnv(), gamma=0.9, clip=None)
    actions = np.stack([ACTIONS, 1 - ACTIONS])
    keys = jr.split(getkey(), 2)
    _, state, out = jax.vmap(lambda a, k: reset_and_run(env, a, k))(
        jnp.asarray(actions), keys
    )
    for i in range(2):
        rewards, dones = raw_rewards(actions[i])
        expected, (_, var, _) = normalize_reward_reference(rewards, dones, 0.9, None)
        np.testing.assert_allclose(out["reward"][i], expected, rtol=1e-5)
        np.testing.assert_allclose(state.statistics.var[i], var, rtol=1e-5)


def test_normalize_reward_keeps_observations(getkey):
    env = NormalizeReward(RewardTableEnv())
    assert env.observation_space == RewardTableEnv().observation_space
    _, _, out = reset_and_run(env, jnp.asarray(ACTIONS), getkey())
    np.testing.assert_array_equal(out["obs"], np.arange(1, 12) % 4)


def test_normalize_reward_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        NormalizeReward(RewardTableEnv(), gamma=1.5)
    with pytest.raises(ValueError, match="gamma"):
        NormalizeReward(RewardTableEnv(), gamma=-0.1)
    with pytest.raises(ValueError, match="clip"):
        NormalizeReward(RewardTableEnv(), clip=-1.0)


@pytest.mark.parametrize("clip", [float("nan"), 0.0, -1.0])
def test_normalize_clip_must_be_a_positive_number(clip):
    # `clip <= 0` is false for NaN, so NaN passed and every output was NaN
    for wrapper, env in (
        (NormalizeReward, RewardTableEnv()),
        (NormalizeObservation, GaussianEnv()),
    ):
        with pytest.raises(
            ValueError, match=rf"`{wrapper.__name__}\(clip=\.\.\.\)` must be > 0"
        ):
            wrapper(env, clip=clip)
        wrapper(env, clip=5.0)
        wrapper(env, clip=None)


def test_reward_normalisation_keeps_float32_state_under_x64():
    # Pendulum's reward is float64 with `jax_enable_x64`: the wrapper's state
    # kept it, so a step's state differed in dtype from a reset one and
    # auto-reset (and so any training) refused the env
    with jax.enable_x64(True):
        env = NormalizeReward(lerax.env.make("Pendulum-v1"))
        state, _, _ = env.reset(key=jr.key(0))
        next_state, _, reward, _, _, info = env.step(
            state, jnp.ones((1,)), key=jr.key(1)
        )
        assert reward.dtype == jnp.float32
        for before, after in zip(jax.tree.leaves(state), jax.tree.leaves(next_state)):
            assert before.dtype == after.dtype
        # the inner reward is recorded (as float32)
        raw = info["unnormalized_reward"]
        assert raw.dtype == jnp.float32 and float(raw) < 0


@pytest.mark.parametrize("var_shape", [(1,), (3,), (2, 2)])
def test_frozen_checks_the_shape_of_the_variance(var_shape):
    # mean and count were checked, var not: (2, 2) emitted (2, 2)-shaped
    # observations for a (2,) space, (3,) failed in a raw broadcast
    statistics = RunningMeanStd(jnp.zeros(2), jnp.ones(var_shape), jnp.array(10.0))
    message = (
        r"`NormalizeObservation\.frozen\(statistics\)` needs the variance shaped "
        rf"like the mean, \(2,\); got var shaped {re.escape(str(var_shape))}"
    )
    with pytest.raises(ValueError, match=message):
        NormalizeObservation(GaussianEnv()).frozen(statistics)
    scalar = RunningMeanStd(jnp.array(0.0), jnp.ones(var_shape), jnp.array(10.0))
    with pytest.raises(ValueError, match=r"NormalizeReward\.frozen.*var shaped"):
        NormalizeReward(RewardTableEnv()).frozen(scalar)
    NormalizeObservation(GaussianEnv()).frozen(RunningMeanStd.zeros((2,)))


def test_settings_that_would_fail_inside_jit_are_refused_at_construction():
    # These used to pass construction and fail while tracing the first step
    # (`None + tracer`, an unhashable static array, a shape clash), or not
    # at all (a string for the static `shared` switch counted as True).
    with pytest.raises(TypeError, match=r"NormalizeObservation\(epsilon=\.\.\.\)"):
        NormalizeObservation(GaussianEnv(), epsilon=None)
    with pytest.raises(TypeError, match=r"NormalizeReward\(epsilon=\.\.\.\)"):
        NormalizeReward(RewardTableEnv(), epsilon=None)
    with pytest.raises(TypeError, match=r"NormalizeReward\(gamma=\.\.\.\)"):
        NormalizeReward(RewardTableEnv(), gamma=None)
    with (
        warnings.catch_warnings(),  # Equinox's about a static array
        pytest.raises(ValueError, match=r"clip=\.\.\.\)` must be one number"),
    ):
        warnings.simplefilter("ignore", UserWarning)
        NormalizeObservation(GaussianEnv(), clip=np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"shared=\.\.\.\)` must be True or False"):
        NormalizeObservation(GaussianEnv(), shared="no")
    with pytest.raises(TypeError, match=r"is_frozen=\.\.\.\)` must be True or False"):
        NormalizeReward(RewardTableEnv(), is_frozen=1)
    with pytest.raises(ValueError, match=r"initial_statistics=\.\.\.\)`.*\(2,\)"):
        NormalizeObservation(
            GaussianEnv(), initial_statistics=RunningMeanStd.zeros((3,))
        )
    with pytest.raises(ValueError, match=r"initial_statistics=\.\.\.\)`.*\(\)"):
        NormalizeReward(RewardTableEnv(), initial_statistics=RunningMeanStd.zeros((3,)))
    with pytest.raises(
        TypeError, match=r"initial_statistics=\.\.\.\)`.*RunningMeanStd"
    ):
        NormalizeObservation(GaussianEnv(), initial_statistics={"mean": 0.0})
    # what is fine stays fine: ints, a discount array (swept by vmap)
    NormalizeObservation(GaussianEnv(), epsilon=0, clip=5)
    NormalizeReward(RewardTableEnv(), gamma=jnp.array(0.9), clip=None)
    NormalizeObservation(GaussianEnv(), initial_statistics=RunningMeanStd.zeros((2,)))
