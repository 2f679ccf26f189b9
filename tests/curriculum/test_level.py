"""`LevelCurriculum`: advances on completed episodes only, num_envs > 1, vmap."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.algorithm import A2C
from lerax.callback import AbstractCallback, CallbackList, IterationContext
from lerax.curriculum import (
    AbstractAdaptiveCurriculum,
    AdaptiveCurriculumState,
    LevelCurriculum,
)
from lerax.policy import MLPActorCriticPolicy

from ..algorithm.envs import Counter

NUM_ENVS = 3
NUM_STEPS = 8
ITERATIONS = 16
ALGO = A2C(num_envs=NUM_ENVS, num_steps=NUM_STEPS)


def terminate_at(env):
    return env.terminate_at


def episode_return(rollout):
    return rollout.episode_return


class FieldProbe(AbstractCallback):
    """Records the `terminate_at` the env had during each iteration."""

    def reset(self, ctx, *, key):
        return jnp.zeros(ITERATIONS, jnp.int32)

    def on_iteration(self, ctx, *, key):
        # Curricula act in `apply_curriculum`, after `on_iteration`: the env
        # seen here is the one this iteration's rollout used.
        return ctx.callback_state.at[ctx.iteration - 1].set(ctx.state.env.terminate_at)


def test_advances_on_completed_episodes_with_several_envs_under_vmap():
    # Counter pays 1 per step and ends an episode at t == terminate_at, so a
    # finished episode's return is terminate_at. Level 0 (3) gives returns of
    # 3 > 2.5: advance after iteration 0. Level 1 (100) episodes, begun at
    # step 7, end at step 106 (iteration 13): running returns exceed 2.5 long
    # before, but in-progress episodes must not count, so the level stays 1
    # until then. Level 2 (1) is the last.
    env = Counter(terminate_at=3)
    curriculum = LevelCurriculum(
        terminate_at, levels=[3, 100, 1], metric_fn=episode_return, threshold=2.5
    )
    callback = CallbackList([curriculum, FieldProbe()])

    def run(key):
        policy = MLPActorCriticPolicy(
            env, key=key, feature_width=8, value_width=8, action_width=8
        )
        state = ALGO.init(env, policy, key=key, callback=callback)
        state, _ = ALGO.train(state, ITERATIONS, callback=callback)
        return state.callback_state, state.env.terminate_at

    (level_state, trace), final = jax.jit(jax.vmap(run))(jr.split(jr.key(0), 2))
    expected = [3] + [100] * 13 + [1, 1]
    for seed in range(2):
        assert np.asarray(trace[seed]).tolist() == expected
    assert np.asarray(final).tolist() == [1, 1]
    assert np.asarray(level_state.level).tolist() == [2, 2]
    # Level 2: iteration 14 ends 3 episodes of return 7 (begun under level 1)
    # and 21 of return 1, mean 1.75; iteration 15 ends 24 of return 1.
    keep = 0.95**24
    np.testing.assert_allclose(
        level_state.running_metric, [keep * 1.75 + (1 - keep)] * 2, rtol=1e-5
    )
    assert np.asarray(level_state.episodes).tolist() == [48, 48]
    assert level_state.running_metric.shape == (2,)  # one scalar per seed


class FakeRollout(eqx.Module):
    terminated: jax.Array
    truncated: jax.Array
    episode_return: jax.Array


def iterate(curriculum, state, done, returns):
    rollout = FakeRollout(jnp.asarray(done), jnp.zeros_like(jnp.asarray(done)), returns)
    ctx = IterationContext(
        state=None,
        metrics={},
        rollout=rollout,
        step_states=None,
        callback_state=state,
        algorithm=None,
        total_timesteps=jnp.asarray(0),
    )
    return curriculum.on_iteration(ctx, key=jr.key(0))


def test_running_metric_is_a_per_episode_average_over_all_envs():
    curriculum = LevelCurriculum(
        terminate_at, [1.0, 2.0], episode_return, threshold=0.0, smoothing=0.5
    )
    state = curriculum.reset(None, key=jr.key(0))
    assert np.isnan(state.running_metric) and state.running_metric.shape == ()
    # [T=3, N=2]: episodes end at (0, 0) with 4, (2, 0) with 6 and (1, 1) with
    # 2; the other entries are in-progress returns and must be ignored.
    done = jnp.array([[True, False], [False, True], [True, False]])
    returns = jnp.array([[4.0, 50.0], [50.0, 2.0], [6.0, 50.0]])
    state = iterate(curriculum, state, done, returns)
    assert float(state.running_metric) == pytest.approx(4.0)  # first: the mean
    assert int(state.episodes) == 3
    # No episode ends: unchanged.
    state = iterate(curriculum, state, jnp.zeros((3, 2), bool), returns)
    assert float(state.running_metric) == pytest.approx(4.0)
    # Two episodes of return 0: weight (1 - 0.5)^2 on the old value.
    done = jnp.array([[True, True], [False, False], [False, False]])
    state = iterate(curriculum, state, done, jnp.zeros((3, 2)))
    assert float(state.running_metric) == pytest.approx(0.25 * 4.0)
    assert int(state.episodes) == 5


def test_min_episodes_and_cap():
    curriculum = LevelCurriculum(
        terminate_at, [1, 2], episode_return, threshold=0.0, min_episodes=4
    )

    class S(eqx.Module):
        env: Counter

    def advance(s):
        ctx = IterationContext(S(Counter(terminate_at=1)), {}, None, None, s, None, 0)
        return curriculum.apply_curriculum(ctx, key=jr.key(0))

    state = AdaptiveCurriculumState(jnp.asarray(0), jnp.asarray(5.0), jnp.asarray(3))
    training, new = advance(state)
    assert int(new.level) == 0 and int(training.env.terminate_at) == 1
    training, new = advance(eqx.tree_at(lambda s: s.episodes, state, jnp.asarray(4)))
    assert int(new.level) == 1 and int(training.env.terminate_at) == 2
    assert np.isnan(new.running_metric) and int(new.episodes) == 0
    full = AdaptiveCurriculumState(jnp.asarray(1), jnp.asarray(5.0), jnp.asarray(9))
    assert int(advance(full)[1].level) == 1  # capped at the last level


def test_metric_shape_is_checked():
    curriculum = LevelCurriculum(
        terminate_at, [1.0], lambda r: r.episode_return.sum(), threshold=0.0
    )
    state = curriculum.reset(None, key=jr.key(0))
    with pytest.raises(ValueError, match="shaped like"):
        iterate(curriculum, state, jnp.zeros((3, 2), bool), jnp.zeros((3, 2)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(levels=[]), ValueError, "at least one level"),
        (dict(levels=1.0), ValueError, "at least one level"),
        (dict(levels="abc"), TypeError, "levels"),
        (dict(smoothing=0.0), ValueError, "smoothing"),
        (dict(smoothing=1.5), ValueError, "smoothing"),
        (dict(min_episodes=0), ValueError, "min_episodes"),
        (dict(threshold="high"), TypeError, "threshold"),
        (dict(metric_fn=None), TypeError, "metric_fn"),
        (dict(where=None), TypeError, "where"),
        # NumPy / JAX numbers are checked like Python ones
        (dict(smoothing=np.float32(1.5)), ValueError, "smoothing"),
        (dict(smoothing=jnp.asarray(2.0)), ValueError, "smoothing"),
        (dict(smoothing=np.float32(0.0)), ValueError, "smoothing"),
        (dict(smoothing=True), TypeError, "smoothing"),
        (dict(smoothing=jnp.ones(2) / 2), TypeError, "smoothing"),
        (dict(levels=[1.0, float("nan")]), ValueError, "finite"),
        (dict(levels=jnp.asarray([1.0, jnp.inf])), ValueError, "finite"),
        (dict(levels=[True, False]), TypeError, "numbers"),
        (dict(threshold=float("nan")), ValueError, "NaN"),
        (dict(threshold=jnp.asarray([1.0, 2.0])), TypeError, "threshold"),
        (dict(threshold=True), TypeError, "threshold"),
        (dict(min_episodes=np.int64(0)), ValueError, "min_episodes"),
    ],
)
def test_constructor_checks(kwargs, error, match):
    args = dict(
        where=terminate_at, levels=[1, 2], metric_fn=episode_return, threshold=1.0
    )
    with pytest.raises(error, match=match):
        LevelCurriculum(**{**args, **kwargs})


def test_numpy_and_jax_numbers_are_accepted():
    curriculum = LevelCurriculum(
        terminate_at,
        levels=np.array([1, 2]),
        metric_fn=episode_return,
        threshold=np.float32(1.0),
        smoothing=jnp.asarray(0.5),
        min_episodes=np.int64(3),
    )
    assert curriculum.min_episodes == 3 and type(curriculum.min_episodes) is int
    assert LevelCurriculum(
        terminate_at, [1, 2], episode_return, threshold=-float("inf")
    ).threshold == -float("inf")


def test_resume_from_checkpoint_continues_the_curriculum(tmp_path):
    from lerax.callback import save_checkpoint

    env = Counter(terminate_at=3)
    curriculum = LevelCurriculum(
        terminate_at, levels=[3, 100, 1], metric_fn=episode_return, threshold=2.5
    )
    policy = MLPActorCriticPolicy(
        env, key=jr.key(3), feature_width=8, value_width=8, action_width=8
    )
    total = ITERATIONS * ALGO.steps_per_iteration
    key = jr.key(4)
    full = ALGO.learn(env, policy, total, key=key, callback=curriculum)

    state = ALGO.init(env, policy, key=key, total_timesteps=total, callback=curriculum)
    # Half way, so the resumed `train` reuses this call's compilation.
    state, _ = ALGO.train(state, ITERATIONS // 2, callback=curriculum)
    assert int(state.callback_state.level) == 1 and int(state.env.terminate_at) == 100
    path = save_checkpoint(tmp_path / "curriculum", state, algorithm=ALGO)
    resumed = ALGO.learn(
        env, policy, total, key=key, callback=curriculum, resume_from=path
    )
    assert all(
        bool(jnp.all(a == b))
        for a, b in zip(
            jax.tree.leaves(eqx.filter(full, eqx.is_array)),
            jax.tree.leaves(eqx.filter(resumed, eqx.is_array)),
        )
    )


def _earlier(done, reward, locals):
    return reward


class _Subclass(AbstractAdaptiveCurriculum):
    """A user curriculum built on `AbstractAdaptiveCurriculum`."""

    metric_fn: object
    smoothing: float = 0.1

    def apply_curriculum(self, ctx, *, key):
        return ctx.state, ctx.callback_state


@pytest.mark.parametrize("metric_fn", [_earlier, lambda done, reward, locals: reward])
def test_earlier_metric_fn_is_refused_at_construction(metric_fn):
    for build in (
        lambda: LevelCurriculum(terminate_at, [1, 2], metric_fn, threshold=1.0),
        lambda: _Subclass(metric_fn),
    ):
        with pytest.raises(TypeError) as info:
            build()
        message = str(info.value)
        assert "metric_fn(rollout)" in message
        assert "metric_fn(done, reward, locals)" in message
        assert "(done, reward, locals)" in message
        assert (
            "rollout.episode_return" in message and "[num_steps, num_envs]" in message
        )


@pytest.mark.parametrize(
    "metric_fn", [lambda: 1.0, lambda rollout, scale: rollout.reward * scale]
)
def test_metric_fn_that_cannot_take_one_argument_is_refused(metric_fn):
    with pytest.raises(TypeError, match=r"called as `metric_fn\(rollout\)`") as info:
        LevelCurriculum(terminate_at, [1, 2], metric_fn, threshold=1.0)
    assert "earlier lerax" not in str(info.value)


@pytest.mark.parametrize(
    "metric_fn",
    [
        episode_return,
        lambda rollout, scale=2.0: rollout.reward * scale,
        lambda *args: args[0].reward,
        eqx.Partial(lambda scale, rollout: rollout.reward * scale, 2.0),
        jnp.zeros_like,
    ],
)
def test_metric_fn_taking_one_argument_is_accepted(metric_fn):
    curriculum = LevelCurriculum(terminate_at, [1, 2], metric_fn, threshold=1.0)
    assert curriculum.metric_fn is metric_fn
