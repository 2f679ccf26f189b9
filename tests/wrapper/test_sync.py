"""Pooled statistics and `sync_normalization` (evaluate as trained)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lerax.env
from lerax.wrapper import (
    NormalizeObservation,
    NormalizeReward,
    RunningMeanStd,
    TimeLimit,
    load_normalization,
    normalization_path,
    normalization_statistics,
    save_normalization,
    share_statistics,
    sync_normalization,
)

from .test_normalize import raw_observations_seen
from .test_running_statistics import reference as stats_reference
from .toy_envs import GaussianEnv, reset_and_run, run

NUM_ENVS = 3
STEPS = 40


def stream(samples: np.ndarray) -> RunningMeanStd:
    """Statistics of `samples` alone (no pseudo-count), one update each."""
    stats = RunningMeanStd.zeros(samples.shape[1:], epsilon=0.0)
    for sample in samples:
        stats = stats.update(sample[None])
    return stats


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
    scale=st.floats(0.1, 100.0),
)
def test_pooled_statistics_equal_one_stream_over_all_samples(sizes, seed, scale):
    rng = np.random.default_rng(seed)
    streams = [rng.normal(scale, scale, (n, 2)).astype(np.float32) for n in sizes]
    batched = jax.tree.map(lambda *x: jnp.stack(x), *[stream(s) for s in streams])
    pooled = batched.pooled()
    every = np.concatenate(streams).astype(np.float64)
    assert pooled.mean.shape == (2,) and pooled.count.shape == ()
    np.testing.assert_allclose(pooled.count, len(every))
    np.testing.assert_allclose(pooled.mean, every.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        pooled.var, every.var(0), rtol=1e-3, atol=1e-5 * scale**2
    )


def test_pooled_flattens_every_batch_axis_and_keeps_unbatched_statistics():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(2, 3, 5)).astype(np.float32)  # [seeds, envs, n]
    grid = jax.tree.map(
        lambda *x: jnp.stack(x).reshape(2, 3),
        *[stream(samples[i, j][:, None]) for i in range(2) for j in range(3)],
    )
    grid = RunningMeanStd(grid.mean[..., None], grid.var[..., None], grid.count)
    pooled = grid.pooled()
    np.testing.assert_allclose(pooled.mean, [samples.mean()], rtol=1e-5)
    np.testing.assert_allclose(pooled.var, [samples.var()], rtol=1e-4)
    single = RunningMeanStd.zeros((2,))
    assert single.pooled() is single


@pytest.fixture(scope="module")
def trained():
    """Three envs behind observation and reward normalisation, run apart
    (as a training state holds them)."""
    env = TimeLimit(NormalizeReward(NormalizeObservation(GaussianEnv())), 7)
    actions = jnp.zeros(STEPS, jnp.int32)
    keys = jr.split(jr.key(0), NUM_ENVS)
    _, states, _ = jax.vmap(lambda k: reset_and_run(env, actions, k))(keys)
    return env, states


def test_normalization_statistics_pool_each_wrapper(trained):
    env, states = trained
    (kind_r, reward), (kind_o, observation) = normalization_statistics(env, states)
    assert (kind_r, kind_o) == (NormalizeReward, NormalizeObservation)
    per_env_obs = states.env_state.env_state.statistics
    per_env_ret = states.env_state.statistics
    assert per_env_obs.count.shape == (NUM_ENVS,)
    for pooled, per_env in ((observation, per_env_obs), (reward, per_env_ret)):
        # the envs ran apart (never shared): pooling their own statistics
        # gives everything they saw, up to the prior's pseudo-count, which
        # each env holds and the pool counts once
        expected = per_env.pooled()
        for field in ("mean", "var"):
            np.testing.assert_allclose(
                getattr(pooled, field), getattr(expected, field), rtol=1e-4
            )
        np.testing.assert_allclose(
            pooled.count, expected.count - (NUM_ENVS - 1) * 1e-4, rtol=1e-7
        )
    # one update per observation seen: initial, every step, every auto-reset
    assert float(observation.count) == pytest.approx(
        1e-4 + NUM_ENVS * (1 + STEPS + STEPS // 7), rel=1e-7
    )


def test_synced_env_normalises_with_the_frozen_pooled_statistics(trained):
    env, states = trained
    eval_env = TimeLimit(NormalizeObservation(GaussianEnv(), clip=None), 7)
    synced = sync_normalization(eval_env, env, states)
    inner = synced.env
    assert isinstance(inner, NormalizeObservation) and inner.is_frozen
    assert inner.clip is None  # the evaluation env's own settings are kept
    ((_, pooled),) = [
        x for x in normalization_statistics(env, states) if x[0] is NormalizeObservation
    ]
    _, final, out = reset_and_run(synced, jnp.zeros(STEPS, jnp.int32), jr.key(5))
    for field in ("mean", "var", "count"):
        np.testing.assert_array_equal(
            getattr(final.env_state.statistics, field), getattr(pooled, field)
        )
    raw = np.asarray(out["state"].env_state.env_state.x)
    expected = (raw - np.asarray(pooled.mean)) / np.sqrt(np.asarray(pooled.var) + 1e-8)
    np.testing.assert_allclose(out["obs"], expected, rtol=1e-5, atol=1e-6)
    # the training statistics differ per env, so pooling mattered
    assert not np.allclose(
        states.env_state.env_state.statistics.mean[0], np.asarray(pooled.mean)
    )


def test_sync_also_freezes_reward_normalisation_when_asked(trained):
    env, states = trained
    eval_env = NormalizeReward(NormalizeObservation(GaussianEnv()))
    synced = sync_normalization(eval_env, env, states)
    assert synced.is_frozen and synced.env.is_frozen
    (_, returns), _ = normalization_statistics(env, states)
    np.testing.assert_array_equal(synced.initial_statistics.var, returns.var)


def test_sync_works_on_traced_states(trained):
    env, states = trained
    eval_env = NormalizeObservation(GaussianEnv())

    @eqx.filter_jit
    def first_observation(states):
        synced = sync_normalization(eval_env, env, states)
        _, observation, _ = synced.reset(key=jr.key(3))
        return observation

    eager = sync_normalization(eval_env, env, states)
    _, expected, _ = eager.reset(key=jr.key(3))
    np.testing.assert_allclose(first_observation(states), expected, rtol=1e-6)


def test_sync_mismatches_and_batched_freezing_are_errors(trained):
    env, states = trained
    with pytest.raises(
        ValueError, match="0 `NormalizeObservation`.*training env has 1"
    ):
        sync_normalization(GaussianEnv(), env, states)
    plain = TimeLimit(GaussianEnv(), 7)
    plain_states = jax.vmap(lambda k: plain.reset(key=k)[0])(jr.split(jr.key(1), 2))
    with pytest.raises(ValueError, match="1 `NormalizeReward`.*training env has 0"):
        sync_normalization(NormalizeReward(GaussianEnv()), plain, plain_states)
    # nothing to sync: the evaluation env comes back as it is
    assert sync_normalization(plain, plain, plain_states) is plain
    batched = states.env_state.env_state.statistics
    with pytest.raises(ValueError, match="normalization_statistics"):
        NormalizeObservation(GaussianEnv()).frozen(batched)
    with pytest.raises(ValueError, match="normalization_statistics"):
        NormalizeReward(GaussianEnv()).frozen(states.env_state.statistics)
    with pytest.raises(ValueError, match=r"mean shaped \(2,\)"):
        NormalizeObservation(GaussianEnv()).frozen(RunningMeanStd.zeros((3,)))


def test_evaluating_behind_unfrozen_statistics_warns(trained, recwarn):
    from lerax.algorithm import evaluate_policy
    from lerax.policy import MLPQPolicy

    env, states = trained
    eval_env = TimeLimit(NormalizeObservation(GaussianEnv()), 7)
    policy = MLPQPolicy(eval_env, width_size=4, key=jr.key(0))
    with pytest.warns(UserWarning, match="`NormalizeObservation` is not frozen"):
        evaluate_policy(eval_env, policy, key=jr.key(1), num_episodes=2)
    # again with an equal env: the compiled program is reused, and it warns
    # all the same (it warned only while compiling)
    again = TimeLimit(NormalizeObservation(GaussianEnv()), 7)
    with pytest.warns(UserWarning, match="`NormalizeObservation` is not frozen"):
        evaluate_policy(again, policy, key=jr.key(2), num_episodes=2)
    recwarn.clear()
    synced = sync_normalization(eval_env, env, states)
    evaluate_policy(synced, policy, key=jr.key(1), num_episodes=2)
    assert not [w for w in recwarn if "not frozen" in str(w.message)]


def test_saved_statistics_load_back_bitwise(trained, tmp_path):
    env, states = trained
    eval_env = NormalizeReward(NormalizeObservation(GaussianEnv()))
    synced = sync_normalization(eval_env, env, states)
    path = save_normalization(tmp_path / "run", synced)
    assert path == tmp_path / "run.eqx"
    loaded = load_normalization(tmp_path / "run", eval_env)
    assert loaded.is_frozen and loaded.env.is_frozen
    for a, b in zip(jax.tree.leaves(synced), jax.tree.leaves(loaded)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert normalization_path(tmp_path / "best") == tmp_path / "best.normalization.eqx"


def test_saving_and_loading_statistics_bad_input(trained, tmp_path):
    env, states = trained
    eval_env = NormalizeObservation(GaussianEnv())
    with pytest.raises(ValueError, match="not frozen"):
        save_normalization(tmp_path / "s", eval_env)
    with pytest.raises(ValueError, match="no statistics to save"):
        save_normalization(tmp_path / "s", GaussianEnv())
    path = save_normalization(tmp_path / "s", sync_normalization(eval_env, env, states))
    with pytest.raises(FileNotFoundError, match="No normalisation statistics"):
        load_normalization(tmp_path / "missing", eval_env)
    with pytest.raises(ValueError, match="no `NormalizeObservation`"):
        load_normalization(path, GaussianEnv())
    # another observation shape, or other wrappers: the file's sets of
    # statistics are named against the env's wrappers
    pendulum = NormalizeObservation(lerax.env.make("Pendulum-v1"))
    with pytest.raises(
        ValueError,
        match=r"Cannot load .* holds 1 set of them .*mean shaped \(2,\)\), but "
        r"Pendulum has 1 normalisation wrapper .*`NormalizeObservation` shaped "
        r"\(3,\)\)\. Wrap the env as it was when the statistics were saved",
    ):
        load_normalization(path, pendulum)
    with pytest.raises(ValueError, match=r"holds 1 set .* has 2 normalisation wrap"):
        load_normalization(path, NormalizeReward(eval_env))
    data = path.read_bytes()
    path.write_bytes(data[:-5])  # truncated
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_normalization(path, eval_env)


def test_loading_into_other_wrappers_says_what_the_file_holds(tmp_path):
    # the message spoke of "the saved list" and told to pass the same
    # constructor arguments
    base = lerax.env.make("CartPole-v1")
    saved = NormalizeReward(
        NormalizeObservation(base).frozen(RunningMeanStd.zeros((4,)))
    ).frozen(RunningMeanStd.zeros(()))
    path = save_normalization(tmp_path / "two", saved)
    message = (
        r"Cannot load the normalisation statistics of CartPole: .* holds 2 sets of "
        r"them \(outermost wrapper first: mean shaped \(\), \(4,\)\), but CartPole "
        r"has {}\. Wrap the env as it was when the statistics were saved: the same "
        r"`NormalizeObservation` / `NormalizeReward` wrappers in the same order"
    )
    only_observations = r"1 normalisation wrapper \(outermost first: " + (
        r"`NormalizeObservation` shaped \(4,\)\)"
    )
    with pytest.raises(ValueError, match=message.format(only_observations)):
        load_normalization(path, NormalizeObservation(base))
    swapped = (
        r"2 normalisation wrappers \(outermost first: `NormalizeObservation` shaped "
        r"\(4,\), `NormalizeReward` shaped \(\)\)"
    )
    with pytest.raises(ValueError, match=message.format(swapped)):
        load_normalization(path, NormalizeObservation(NormalizeReward(base)))
    # the chain it was saved from loads
    loaded = load_normalization(path, NormalizeReward(NormalizeObservation(base)))
    assert loaded.is_frozen and loaded.env.is_frozen


def test_share_statistics_gives_every_env_the_statistics_of_all():
    env = NormalizeObservation(GaussianEnv())
    actions = jnp.zeros(STEPS, jnp.int32)

    def reset_run(key):
        reset_key, run_key = jr.split(key)
        first, _, _ = env.reset(key=reset_key)
        final, out = run(env, first, actions, run_key)
        return first, final, out

    firsts, finals, outs = jax.vmap(reset_run)(jr.split(jr.key(2), NUM_ENVS))
    seen = np.concatenate(
        [
            raw_observations_seen(*jax.tree.map(lambda x, i=i: x[i], (firsts, outs)))
            for i in range(NUM_ENVS)
        ]
    )
    mean, var, count = stats_reference(seen)  # every env's, prior counted once

    shared = jax.jit(lambda s: share_statistics(env, s))(finals)
    for i in range(NUM_ENVS):
        stats = jax.tree.map(lambda x, i=i: x[i], shared.statistics)
        np.testing.assert_allclose(stats.count, count, rtol=1e-7)
        np.testing.assert_allclose(stats.mean, mean, rtol=1e-5)
        np.testing.assert_allclose(stats.var, var, rtol=1e-4)
    np.testing.assert_array_equal(shared.pending.count, 0.0)
    # the statistics of the batch are the same before and after sharing
    ((_, before),) = normalization_statistics(env, finals)
    ((_, after),) = normalization_statistics(env, shared)
    for field in ("mean", "var", "count"):
        np.testing.assert_allclose(
            getattr(after, field), getattr(before, field), rtol=1e-6
        )

    # the next step of env i normalises with everything shared plus its own x
    step = jax.vmap(lambda s, k: env.step(s, jnp.int32(0), key=k))
    stepped, observation, *_ = step(shared, jr.split(jr.key(3), NUM_ENVS))
    raw = np.asarray(stepped.env_state.x)
    for i in range(NUM_ENVS):
        m, v, _ = stats_reference(np.concatenate([seen, raw[i : i + 1]]))
        np.testing.assert_allclose(
            observation[i], (raw[i] - m) / np.sqrt(v + 1e-8), rtol=1e-4, atol=1e-5
        )

    # frozen wrappers and plain envs have nothing to share
    frozen = env.frozen(RunningMeanStd.zeros((2,)))
    states = jax.vmap(lambda k: frozen.reset(key=k)[0])(jr.split(jr.key(4), 2))
    assert share_statistics(frozen, states) is states
    with pytest.raises(ValueError, match="batched over one leading axis"):
        share_statistics(env, jax.tree.map(lambda x: x[None], finals))
