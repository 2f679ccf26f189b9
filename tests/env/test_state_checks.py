"""A state that is not laid out as the stepped env's own states (another
env's, or an unwrapped env's given to a wrapper) is refused at trace time
with a message naming the mismatch, not an error from deep inside
`transition`."""

import jax
import jax.random as jr
import pytest

import lerax.env
from lerax.env.classic_control import CartPole, Pendulum


def test_state_of_another_env_is_refused_by_shape():
    state = Pendulum().reset(key=jr.key(0))[0]
    with pytest.raises(TypeError, match=r"`CartPole.step`.*state\.y.*\(2,\).*\(4,\)"):
        CartPole().step(state, 1, key=jr.key(0))


def test_unwrapped_state_given_to_a_wrapper_is_refused_by_type():
    env = lerax.env.make("CartPole-v1")
    state = CartPole().reset(key=jr.key(0))[0]
    with pytest.raises(
        TypeError, match=r"`TimeLimit.step` got a state of type ClassicControlState"
    ):
        env.step(state, 1, key=jr.key(0))


def test_batched_state_hints_at_vmap():
    env = CartPole()
    states = jax.vmap(lambda k: env.reset(key=k)[0])(jr.split(jr.key(0), 3))
    with pytest.raises(TypeError, match="jax.vmap"):
        env.step(states, 1, key=jr.key(0))
