"""Policies refuse arguments and states they cannot use, naming the fix, and
keep actions (and their log-probabilities) in the action space's dtype."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.algorithm import PPO
from lerax.policy import (
    BoxHead,
    MLPActorCriticPolicy,
    MLPDeterministicPolicy,
    MLPDiscreteSACPolicy,
    MLPQPolicy,
    MLPSACPolicy,
    RecurrentActorCriticPolicy,
    valid_action,
)
from lerax.space import Box, Discrete, MultiDiscrete

OBSERVATIONS = Box(-1.0, 1.0, (3,))
CONTINUOUS = (
    MLPActorCriticPolicy,
    RecurrentActorCriticPolicy,
    MLPSACPolicy,
    MLPDeterministicPolicy,
)
ACTIVATED = {
    MLPActorCriticPolicy: Box(-1.0, 1.0, (2,)),
    RecurrentActorCriticPolicy: Box(-1.0, 1.0, (2,)),
    MLPSACPolicy: Box(-1.0, 1.0, (2,)),
    MLPDeterministicPolicy: Box(-1.0, 1.0, (2,)),
    MLPQPolicy: Discrete(3),
    MLPDiscreteSACPolicy: Discrete(3),
}


# --- integer and low-precision Box action spaces ------------------------------


@pytest.mark.parametrize("cls", CONTINUOUS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "space",
    [Box(-5, 5, (2,), dtype=jnp.int32), Box(0, 1, (2,), dtype=jnp.uint8)],
    ids=["int32", "uint8"],
)
def test_continuous_policies_refuse_integer_boxes(cls, space, getkey):
    with pytest.raises(
        TypeError,
        match=rf"`{cls.__name__}` produces continuous actions and needs a "
        r"floating-point Box.*`Discrete` or `MultiDiscrete`.*float Box",
    ):
        cls((OBSERVATIONS, space), key=getkey())


def test_box_head_refuses_integer_boxes(getkey):
    with pytest.raises(TypeError, match="`BoxHead` produces continuous actions"):
        BoxHead(
            4,
            Box(-5, 5, (2,), dtype=jnp.int32),
            log_std_init=0.0,
            gain=1.0,
            key=getkey(),
        )


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16], ids=str)
def test_sac_actions_have_the_space_dtype(dtype, getkey):
    space = Box(-2.0, 2.0, (2,), dtype=dtype)
    policy = MLPSACPolicy((OBSERVATIONS, space), width_size=8, key=getkey())
    observation = OBSERVATIONS.sample(key=getkey())
    for key in (None, getkey()):
        action = policy(None, observation, key=key)[1]
        assert action.dtype == space.dtype
        assert space.contains(action)
    _, action, log_prob = policy.action_and_log_prob(None, observation, key=getkey())
    assert action.dtype == space.dtype
    assert space.contains(action)
    assert np.isfinite(log_prob)


@pytest.mark.parametrize("cls", [MLPActorCriticPolicy, RecurrentActorCriticPolicy])
@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16], ids=str)
def test_low_precision_box_log_prob_is_that_of_the_returned_action(cls, dtype, getkey):
    space = Box(-2.0, 2.0, (3,), dtype=dtype)
    # a wide distribution: float16/bfloat16 round most samples
    policy = cls((OBSERVATIONS, space), log_std_init=1.0, key=getkey())
    state = policy.reset(key=getkey())
    observation = OBSERVATIONS.sample(key=getkey())
    for _ in range(5):
        _, action, value, log_prob = policy.action_and_value(
            state, observation, key=getkey()
        )
        assert action.dtype == space.dtype
        _, evaluated_value, evaluated, _ = policy.evaluate_action(
            state, observation, action
        )
        np.testing.assert_allclose(log_prob, evaluated, rtol=1e-6)
        np.testing.assert_allclose(value, evaluated_value, rtol=1e-6)


def test_valid_action_clips_and_casts_boxes_only():
    box = Box(-1.0, 1.0, (2,), dtype=jnp.float16)
    clipped = valid_action(box, jnp.array([-3.0, 0.5], jnp.float32))
    assert clipped.dtype == jnp.float16
    np.testing.assert_array_equal(clipped, [-1.0, 0.5])
    action = jnp.array([2, 7], jnp.int32)
    assert valid_action(MultiDiscrete([3, 8]), action) is action


def test_ppo_steps_a_low_precision_box_env(getkey):
    from lerax.env import make
    from lerax.wrapper import TransformAction

    env = make("Pendulum-v1")
    half = Box(-2.0, 2.0, (1,), dtype=jnp.float16)
    env = TransformAction(env, lambda a: a.astype(jnp.float32), half)
    policy = MLPActorCriticPolicy(env, action_width=8, value_width=8, key=getkey())
    trained = PPO(num_envs=2, num_steps=8, num_batches=2).learn(
        env, policy, 32, key=getkey()
    )
    assert np.isfinite(np.asarray(trained.action_head.log_std)).all()


# --- activation and log_std_init ----------------------------------------------


@pytest.mark.parametrize("cls", list(ACTIVATED), ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", ["relu", None, [1]], ids=repr)
def test_activation_must_be_callable(cls, bad, getkey):
    with pytest.raises(
        TypeError, match=rf"`{cls.__name__}\(activation=\.\.\.\)` must be callable"
    ):
        cls((OBSERVATIONS, ACTIVATED[cls]), activation=bad, key=getkey())


def test_an_activation_given_by_name_names_the_function(getkey):
    with pytest.raises(TypeError, match=r"e\.g\. `jax\.nn\.relu`\), got 'relu'"):
        MLPQPolicy((OBSERVATIONS, Discrete(3)), activation="relu", key=getkey())


@pytest.mark.parametrize("cls", [MLPActorCriticPolicy, RecurrentActorCriticPolicy])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_log_std_init_must_be_finite(cls, bad, getkey):
    with pytest.raises(
        ValueError, match=rf"`{cls.__name__}\(log_std_init=\.\.\.\)` must be finite"
    ):
        cls((OBSERVATIONS, Box(-1.0, 1.0, (2,))), log_std_init=bad, key=getkey())


def test_box_head_log_std_init_must_be_finite(getkey):
    with pytest.raises(ValueError, match=r"`BoxHead\(log_std_init=\.\.\.\)`"):
        BoxHead(4, Box(-1.0, 1.0, (2,)), log_std_init=np.nan, gain=1.0, key=getkey())


# --- recurrent state ----------------------------------------------------------


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_recurrent_policy_without_its_state_names_reset(cell, getkey):
    policy = RecurrentActorCriticPolicy(
        (OBSERVATIONS, Discrete(3)), cell=cell, hidden_size=8, key=getkey()
    )
    observation = OBSERVATIONS.sample(key=getkey())
    with pytest.raises(
        TypeError,
        match=r"RecurrentPolicyState.*got NoneType.*policy\.reset\(key=\.\.\.\)",
    ):
        policy(None, observation)
    with pytest.raises(TypeError, match=r"policy\.reset\(key=\.\.\.\)"):
        policy.action_and_value(None, observation, key=getkey())


def test_recurrent_policy_given_another_cells_state_names_reset(getkey):
    spaces = (OBSERVATIONS, Discrete(3))
    gru = RecurrentActorCriticPolicy(spaces, cell="gru", hidden_size=8, key=getkey())
    lstm = RecurrentActorCriticPolicy(spaces, cell="lstm", hidden_size=8, key=getkey())
    observation = OBSERVATIONS.sample(key=getkey())
    with pytest.raises(
        ValueError,
        match=r"hidden state of shape \(8,\), got \(2, 8\).*policy\.reset\(key=\.\.\.\)",
    ):
        gru(lstm.reset(key=getkey()), observation)
    with pytest.raises(ValueError, match=r"shape \(2, 8\), got \(8,\)"):
        lstm.value(gru.reset(key=getkey()), observation)
    # a batch of states outside `vmap` is named too
    batch = jax.vmap(lambda k: gru.reset(key=k))(jax.random.split(getkey(), 4))
    with pytest.raises(ValueError, match="jax.vmap"):
        gru(batch, observation)
    # and the right state still works under vmap
    observations = jnp.stack([observation] * 4)
    _, actions = jax.vmap(lambda s, o: gru(s, o))(batch, observations)
    assert actions.shape == (4,)


@pytest.mark.parametrize(
    "space, match",
    [
        (Box(np.array([0.0, -1.0]), np.array([0.0, 1.0])), r"low == high.*remove"),
        (Box(-3e38, 3e38, (2,)), r"overflows float32.*RescaleAction"),
    ],
    ids=["fixed_dimension", "overflowing_width"],
)
def test_sac_policy_refuses_bounds_it_cannot_squash_onto_when_built(space, match):
    # it was built, then its first call failed inside the squashed Gaussian,
    # naming `SquashedMultivariateNormalDiag(high=..., low=...)`
    with pytest.raises(ValueError, match=r"`MLPSACPolicy` squashes.*" + match):
        MLPSACPolicy(
            (OBSERVATIONS, space), feature_size=4, width_size=4, key=jax.random.key(0)
        )
