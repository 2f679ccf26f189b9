"""Arguments refused before anything is compiled: hyper-parameter values,
envs from other libraries, keys and budgets."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.algorithm import (
    DDPG,
    DQN,
    PPO,
    SAC,
    TD3,
    SACDiscrete,
    evaluate_policy,
)
from lerax.env.classic_control import CartPole, Pendulum
from lerax.policy import MLPActorCriticPolicy, MLPDeterministicPolicy, MLPQPolicy

_OFF = dict(num_steps=4, buffer_size=64, learning_starts=8, batch_size=8)


@pytest.mark.parametrize(
    "build",
    [
        lambda: PPO(gamma=[2.0, 0.99]),
        lambda: PPO(learning_rate=[-1.0]),
        lambda: PPO(clip_coefficient=(0.1, 0.2)),
        lambda: DQN(gamma=[0.9, 0.99]),
        lambda: SAC(tau=(0.005,)),
    ],
)
def test_list_or_tuple_hyperparameter_is_refused(build):
    with pytest.raises(TypeError, match=r"must be one number, got the (list|tuple)"):
        build()


def test_list_hyperparameter_message_names_the_sweep():
    with pytest.raises(TypeError) as info:
        PPO(gamma=[0.9, 0.99])
    assert "`PPO(gamma=...)`" in str(info.value)
    assert "jax.vmap" in str(info.value)


@pytest.mark.parametrize(
    "cls, arguments",
    [
        (PPO, dict(learning_rate=False)),
        (PPO, dict(clip_coefficient=False)),
        (SAC, dict(initial_alpha=False)),
        (DQN, dict(max_grad_norm=False)),
        (DQN, dict(learning_rate=np.False_)),
        (PPO, dict(gamma=True)),
    ],
)
def test_boolean_hyperparameter_is_refused(cls, arguments):
    with pytest.raises(TypeError, match="got the boolean"):
        cls(**arguments)


def test_array_hyperparameters_still_pass():
    PPO(gamma=jnp.asarray([0.9, 0.99]))  # a sweep's values, mapped over later
    PPO(learning_rate=np.float32(1e-3))
    DQN(learning_rate=jnp.float32(1e-3))


@pytest.mark.parametrize(
    "cls, name, off",
    [
        (PPO, "max_grad_norm", True),
        (PPO, "target_kl", True),
        (DQN, "max_grad_norm", True),
        (PPO, "clip_coefficient", False),
        (PPO, "value_clip_coefficient", False),
    ],
)
def test_infinity_is_refused(cls, name, off):
    with pytest.raises(ValueError, match="must be finite") as info:
        cls(**{name: float("inf")})
    assert (f"pass `{name}=None`" in str(info.value)) == off


@pytest.mark.parametrize("cls", [TD3, DDPG, SAC, SACDiscrete])
def test_zero_tau_is_refused(cls):
    with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
        cls(tau=0.0)
    cls(tau=1.0)


def test_budget_reaching_learning_starts_exactly_is_allowed():
    dqn = DQN(num_envs=1, **_OFF)
    assert dqn.num_iterations(8) == 2  # the second iteration learns
    with pytest.raises(ValueError, match="ends before `learning_starts=8`"):
        dqn.num_iterations(4)


def test_budget_reaching_learning_starts_exactly_learns(getkey):
    env = CartPole()
    dqn = DQN(num_envs=1, **_OFF)
    state = dqn.init(
        env,
        MLPQPolicy(env, width_size=8, key=getkey()),
        key=getkey(),
        total_timesteps=8,
    )
    _, metrics = dqn.train(state, dqn.num_iterations(8))
    assert np.isfinite(np.asarray(metrics["loss"])[-1])


@pytest.mark.parametrize(
    "budget, message",
    [
        (jnp.array(-5, jnp.int32), "must be >= 0"),
        (jnp.array([100, 200], jnp.int32), "must be one budget"),
    ],
)
def test_concrete_budget_array_is_checked(getkey, budget, message):
    env = CartPole()
    policy = MLPQPolicy(env, width_size=8, key=getkey())
    with pytest.raises(ValueError, match=message):
        DQN(**_OFF).init(env, policy, key=getkey(), total_timesteps=budget)


def test_gymnasium_env_is_named_with_its_adapter(getkey):
    gym = pytest.importorskip("gymnasium")
    env = gym.make("CartPole-v1")
    policy = MLPActorCriticPolicy(
        CartPole(), value_width=8, action_width=8, key=getkey()
    )
    ppo = PPO(num_envs=2, num_steps=8, num_epochs=1, num_batches=2)
    expected = r"Gymnasium env .*lerax\.compatibility\.GymToLeraxEnv\(env\)"
    with pytest.raises(TypeError, match=expected):
        ppo.learn(env, policy, 16, key=getkey())
    with pytest.raises(TypeError, match=expected):
        evaluate_policy(env, policy, key=getkey(), num_episodes=2, max_steps=5)
    q = MLPQPolicy(CartPole(), width_size=8, key=getkey())
    with pytest.raises(TypeError, match=expected):
        DQN(**_OFF).init(env, q, key=getkey())
    env.close()


def test_non_env_is_refused(getkey):
    policy = MLPActorCriticPolicy(CartPole(), key=getkey())
    with pytest.raises(TypeError, match="`env` must be a lerax env"):
        PPO().init("CartPole-v1", policy, key=getkey())
    with pytest.raises(TypeError, match="`env` must be a lerax env"):
        evaluate_policy("CartPole-v1", policy, key=getkey())


def test_wrong_action_kind_names_the_algorithms_that_fit(getkey):
    cartpole, pendulum = CartPole(), Pendulum()
    deterministic = MLPDeterministicPolicy(pendulum, key=getkey())
    for cls in (TD3, DDPG):
        with pytest.raises(TypeError, match="Box .*use `DQN` or `SACDiscrete`"):
            cls(**_OFF).init(cartpole, deterministic, key=getkey())
    q = MLPQPolicy(cartpole, key=getkey())
    with pytest.raises(TypeError, match="Discrete actions.*`SAC`, `TD3` or `DDPG`"):
        DQN(**_OFF).init(pendulum, q, key=getkey())


def test_evaluate_policy_refuses_an_integer_seed(getkey):
    env = CartPole()
    policy = MLPActorCriticPolicy(env, key=getkey())
    with pytest.raises(TypeError, match="not an integer seed"):
        evaluate_policy(env, policy, key=0, num_episodes=2, max_steps=5)


@pytest.mark.parametrize("cls", [PPO, DQN])
def test_sizes_that_jax_transformations_made_arrays_are_named(cls, getkey):
    # `jax.jit` traces, and `jax.vmap` returns, every field of an algorithm:
    # its sizes too, which used to fail inside `num_iterations` with a
    # `TracerBoolConversionError` naming no field
    env = CartPole()
    if cls is PPO:
        policy = MLPActorCriticPolicy(env, value_width=8, action_width=8, key=getkey())
        sizes = dict(num_envs=2, num_steps=8, num_batches=2)
    else:
        policy = MLPQPolicy(env, width_size=8, key=getkey())
        sizes = dict(num_envs=2, **_OFF)
    name = cls.__name__
    traced = rf"`{name}\.(learn|init)`: `{name}\(num_envs=...\)` is a traced value"
    with pytest.raises(TypeError, match=traced + ".*eqx.filter_jit"):
        jax.jit(lambda a, k: a.learn(env, policy, 32, key=k))(cls(**sizes), getkey())
    with pytest.raises(TypeError, match=traced):
        jax.jit(lambda a, k: a.init(env, policy, key=k, total_timesteps=32))(
            cls(**sizes), getkey()
        )
    stacked = jax.vmap(lambda g: cls(**sizes, gamma=g))(jnp.array([0.9, 0.99]))
    with pytest.raises(TypeError, match=traced + ".*eqx.filter_vmap"):
        eqx.filter_vmap(lambda a: a.learn(env, policy, 32, key=jr.key(0)))(stacked)
    with pytest.raises(TypeError, match=r"is an array of shape \(2,\), but it"):
        stacked.num_iterations(32)
    state = cls(**sizes).init(env, policy, key=getkey(), total_timesteps=32)
    with pytest.raises(TypeError, match=rf"`{name}\.train`: .* array of shape"):
        stacked.train(state, 1)


def test_traced_size_is_refused_saying_it_cannot_be_swept():
    # it used to advise `int(...)`, which fails on a traced value
    with pytest.raises(ValueError, match=r"`PPO\(num_steps=...\)`.*cannot be traced"):
        jax.vmap(lambda n: PPO(num_steps=n))(jnp.array([8, 16]))
    with pytest.raises(ValueError, match="cannot be traced.*Python loop"):
        jax.vmap(lambda n: DQN(target_update_interval=n))(jnp.array([8, 16]))
