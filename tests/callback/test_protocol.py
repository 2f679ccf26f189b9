"""The callback protocol inside the compiled training loop."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.algorithm import DQN, PPO
from lerax.callback import (
    AbstractCallback,
    CallbackList,
    EmptyCallback,
    IterationContext,
    as_callback,
)
from lerax.policy import MLPActorCriticPolicy, MLPQPolicy

ALGO = PPO(num_envs=2, num_steps=16, num_batches=2, num_epochs=1)


def setup(key):
    env = lerax.env.make("CartPole-v1")
    return env, MLPActorCriticPolicy(env, key=key)


def arrays_equal(a, b):
    a, b = eqx.filter(a, eqx.is_array), eqx.filter(b, eqx.is_array)
    return all(jax.tree.leaves(jax.tree.map(lambda x, y: bool(jnp.all(x == y)), a, b)))


class StepCounter(AbstractCallback):
    """Counts env steps per env (step state) and iterations (state)."""

    def reset(self, ctx, *, key):
        return jnp.zeros((), jnp.int32)

    def step_reset(self, ctx, *, key):
        return jnp.zeros((), jnp.int32)

    def on_step(self, ctx, *, key):
        return ctx.callback_state + 1

    def on_iteration(self, ctx, *, key):
        return ctx.callback_state + 1


class StopAfter(AbstractCallback):
    iterations: int

    def continue_training(self, ctx: IterationContext, *, key):
        return ctx.iteration < self.iterations


def test_states_are_carried_and_hooks_run(getkey):
    env, policy = setup(getkey())
    state = ALGO.init(env, policy, key=getkey(), callback=StepCounter())
    state, _ = ALGO.train(state, 3, callback=StepCounter())
    assert int(state.callback_state) == 3
    np.testing.assert_array_equal(state.actors.callback_state, [48, 48])


def test_callback_list_threads_each_child(getkey):
    env, policy = setup(getkey())
    callback = CallbackList([StepCounter(), EmptyCallback(), StepCounter()])
    state, _ = ALGO.train(ALGO.init(env, policy, key=getkey()), 2, callback=callback)
    assert int(state.callback_state[0]) == 2 and state.callback_state[1] is None
    np.testing.assert_array_equal(state.actors.callback_state[2], [32, 32])


def test_callbacks_do_not_change_what_is_learned(getkey):
    env, policy = setup(getkey())
    key = getkey()
    plain = ALGO.learn(env, policy, 96, key=key)
    with_callbacks = ALGO.learn(
        env, policy, 96, key=key, callback=[StepCounter(), StopAfter(100)]
    )
    assert arrays_equal(plain, with_callbacks)


def test_continue_training_really_stops(getkey):
    env, policy = setup(getkey())
    key = getkey()
    state, metrics = ALGO.train(
        ALGO.init(env, policy, key=key), 6, callback=[StepCounter(), StopAfter(2)]
    )
    assert int(state.iteration) == 2 and bool(state.stopped)
    # no env stepped, no update made, no hook ran after the stop
    np.testing.assert_array_equal(state.actors.callback_state[0], [32, 32])
    assert int(state.callback_state[0]) == 2
    assert np.all(np.isfinite(metrics["loss"][:2])) and np.all(
        np.isnan(metrics["loss"][2:])
    )
    reference, _ = ALGO.train(ALGO.init(env, policy, key=key), 2)
    assert arrays_equal(state.policy, reference.policy)


def test_continue_training_off_policy(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, key=getkey())
    algo = DQN(num_envs=1, num_steps=4, learning_starts=8, batch_size=8)
    state, _ = algo.train(
        algo.init(env, policy, key=getkey(), total_timesteps=20),
        5,
        callback=StopAfter(3),
    )
    assert int(state.iteration) == 3


def test_vmap_over_seeds_with_callbacks_and_no_retrace(getkey):
    env, policy = setup(getkey())
    traces = []

    def run(key):
        traces.append(None)
        trained = ALGO.learn(env, policy, 64, key=key, callback=StepCounter())
        return eqx.filter(trained, eqx.is_array)

    batched = jax.jit(jax.vmap(run))
    first = batched(jr.split(getkey(), 3))
    batched(jr.split(getkey(), 3))
    assert len(traces) == 1
    assert first.actor.layers[0].weight.shape[0] == 3


def test_mismatched_callback_state_is_an_error(getkey):
    env, policy = setup(getkey())
    state = ALGO.init(env, policy, key=getkey(), callback=StepCounter())
    with pytest.raises(ValueError, match="different callback"):
        ALGO.train(state, 1, callback=CallbackList([StepCounter(), StepCounter()]))


def test_as_callback_rejects_other_things():
    assert isinstance(as_callback(None), EmptyCallback)
    assert isinstance(as_callback([EmptyCallback()]), CallbackList)
    with pytest.raises(TypeError, match="AbstractCallback"):
        as_callback(lambda ctx: None)
    with pytest.raises(TypeError, match="CallbackList"):
        CallbackList([object()])


def test_a_callback_class_or_a_backend_passed_as_a_callback_names_the_fix():
    from lerax.callback import ConsoleBackend, ProgressBarCallback

    with pytest.raises(TypeError, match=r"pass an instance, `ProgressBarCallback\("):
        as_callback(ProgressBarCallback)
    with pytest.raises(TypeError, match=r"`LoggingCallback\(ConsoleBackend\(...\)\)`"):
        as_callback(ConsoleBackend())
    with pytest.raises(TypeError, match="the class EmptyCallback; pass an instance"):
        CallbackList([EmptyCallback(), EmptyCallback])
