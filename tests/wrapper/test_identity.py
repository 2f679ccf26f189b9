"""`Identity`: forwards everything unchanged."""

import jax.numpy as jnp
import numpy as np

from lerax.wrapper import Identity

from .toy_envs import GaussianEnv, MaskedDiscreteEnv, reset_and_run


def test_identity_matches_the_inner_env(getkey):
    base = GaussianEnv()
    env = Identity(base)
    assert env.name == base.name
    assert env.unwrapped is base
    assert env.action_space == base.action_space
    assert env.observation_space == base.observation_space
    key = getkey()
    actions = jnp.zeros(25, jnp.int32)
    obs, state, out = reset_and_run(env, actions, key)
    base_obs, base_state, base_out = reset_and_run(base, actions, key)
    np.testing.assert_array_equal(obs, base_obs)
    np.testing.assert_array_equal(state.x, base_state.x)
    for name in ("obs", "reward", "terminated", "truncated"):
        np.testing.assert_array_equal(out[name], base_out[name])
    np.testing.assert_array_equal(
        out["info"]["final_observation"], base_out["info"]["final_observation"]
    )
    assert out["terminated"].sum() == 2


def test_identity_forwards_masks_and_infos(getkey):
    env = Identity(Identity(MaskedDiscreteEnv()))
    state, _, info = env.reset(key=getkey())
    assert int(info["t"]) == 0
    assert state.unwrapped is state
    state, _, _, _, _, info = env.step(state, 0, key=getkey())
    np.testing.assert_array_equal(env.action_mask(state, key=getkey()), [1, 1, 0, 0])
    assert int(info["action"]) == 0
