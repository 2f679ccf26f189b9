"""`ScheduledCurriculum`: a schedule really changes the dynamics the agent sees."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float

import lerax.env
from lerax.algorithm import A2C, DQN
from lerax.callback import AbstractCallback, CallbackList
from lerax.curriculum import ScheduledCurriculum, linear_schedule, step_schedule
from lerax.env import AbstractEnv, AbstractEnvState
from lerax.env.classic_control import Pendulum
from lerax.policy import MLPActorCriticPolicy, MLPQPolicy
from lerax.space import Box, Discrete

NUM_ENVS = 2
ITERATIONS = 4
ALGO = A2C(num_envs=NUM_ENVS, num_steps=8)
MASS = linear_schedule(0.5, 2.0, total=3)  # 0.5, 1.0, 1.5, 2.0
LENGTH = step_schedule([0.8, 0.6], boundaries=[2])  # 0.8, 0.8, 0.6, 0.6


def mass_of(env):
    return env.env.mass


def length_of(env):
    return env.env.length


def setup():
    env = lerax.env.make("Pendulum-v1")
    policy = MLPActorCriticPolicy(
        env, key=jr.key(0), feature_width=8, value_width=8, action_width=8
    )
    return env, policy


class Probe(AbstractCallback):
    """Records, per iteration, one step of each env as the collector ran it:
    the env constants it used and (observation, action, next speed)."""

    def step_reset(self, ctx, *, key):
        return dict(
            mass=jnp.zeros(()),
            length=jnp.zeros(()),
            observation=jnp.zeros(3),
            action=jnp.zeros(1),
            next_speed=jnp.zeros(()),
        )

    def on_step(self, ctx, *, key):
        return dict(
            mass=jnp.asarray(mass_of(ctx.env), jnp.float32),
            length=jnp.asarray(length_of(ctx.env), jnp.float32),
            observation=ctx.observation,
            action=ctx.action,
            next_speed=ctx.info["final_observation"][2],
        )

    def reset(self, ctx, *, key):
        record = self.step_reset(ctx, key=key)
        return jax.tree.map(
            lambda x: jnp.zeros((ITERATIONS, NUM_ENVS, *x.shape)), record
        )

    def on_iteration(self, ctx, *, key):
        i = ctx.iteration - 1
        return jax.tree.map(
            lambda r, s: r.at[i].set(s), ctx.callback_state, ctx.step_states
        )


def next_speed(pendulum, observation, action):
    theta = jnp.arctan2(observation[1], observation[0])
    y = jnp.stack([theta, observation[2]])
    return pendulum.explicit_update(y, action)[1]


def test_schedules_change_the_dynamics_during_training():
    env, policy = setup()
    callback = CallbackList(
        [
            ScheduledCurriculum(mass_of, MASS),
            ScheduledCurriculum(length_of, LENGTH),
            Probe(),
        ]
    )
    state = ALGO.init(env, policy, key=jr.key(1), callback=callback)
    # Before the first iteration the fields already follow the schedules.
    assert float(mass_of(state.env)) == 0.5
    assert float(length_of(state.env)) == pytest.approx(0.8)
    state, _ = ALGO.train(state, ITERATIONS, callback=callback)

    record = jax.tree.map(np.asarray, state.callback_state[2])
    masses = [float(MASS(i)) for i in range(ITERATIONS)]
    lengths = [float(LENGTH(i)) for i in range(ITERATIONS)]
    np.testing.assert_allclose(record["mass"], np.repeat([masses], NUM_ENVS, 0).T)
    np.testing.assert_allclose(record["length"], np.repeat([lengths], NUM_ENVS, 0).T)

    # The transitions the agent saw follow the scheduled constants, not the
    # defaults: recompute each recorded step with Pendulum's own update.
    for i in range(ITERATIONS):
        scheduled = Pendulum(mass=masses[i], length=lengths[i])
        for e in range(NUM_ENVS):
            obs, action = record["observation"][i, e], record["action"][i, e]
            seen = record["next_speed"][i, e]
            expected = float(next_speed(scheduled, obs, action))
            default = float(next_speed(Pendulum(), obs, action))
            assert seen == pytest.approx(expected, abs=1e-5)
            if i > 0 and abs(expected - default) > 1e-3:
                assert seen != pytest.approx(default, abs=1e-4)

    # The final training state holds the value for the next iteration; the
    # other constants are untouched and the fields are float32 arrays.
    pendulum = state.env.env
    assert float(pendulum.mass) == 2.0 and float(pendulum.length) == pytest.approx(0.6)
    assert pendulum.mass.dtype == jnp.float32 and pendulum.gravity == 10.0
    # And with the new constants the same state/action gives a different step.
    obs, action = jnp.array([0.0, 1.0, 0.5]), jnp.array([1.5])
    assert float(next_speed(pendulum, obs, action)) != pytest.approx(
        float(next_speed(env.env, obs, action))
    )


def test_prepare_state_writes_the_value_for_the_next_iteration():
    env, policy = setup()
    state = ALGO.init(env, policy, key=jr.key(1))
    assert isinstance(state.env.env.mass, float)  # a plain field before
    curriculum = ScheduledCurriculum(mass_of, MASS)
    prepared = ALGO.attach_callback(state, curriculum)
    assert eqx.is_array(prepared.env.env.mass) and float(prepared.env.env.mass) == 0.5
    assert prepared.env.env.length == 1.0  # the same Python float, left alone
    later = eqx.tree_at(lambda s: s.iteration, state, jnp.asarray(2, jnp.int32))
    assert float(ALGO.attach_callback(later, curriculum).env.env.mass) == 1.5
    # Idempotent: preparing again changes nothing.
    again = ALGO.attach_callback(prepared, curriculum)
    assert float(again.env.env.mass) == 0.5


@pytest.mark.parametrize(
    "where, schedule, error, match",
    [
        (lambda env: env.mass, MASS, ValueError, "TimeLimit"),
        (lambda env: env.env.action_space, MASS, TypeError, "numeric"),
        (mass_of, lambda i: jnp.ones(3), ValueError, "shape"),
    ],
)
def test_bad_fields(where, schedule, error, match):
    env, policy = setup()
    state = ALGO.init(env, policy, key=jr.key(1))
    with pytest.raises(error, match=match):
        ALGO.attach_callback(state, ScheduledCurriculum(where, schedule))


def test_static_field_is_refused():
    class Static(eqx.Module):
        mass: float = eqx.field(static=True, default=1.0)

    with pytest.raises(ValueError, match="static"):
        from lerax.curriculum._base import write_env_field

        write_env_field("ScheduledCurriculum", lambda env: env.mass, Static(), 2.0)


class GoalState(AbstractEnvState):
    goal: Float[Array, ""]


class Goal(AbstractEnv):
    """Reads its constant only when an episode starts: the observation is the
    `goal` drawn then."""

    name: ClassVar[str] = "Goal"
    goal: float = 100.0
    action_space: Discrete = Discrete(2)
    observation_space: Box = Box(-1e3, 1e3, (1,))

    def initial(self, *, key):
        return GoalState(jnp.asarray(self.goal, jnp.float32))

    def transition(self, state, action, *, key):
        return state

    def observation(self, state, *, key):
        return state.goal[None]

    def reward(self, state, action, next_state, *, key):
        return state.goal

    def terminal(self, state, *, key):
        return jnp.array(True)

    def truncate(self, state):
        return jnp.array(False)

    def action_mask(self, state, *, key):
        return None

    def state_info(self, state):
        return {}

    def transition_info(self, state, action, next_state):
        return {}


@pytest.mark.parametrize("off_policy", [False, True])
def test_first_episodes_start_in_the_scheduled_env(off_policy):
    # a constant read only at episode starts (a goal, an initial-state
    # range): the envs `init` resets already follow the schedule's first
    # value, not the constructor's
    env = Goal()
    curriculum = CallbackList([ScheduledCurriculum(lambda e: e.goal, MASS)])
    if off_policy:
        algo = DQN(num_envs=NUM_ENVS, buffer_size=64, batch_size=8, learning_starts=8)
        policy = MLPQPolicy(env, width_size=8, key=jr.key(0))
    else:
        algo, policy = ALGO, MLPActorCriticPolicy(env, key=jr.key(0))
    kw = {"total_timesteps": 1000} if off_policy else {}
    state = algo.init(env, policy, key=jr.key(1), callback=curriculum, **kw)
    np.testing.assert_array_equal(state.actors.observation, [[0.5]] * NUM_ENVS)
    state, metrics = algo.train(state, 2, callback=curriculum)
    # every episode is one step and pays its goal: iteration 0's are all
    # 0.5 (the first step paid the constructor's 100 before the fix);
    # iteration 1 opens with the episode each env began at iteration 0's end
    t = algo.num_steps
    np.testing.assert_allclose(
        metrics["episode_return"], [0.5, ((t - 1) * 1.0 + 0.5) / t], rtol=1e-6
    )
    # without a curriculum nothing is reset twice: the same first episodes
    plain = algo.init(env, policy, key=jr.key(1), **kw)
    np.testing.assert_array_equal(plain.actors.observation, [[100.0]] * NUM_ENVS)


def test_constructor_checks():
    with pytest.raises(TypeError, match="schedule_fn"):
        ScheduledCurriculum(mass_of, 3.0)
    with pytest.raises(TypeError, match="where"):
        ScheduledCurriculum("mass", MASS)
