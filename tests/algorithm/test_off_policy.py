"""Replay machinery, target updates, DQN and SAC."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import lerax.env
from lerax.algorithm import DDPG, DQN, SAC, TD3, SACDiscrete, evaluate_policy
from lerax.algorithm._critics import twin_values
from lerax.buffer import ReplayBuffer
from lerax.callback import EvalCallback
from lerax.policy import (
    MLPActorCriticPolicy,
    MLPDeterministicPolicy,
    MLPDiscreteSACPolicy,
    MLPQPolicy,
    MLPSACPolicy,
)
from lerax.space import Box, Discrete
from lerax.target import HardUpdate, SoftUpdate, polyak_average
from lerax.wrapper import RescaleAction, TimeLimit, TransformReward

from .envs import Counter


def test_replay_buffer_ring_and_sampling(getkey):
    buffer = ReplayBuffer.create(5, Box(-1.0, 1.0, (2,)), Discrete(3))
    for start in (0, 3, 6):
        n = 3
        values = jnp.arange(start, start + n, dtype=jnp.float32)
        buffer = buffer.add(
            jnp.stack([values, values], -1),
            jnp.arange(n, dtype=jnp.int32),
            values,
            jnp.stack([values + 0.5, values + 0.5], -1),
            values > 100,
        )
    assert int(buffer.size) == 5 and int(buffer.position) == 9 % 5
    # rows hold the 5 most recent transitions 4..8
    assert sorted(np.asarray(buffer.rewards).tolist()) == [4.0, 5.0, 6.0, 7.0, 8.0]
    batch = buffer.sample(1000, key=getkey())
    assert set(np.asarray(batch["rewards"]).tolist()) == {4.0, 5.0, 6.0, 7.0, 8.0}
    np.testing.assert_allclose(batch["next_observations"][:, 0], batch["rewards"] + 0.5)
    # partially filled: only filled rows are drawn
    fresh = ReplayBuffer.create(100, Box(-1.0, 1.0, (2,)), Discrete(3))
    fresh = fresh.add(
        jnp.ones((2, 2)),
        jnp.zeros(2, jnp.int32),
        jnp.array([1.0, 2.0]),
        jnp.ones((2, 2)),
        jnp.zeros(2, bool),
    )
    assert set(np.asarray(fresh.sample(500, key=getkey())["rewards"]).tolist()) == {
        1.0,
        2.0,
    }


def test_target_updates():
    online = {"w": jnp.ones(3), "n": 3}
    target = {"w": jnp.zeros(3), "n": 3}
    np.testing.assert_allclose(polyak_average(online, target, 0.25)["w"], 0.25)
    np.testing.assert_allclose(SoftUpdate(tau=0.5)(online, target)["w"], 0.5)
    np.testing.assert_allclose(HardUpdate()(online, target)["w"], 1.0)
    with pytest.raises(ValueError, match="tau"):
        SoftUpdate(tau=2.0)


def test_buffer_stores_true_next_observation_and_termination(getkey):
    env = TimeLimit(Counter(), 3)
    policy = MLPSACPolicy(env, feature_size=8, width_size=8, key=getkey())
    algo = SAC(buffer_size=64, batch_size=4, learning_starts=4, q_width_size=8)
    state = algo.init(env, policy, key=getkey(), total_timesteps=7)
    state, _ = algo.train(state, 7)
    obs = np.asarray(state.buffer.observations[:7, 0])
    nxt = np.asarray(state.buffer.next_observations[:7, 0])
    np.testing.assert_allclose(obs, [0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_allclose(nxt, [1, 2, 3, 1, 2, 3, 1])  # 3: pre-reset, not 0
    assert not np.asarray(state.buffer.terminated[:7]).any()  # truncation only


def test_dqn_epsilon_schedule():
    algo = DQN(
        exploration_fraction=0.5, exploration_initial_eps=1.0, exploration_final_eps=0.1
    )
    np.testing.assert_allclose(algo.epsilon(jnp.array(0), jnp.array(1000)), 1.0)
    np.testing.assert_allclose(
        algo.epsilon(jnp.array(250), jnp.array(1000)), 0.55, rtol=1e-6
    )
    np.testing.assert_allclose(
        algo.epsilon(jnp.array(900), jnp.array(1000)), 0.1, rtol=1e-6
    )
    # the rate of each iteration is logged (SB3's `exploration_rate`): 4 envs x
    # 8 steps an iteration, a 320-step budget, decaying over its first half
    small = DQN(
        num_envs=4,
        num_steps=8,
        buffer_size=64,
        batch_size=8,
        learning_starts=32,
        exploration_fraction=0.5,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.1,
    )
    cartpole = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(cartpole, width_size=8, key=jr.key(0))
    state = small.init(cartpole, policy, key=jr.key(1), total_timesteps=320)
    _, metrics = small.train(state, 10)
    steps = 32 * np.arange(10)
    expected = 1.0 + np.minimum(steps / 160, 1.0) * (0.1 - 1.0)
    np.testing.assert_allclose(metrics["exploration_rate"], expected, rtol=1e-6)


def layout_batch(buffer, size):
    """A batch of zeros laid out as `buffer.sample(size, ...)` returns it (an
    empty buffer refuses to be sampled eagerly)."""
    shapes = jax.eval_shape(lambda b: b.sample(size, key=jr.key(0)), buffer)
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), dict(shapes))


@pytest.mark.parametrize(
    "algo_cls, policy_cls, env_id",
    [
        pytest.param(DQN, MLPQPolicy, "CartPole-v1", marks=pytest.mark.slow(4)),
        pytest.param(SAC, MLPSACPolicy, "Pendulum-v1", marks=pytest.mark.slow(9)),
    ],
)
def test_seeds_and_learning_rates_vmap_with_jax_transformations(
    algo_cls, policy_cls, env_id
):
    # `jax.jit(jax.vmap(...))` over seeds and learning rates at once (one
    # compiled program: the runs are two seeds at the default rate, then one
    # seed at a tiny and a large rate) returns the policies (no non-array
    # leaves); a seed's run equals its own unbatched run; the rate sweeps
    env = lerax.env.make(env_id)
    policy = policy_cls(env, width_size=16, key=jr.key(0))

    def algo(**kwargs):
        return algo_cls(
            num_envs=2, num_steps=4, learning_starts=8, batch_size=4, **kwargs
        )

    rate = {DQN: "learning_rate", TD3: "actor_lr"}.get(algo_cls, "policy_lr")
    default = getattr(algo(), rate)
    keys = jr.split(jr.key(1), 2)
    runs = jax.jit(
        jax.vmap(lambda k, lr: algo(**{rate: lr}).learn(env, policy, 24, key=k))
    )(
        jnp.stack([keys[0], keys[1], keys[0], keys[0]]),
        jnp.array([default, default, 1e-6, 1e-2]),
    )
    assert type(runs) is type(policy)
    one = algo().learn(env, policy, 24, key=keys[1])
    # (a float field such as `epsilon` comes back from `jax.vmap` as an array)
    pairs = [
        (batched, single)
        for batched, single in zip(jax.tree.leaves(runs), jax.tree.leaves(one))
        if eqx.is_inexact_array(single)
    ]
    for batched, single in pairs:
        np.testing.assert_allclose(batched[1], single, rtol=1e-4, atol=1e-6)
    assert not np.allclose(pairs[0][0][0], pairs[0][0][1])  # seeds differ

    moved = sum(
        jnp.abs(after[2:] - before[None]).mean(axis=tuple(range(1, after.ndim)))
        for after, before in zip(jax.tree.leaves(runs), jax.tree.leaves(policy))
        if eqx.is_inexact_array(before)
    )
    assert moved[1] > 10 * moved[0] > 0, moved


def test_dqn_exploration_settings_sweep_under_vmap():
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, width_size=16, key=jr.key(0))

    def learn(fraction, initial_eps):
        algo = DQN(
            num_envs=2,
            num_steps=4,
            learning_starts=8,
            batch_size=4,
            exploration_fraction=fraction,
            exploration_initial_eps=initial_eps,
        )
        return algo.learn(env, policy, 48, key=jr.key(3))

    swept = jax.jit(jax.vmap(learn))(jnp.array([0.1, 0.9]), jnp.array([1.0, 0.3]))
    learn_one = jax.jit(learn)  # one program for both settings
    for i, settings in enumerate([(0.1, 1.0), (0.9, 0.3)]):
        one = learn_one(*map(jnp.float32, settings))
        for batched, single in zip(jax.tree.leaves(swept), jax.tree.leaves(one)):
            if eqx.is_inexact_array(single):
                np.testing.assert_allclose(batched[i], single, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("wrap", [float, np.float32, jnp.float32, jnp.array])
def test_out_of_range_hyper_parameters_are_refused_in_any_numeric_type(wrap):
    # NumPy and JAX scalars (and concrete arrays) are checked as Python floats
    # are; only traced values (vmapped sweeps) are left to the run
    from lerax.algorithm import A2C, PPO

    env = lerax.env.make("Pendulum-v1")
    cases = [
        (PPO, "gamma", 1.5, r"must be in \[0, 1\]"),
        (PPO, "learning_rate", -1e-3, "must be > 0"),
        (PPO, "clip_coefficient", -0.2, "must be > 0"),
        (A2C, "max_grad_norm", -1.0, "must be > 0"),
        (DQN, "exploration_final_eps", 3.0, r"must be in \[0, 1\]"),
        (SAC, "tau", 5.0, r"must be in \[0, 1\]"),
        (SAC, "initial_alpha", -1.0, "must be > 0"),
        (TD3, "policy_noise", -0.1, "must be >= 0"),
        (SACDiscrete, "target_entropy_scale", -1.0, "must be >= 0"),
    ]
    for cls, name, value, message in cases:
        with pytest.raises(
            ValueError, match=rf"`{cls.__name__}\({name}=...\)` {message}"
        ):
            cls(**{name: wrap(value)})
    with pytest.raises(ValueError, match="epsilon"):
        MLPQPolicy(lerax.env.make("CartPole-v1"), epsilon=wrap(1.5), key=jr.key(0))
    with pytest.raises(ValueError, match="exploration_noise"):
        MLPDeterministicPolicy(env, exploration_noise=wrap(-0.5), key=jr.key(0))
    with pytest.raises(ValueError, match="tau"):
        SoftUpdate(tau=wrap(-0.5))
    # an array of values is checked value by value
    with pytest.raises(ValueError, match="gamma"):
        PPO(gamma=jnp.array([0.9, 1.2]))
    assert PPO(gamma=jnp.array([0.9, 0.99])).gamma.shape == (2,)


def test_bad_input(getkey):
    cartpole = lerax.env.make("CartPole-v1")
    pendulum = lerax.env.make("Pendulum-v1")
    with pytest.raises(TypeError, match="AbstractQPolicy"):
        DQN().learn(
            cartpole, MLPActorCriticPolicy(cartpole, key=getkey()), 1000, key=getkey()
        )
    with pytest.raises(TypeError, match="Box"):
        SAC().learn(cartpole, MLPQPolicy(cartpole, key=getkey()), 1000, key=getkey())
    with pytest.raises(ValueError, match="exceeds"):
        SAC(buffer_size=100, batch_size=256)
    with pytest.raises(ValueError, match="learning_starts"):
        DQN(batch_size=64, learning_starts=10)
    for cls, kwargs, message in [
        (DQN, {"gamma": 1.5}, r"`DQN\(gamma=...\)` must be in \[0, 1\]"),
        (DQN, {"max_grad_norm": 0}, "max_grad_norm"),
        (
            DQN,
            {"gradient_steps": 0},
            r"`DQN\(gradient_steps=...\)` must be an int >= 1",
        ),
        (DQN, {"exploration_fraction": -0.1}, "exploration_fraction"),
        (DQN, {"batch_size": True}, "batch_size"),
        (SAC, {"tau": 1.5}, "tau"),
        (SAC, {"alpha_lr": -1.0}, "alpha_lr"),
        (SAC, {"q_width_size": 0}, "q_width_size"),
        (TD3, {"policy_noise": -0.1}, r"`TD3\(policy_noise=...\)` must be >= 0"),
        (DDPG, {"tau": -1.0}, "tau"),
        (SACDiscrete, {"target_entropy_scale": -1.0}, "target_entropy_scale"),
        (
            SAC,
            {"target_entropy": float("nan")},
            r"`SAC\(target_entropy=...\)` must be finite",
        ),
        (
            DQN,
            {"num_envs": 8, "num_steps": 16, "buffer_size": 64, "learning_starts": 64},
            "at least one iteration's transitions",
        ),
        (SACDiscrete, {"target_entropy_scale": np.inf}, "must be finite"),
        (TD3, {"noise_clip": np.inf}, r"`TD3\(noise_clip=...\)` must be finite"),
        # an integer array is not a size (a NumPy integer scalar is one)
        (DQN, {"buffer_size": jnp.array(1000)}, r"`buffer_size=int\(...\)`"),
    ]:
        with pytest.raises(ValueError, match=message):
            cls(**kwargs)
    for cls, kwargs, message in [
        (SAC, {"autotune": "yes"}, r"`SAC\(autotune=...\)` must be True or False"),
        (DQN, {"double_q": 1.0}, "double_q"),
        (SAC, {"q_lr": "1e-3"}, "must be a number, got the string"),
        (TD3, {"gamma": None}, r"`TD3\(gamma=None\)`: `gamma` needs a value"),
    ]:
        with pytest.raises(TypeError, match=message):
            cls(**kwargs)
    small = DQN(buffer_size=500, learning_starts=64, batch_size=32)
    q_policy = MLPQPolicy(cartpole, width_size=8, key=getkey())
    with pytest.raises(ValueError, match="ends before `learning_starts=64`"):
        small.learn(cartpole, q_policy, 32, key=getkey())
    # the exploration schedule needs the budget: `init` without it is refused
    state = small.init(cartpole, q_policy, key=getkey())
    with pytest.raises(ValueError, match="pass `total_timesteps=` to `init`"):
        small.train(state, 1)
    # DDPG and TD3 share a learner type: the critics tell their states apart
    actor = MLPDeterministicPolicy(pendulum, width_size=8, key=getkey())
    replay = dict(buffer_size=64, batch_size=8, learning_starts=8, q_width_size=8)
    td3_state = TD3(**replay).init(pendulum, actor, key=getkey())
    with pytest.raises(
        TypeError,
        match=r"learner does not fit this algorithm: it holds "
        r"`learner\.critics\.network\.layers\[0\]\.weight` float32\[2, 8, 4\] "
        r"where `DDPG` has `learner\.critics\.network\.layers\[0\]\.weight` "
        r"float32\[1, 8, 4\]",
    ):
        DDPG(**replay).train(td3_state, 1)
    with pytest.raises(TypeError, match="learner does not fit"):
        TD3(**replay, q_depth=1).train(td3_state, 1)


@pytest.mark.slow(24)
def test_dqn_cartpole_solves_in_100k_steps():
    # RL Zoo's DQN configuration for CartPole-v1. DQN with it solves CartPole
    # and then forgets it again (as SB3's does): the policy left at 100k steps
    # returned 500, 136, 278, 93, 93 and 106 for seeds 0-5, while the best of
    # the periodic evaluations, re-evaluated on fresh episodes, returned 500
    # for five of those six seeds (343 for seed 4). "Within 100k steps" is
    # therefore the best evaluated policy, as the RL Zoo keeps with its
    # `EvalCallback`. Training stops once an evaluation returns 500 (SB3's
    # `StopTrainingOnRewardThreshold`; seed 1 at 46k steps, which halves the
    # test's time): the remaining iterations do no work.
    env = lerax.env.make("CartPole-v1")
    evaluation = EvalCallback(
        env, eval_freq=5120, num_episodes=16, seed=7, stop_at_return=500
    )
    algo = DQN(
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        target_update_interval=10,
        num_steps=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
    )
    policy = MLPQPolicy(env, width_size=256, key=jr.key(0))
    state = algo.init(
        env, policy, key=jr.key(1), total_timesteps=100_000, callback=evaluation
    )
    state, _ = algo.train(state, algo.num_iterations(100_000), callback=evaluation)
    best = state.callback_state.best_policy(state.policy)
    returns, _ = evaluate_policy(env, best, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= 475, returns


def pendulum_stop(env) -> EvalCallback:
    """Stops a Pendulum run once a 16-episode evaluation (every 2000 steps)
    returns -160 or more (SB3's `StopTrainingOnRewardThreshold`): SAC, TD3
    and DDPG get there at 6k, 8k and 4k steps and then stay at about -120
    (32 episodes) up to 20k, so the rest of the budget only costs time. The
    test's own 32-episode evaluation then decides."""
    return EvalCallback(
        env, eval_freq=2000, num_episodes=16, seed=7, stop_at_return=-160.0
    )


@pytest.mark.slow(20)
def test_sac_pendulum_reaches_minus_200_in_20k_steps():
    # RL Zoo's SAC Pendulum-v1 configuration (learning rate 1e-3) with 64-unit
    # networks to keep the test short; measured -116 and -119 for seeds 0
    # and 1 after 20k steps, -121 when stopped at 6k (the entropy target in
    # SB3's units, of actions rescaled to [-1, 1]).
    env = lerax.env.make("Pendulum-v1")
    algo = SAC(policy_lr=1e-3, q_lr=1e-3, buffer_size=20_000, q_width_size=64)
    policy = MLPSACPolicy(env, feature_size=64, width_size=64, key=jr.key(0))
    stop = pendulum_stop(env)
    state = algo.init(env, policy, key=jr.key(1), total_timesteps=20_000, callback=stop)
    state, metrics = algo.train(state, 20_000, callback=stop)
    returns, _ = evaluate_policy(env, state.policy, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= -200, returns
    alphas = np.asarray(metrics["alpha"])  # NaN after the stop
    assert float(alphas[~np.isnan(alphas)][-1]) < 1.0  # entropy tuning moved alpha


@pytest.mark.parametrize(
    "algo_cls, threshold",
    [
        pytest.param(TD3, -200, marks=pytest.mark.slow(14)),
        pytest.param(DDPG, -250, marks=pytest.mark.slow(8)),
    ],
)
def test_deterministic_actor_critics_on_pendulum_in_20k_steps(algo_cls, threshold):
    # SB3 defaults with 64-unit networks; measured TD3 -118/-119 and DDPG
    # -122/-120 for seeds 0/1 after 20k steps; stopped at 8k and 4k (seed 0),
    # -122 and -120.
    env = lerax.env.make("Pendulum-v1")
    algo = algo_cls(buffer_size=20_000, q_width_size=64)
    policy = MLPDeterministicPolicy(env, width_size=64, key=jr.key(0))
    stop = pendulum_stop(env)
    state = algo.init(env, policy, key=jr.key(1), total_timesteps=20_000, callback=stop)
    state, _ = algo.train(state, 20_000, callback=stop)
    returns, _ = evaluate_policy(env, state.policy, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= threshold, returns


def test_sac_target_entropy_steers_alpha(getkey):
    # a target above the policy's entropy makes tuning raise alpha, one far
    # below lowers it; the learner holds its target (by default -|A|)
    env = lerax.env.make("Pendulum-v1")
    policy = MLPSACPolicy(env, feature_size=8, width_size=8, key=getkey())
    key = getkey()

    def algo(target):
        return SAC(
            buffer_size=1000,
            batch_size=32,
            learning_starts=32,
            q_width_size=8,
            num_steps=32,
            alpha_lr=1e-2,
            target_entropy=target,
        )

    assert float(algo(None).init(env, policy, key=key).learner.target_entropy) == -1
    # Stable-Baselines3's spelling of the default
    assert algo("auto") == algo(None)
    assert float(algo("auto").init(env, policy, key=key).learner.target_entropy) == -1
    alphas = {}
    for target in (5.0, -5.0):  # arrays: one compiled program for both
        state = algo(jnp.float32(target)).init(env, policy, key=key)
        assert float(state.learner.target_entropy) == target
        state, metrics = algo(jnp.float32(target)).train(state, 3)
        alphas[target] = float(metrics["alpha"][-1])
    assert alphas[5.0] > 1.0 > alphas[-5.0], alphas


def test_sac_entropy_is_measured_on_actions_rescaled_to_unit_bounds():
    # as SB3's, the entropy target is in units of actions rescaled to
    # [-1, 1]: a narrow box (half-width 0.01) and a wide one (100) hold the
    # same policy, so one gradient step on the same batch (actions scaled to
    # each box) logs the same entropy and takes the same alpha step; in env
    # units the narrow box's entropy (about log 0.01 = -4.6 lower) sat below
    # the target -1 for good, and alpha grew without end
    observations = jr.uniform(jr.key(2), (16, 3), minval=-1.0, maxval=1.0)
    unit_actions = jr.uniform(jr.key(3), (16, 1), minval=-1.0, maxval=1.0)
    alphas, entropies = {}, {}
    for half in (0.01, 100.0):
        env = RescaleAction(lerax.env.make("Pendulum-v1"), -half, half)
        policy = MLPSACPolicy(env, feature_size=8, width_size=8, key=jr.key(0))
        algo = SAC(buffer_size=64, batch_size=16, learning_starts=16, q_width_size=8)
        state = algo.init(env, policy, key=jr.key(1))
        learner, batch = state.learner, layout_batch(state.buffer, 16)
        batch.update(
            observations=observations,
            next_observations=observations,
            actions=half * unit_actions,
            rewards=jr.normal(jr.key(5), (16,)),
        )
        new, metrics = eqx.filter_jit(algo.update)(
            learner, batch, key=jr.key(6), step=jnp.int32(0)
        )
        alphas[half] = float(jnp.exp(new.log_alpha))
        entropies[half] = float(metrics["entropy"])
    np.testing.assert_allclose(entropies[0.01], entropies[100.0], rtol=1e-4)
    # a fresh policy's entropy is above the target -1: alpha falls
    assert entropies[0.01] > -1.0
    np.testing.assert_allclose(alphas[0.01], alphas[100.0], rtol=1e-6)
    assert alphas[0.01] < 1.0


def test_sac_critic_target_takes_the_entropy_bonus_in_unit_action_units():
    # SB3's soft target is min Q'(s', a') - alpha * log pi(a'|s') with the
    # log-density of a' rescaled to [-1, 1], the units alpha is tuned in. In
    # env units a box of half-width 0.4 (Humanoid's) adds
    # gamma * alpha * 2 * log(0.4) ~ -1.8 to every non-terminal target: a
    # per-step penalty for staying alive on envs that can end early
    half, gamma, alpha, size = 0.4, 0.99, 1.0, 16
    env = RescaleAction(lerax.env.make("Pendulum-v1"), -half, half)
    policy = MLPSACPolicy(env, feature_size=8, width_size=8, key=jr.key(0))
    algo = SAC(
        buffer_size=64,
        batch_size=size,
        learning_starts=size,
        q_width_size=8,
        gamma=gamma,
        initial_alpha=alpha,
    )
    state = algo.init(env, policy, key=jr.key(1))
    learner, batch = state.learner, layout_batch(state.buffer, size)
    observations = jr.uniform(jr.key(2), (size, 3), minval=-1.0, maxval=1.0)
    batch.update(
        observations=observations,
        next_observations=observations[::-1],
        actions=jr.uniform(jr.key(3), (size, 1), minval=-half, maxval=half),
        rewards=jr.normal(jr.key(5), (size,)),
        terminated=jnp.zeros(size, bool),
    )
    key = jr.key(6)
    _, metrics = eqx.filter_jit(algo.update)(learner, batch, key=key, step=jnp.int32(0))
    # the reference, by hand: the next actions drawn as `update` draws them
    next_key, _ = jr.split(key)
    next_actions, next_log_probs = jax.vmap(
        lambda o, k: learner.policy.action_and_log_prob(None, o, key=k)[1:]
    )(batch["next_observations"], jr.split(next_key, size))
    unit_log_probs = np.asarray(next_log_probs, np.float64) + np.log(half)
    target_q = jax.vmap(lambda o, a: twin_values(learner.target_critics, o, a))(
        batch["next_observations"], next_actions
    )
    target = np.asarray(batch["rewards"], np.float64) + gamma * (
        np.min(np.asarray(target_q, np.float64), axis=-1) - alpha * unit_log_probs
    )
    q = np.asarray(
        jax.vmap(lambda o, a: twin_values(learner.critics, o, a))(
            batch["observations"], batch["actions"]
        ),
        np.float64,
    )
    expected = 0.5 * np.sum(np.mean(np.square(q - target[:, None]), axis=0))
    np.testing.assert_allclose(float(metrics["q_loss"]), expected, rtol=1e-4)


def test_sac_policy_frequency_delays_actor_and_alpha(getkey):
    # the earlier package's argument: the critics learn on every gradient
    # step, the actor and the entropy coefficient on every 3rd
    env = lerax.env.make("Pendulum-v1")
    algo = SAC(
        buffer_size=1000,
        batch_size=8,
        learning_starts=8,
        q_width_size=8,
        gradient_steps=4,
        num_steps=4,
        policy_frequency=3,
    )
    policy = MLPSACPolicy(env, feature_size=8, width_size=8, key=getkey())
    state = algo.init(env, policy, key=getkey())
    state, metrics = algo.train(state, 3)  # 8 gradient steps (from env step 8)

    def count(opt_state):
        (adam,) = [
            s
            for s in jax.tree.leaves(
                opt_state, is_leaf=lambda s: isinstance(s, optax.ScaleByAdamState)
            )
            if isinstance(s, optax.ScaleByAdamState)
        ]
        return int(adam.count)

    assert count(state.learner.critic_opt_state) == 8
    # gradient steps 0..7 since learning started: the 3rd and 6th move them
    assert count(state.learner.policy_opt_state) == 2
    assert count(state.learner.alpha_opt_state) == 2
    assert bool(jnp.all(jnp.isfinite(metrics["policy_loss"][1:])))
    with pytest.raises(ValueError, match="policy_frequency"):
        SAC(policy_frequency=0)


def test_td3_delays_actor_and_target_updates(getkey):
    env = lerax.env.make("Pendulum-v1")
    algo = TD3(
        buffer_size=1000,
        batch_size=8,
        learning_starts=8,
        q_width_size=8,
        policy_frequency=3,
    )
    policy = MLPDeterministicPolicy(env, width_size=8, key=getkey())
    state = algo.init(env, policy, key=getkey(), total_timesteps=100)
    state, _ = algo.train(state, 8)  # learning starts with the 8th step: one update
    learner = state.learner
    # the first gradient step: actor and targets untouched
    assert jnp.allclose(
        learner.policy.network.layers[0].weight, policy.network.layers[0].weight
    )
    assert jnp.allclose(
        learner.target_policy.network.layers[0].weight, policy.network.layers[0].weight
    )
    state, _ = algo.train(state, 1)  # the second: still not
    assert jnp.allclose(
        state.learner.policy.network.layers[0].weight, policy.network.layers[0].weight
    )
    state, _ = algo.train(state, 1)  # the third: actor moves
    assert not jnp.allclose(
        state.learner.policy.network.layers[0].weight, policy.network.layers[0].weight
    )
    assert not jnp.allclose(
        state.learner.target_policy.network.layers[0].weight,
        policy.network.layers[0].weight,
    )


@pytest.mark.parametrize("algo_cls", [TD3, DDPG])
def test_deterministic_actor_loss_is_logged_on_every_gradient_step(algo_cls, getkey):
    # the logged `policy_loss` is -mean Q1(s, pi(s)) over the batch, with the
    # critics of this step and the actor before it: reported on TD3's
    # delayed steps too (the actor held), as SAC reports its own
    env = lerax.env.make("Pendulum-v1")
    algo = algo_cls(buffer_size=1000, batch_size=16, learning_starts=16, q_width_size=8)
    policy = MLPDeterministicPolicy(env, width_size=8, key=getkey())
    state = algo.init(env, policy, key=getkey())
    # a batch of the buffer's layout, filled with random transitions
    batch = layout_batch(state.buffer, 16)
    for name, shape in (("observations", (16, 3)), ("next_observations", (16, 3))):
        batch[name] = jr.uniform(getkey(), shape, minval=-1.0, maxval=1.0)
    batch["actions"] = jr.uniform(getkey(), (16, 1), minval=-2.0, maxval=2.0)
    batch["rewards"] = jr.normal(getkey(), (16,))
    learner = state.learner
    update = eqx.filter_jit(algo.update)
    for step in (2, 3):  # TD3 (delay 2): a delayed step, then an actor step
        new, metrics = update(learner, batch, key=getkey(), step=jnp.int32(step))
        actions = jax.vmap(lambda o: learner.policy.deterministic_action(None, o)[1])(
            batch["observations"]
        )
        q = jax.vmap(lambda o, a: twin_values(new.critics, o, a)[0])(
            batch["observations"], actions
        )
        np.testing.assert_allclose(metrics["policy_loss"], -jnp.mean(q), rtol=1e-5)
        moved = not jnp.allclose(
            new.policy.network.layers[0].weight, learner.policy.network.layers[0].weight
        )
        assert moved == (algo_cls is DDPG or (step + 1) % algo.policy_frequency == 0)


@pytest.mark.slow(20)
def test_sac_discrete_cartpole_reaches_400_in_100k_steps():
    # Measured 489 / 493 / 484 for seeds 0-2 with this configuration.
    env = lerax.env.make("CartPole-v1")
    algo = SACDiscrete(
        buffer_size=100_000, q_width_size=64, policy_lr=1e-3, q_lr=1e-3, batch_size=128
    )
    policy = MLPDiscreteSACPolicy(env, width_size=64, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(1), total_timesteps=100_000)
    state, _ = algo.train(state, algo.num_iterations(100_000))
    returns, _ = evaluate_policy(env, state.policy, key=jr.key(1234), num_episodes=32)
    assert float(jnp.mean(returns)) >= 400, returns


def test_sac_discrete_rejects_continuous_envs(getkey):
    pendulum = lerax.env.make("Pendulum-v1")
    with pytest.raises(TypeError, match="Discrete"):
        SACDiscrete().learn(
            pendulum, MLPSACPolicy(pendulum, key=getkey()), 2000, key=getkey()
        )


@pytest.mark.slow(11)
def test_next_state_masks_are_stored_and_respected_by_the_dqn_target(getkey):
    import equinox as eqx

    from .envs import MaskedMatch

    env = TimeLimit(MaskedMatch(), 5)
    policy = MLPQPolicy(env, width_size=8, key=getkey())
    algo = DQN(buffer_size=64, batch_size=4, learning_starts=4)
    state = algo.init(env, policy, key=getkey(), total_timesteps=20)
    state, _ = algo.train(state, 3)  # 12 steps, including a truncation
    buffer = state.buffer
    # MaskedMatch shows its mask in observation[4:]: the stored next masks are
    # those of the (pre-reset) next states
    np.testing.assert_array_equal(
        np.asarray(buffer.next_action_masks[:12]),
        np.asarray(buffer.next_observations[:12, 4:]) > 0.5,
    )
    # a Q-network valuing the masked action 0 at 100 and the rest at 0
    last = policy.q_network.layers[-1]
    policy = eqx.tree_at(
        lambda p: p.q_network.layers[-1].weight, policy, jnp.zeros_like(last.weight)
    )
    policy = eqx.tree_at(
        lambda p: p.q_network.layers[-1].bias, policy, jnp.array([100.0, 0.0, 0.0, 0.0])
    )
    learner = algo.init_learner(env, policy, key=getkey())
    batch = {
        "observations": jnp.zeros((4, 8)),
        "actions": jnp.ones((4,), jnp.int32),
        "rewards": jnp.zeros((4,)),
        "next_observations": jnp.zeros((4, 8)),
        "terminated": jnp.zeros((4,), bool),
        "action_masks": None,
        "next_action_masks": jnp.array([[False, True, True, False]] * 4),
        "policy_states": None,
        "next_policy_states": None,
    }
    for double in (False, True):
        algo_d = DQN(buffer_size=64, batch_size=4, learning_starts=4, double_q=double)
        _, metrics = algo_d.update(learner, batch, key=getkey(), step=jnp.array(0))
        assert float(metrics["loss"]) == 0.0  # target 0: action 0 is not allowed
    unmasked = dict(batch, next_action_masks=None)
    _, metrics = algo.update(learner, unmasked, key=getkey(), step=jnp.array(0))
    assert float(metrics["loss"]) > 90.0


@pytest.mark.slow(11)
def test_current_masks_are_stored_and_used_by_the_sac_discrete_actor(getkey):
    from .envs import MaskedMatch

    env = TimeLimit(MaskedMatch(), 5)
    policy = MLPDiscreteSACPolicy(env, key=getkey())
    algo = SACDiscrete(buffer_size=64, batch_size=4, learning_starts=4)
    state, _ = algo.train(algo.init(env, policy, key=getkey()), 12)
    update = eqx.filter_jit(algo.update)

    def finite(tree):
        leaves = jax.tree.leaves(eqx.filter(tree, eqx.is_inexact_array))
        return all(bool(jnp.isfinite(leaf).all()) for leaf in leaves)

    # masked actions (log-probability -inf) add nothing to the expectations,
    # in the gradients too: the networks stay finite
    assert finite(state.learner)
    buffer = state.buffer
    np.testing.assert_array_equal(
        np.asarray(buffer.action_masks[:12]),
        np.asarray(buffer.observations[:12, 4:]) > 0.5,
    )
    batch = buffer.sample(4, key=getkey())
    only_one = jnp.array([[False, True, False, False]] * 4)
    batch = dict(batch, action_masks=only_one, next_action_masks=only_one)
    learner = algo.init_learner(env, policy, key=getkey())  # untrained: uniform
    updated, metrics = update(learner, batch, key=getkey(), step=jnp.array(9))
    # one allowed action: the actor's distribution is certain, entropy 0,
    # which is the target there too: alpha stays
    assert abs(float(metrics["entropy"])) < 1e-6
    assert finite(updated)
    assert float(updated.log_alpha) == float(learner.log_alpha)
    _, metrics = update(
        learner,
        dict(batch, action_masks=jnp.ones((4, 4), bool)),
        key=getkey(),
        step=jnp.array(9),
    )
    np.testing.assert_allclose(float(metrics["entropy"]), np.log(4), rtol=1e-3)
    # two allowed actions: the uniform policy's entropy log(2) is the most
    # there is, above the target 0.89 log(2) (not 0.89 log(4), out of reach:
    # alpha would grow without bound), so alpha shrinks
    two = jnp.array([[True, True, False, False]] * 4)
    updated, metrics = update(
        learner, dict(batch, action_masks=two), key=getkey(), step=jnp.array(9)
    )
    np.testing.assert_allclose(float(metrics["entropy"]), np.log(2), rtol=1e-3)
    assert float(updated.log_alpha) < float(learner.log_alpha)


SMALL_REPLAY = dict(
    num_envs=4,
    num_steps=8,
    buffer_size=20_000,
    batch_size=64,
    learning_starts=256,
    gradient_steps=4,
)


@pytest.mark.parametrize(
    "algo, policy_cls",
    [
        (SACDiscrete(**SMALL_REPLAY, q_width_size=64), MLPDiscreteSACPolicy),
        (
            DQN(
                **SMALL_REPLAY,
                learning_rate=1e-3,
                target_update_interval=256,
                exploration_fraction=0.3,
            ),
            MLPQPolicy,
        ),
    ],
    ids=["SACDiscrete", "DQN"],
)
@pytest.mark.slow(7)
def test_masked_task_is_solved_without_a_masked_action(algo, policy_cls):
    # MaskedMatch: a masked action pays -10 and ends the episode, the target
    # action pays +1; 20 is perfect. Measured: 20.0 for seeds 0-2 at 4k steps
    # (both algorithms)
    from .envs import MaskedMatch

    env = TimeLimit(MaskedMatch(), 20)
    policy = policy_cls(env, width_size=64, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(0), total_timesteps=4000)
    state, metrics = algo.train(state, algo.num_iterations(4000))
    returns, _ = evaluate_policy(env, state.policy, key=jr.key(9), num_episodes=32)
    assert float(np.mean(returns)) >= 19.5, returns
    # no training episode ended through a masked action (random phase included)
    assert float(jnp.nanmin(metrics["episode_length"])) == 20.0


@pytest.mark.parametrize(
    "algo_cls, env_id, make_policy, name",
    [
        (DQN, "CartPole-v1", MLPQPolicy, "loss"),
        (SACDiscrete, "CartPole-v1", MLPDiscreteSACPolicy, "q_loss"),
        (SAC, "Pendulum-v1", MLPSACPolicy, "q_loss"),
        (TD3, "Pendulum-v1", MLPDeterministicPolicy, "q_loss"),  # DDPG's update too
    ],
)
def test_check_numerics_names_the_non_finite_quantity_in_learn(
    algo_cls, env_id, make_policy, name, getkey
):
    """NaN rewards make the critic's loss NaN at the first gradient step:
    with `check_numerics` `learn` itself (which drops the metrics) raises,
    naming it."""
    env = TransformReward(lerax.env.make(env_id), lambda r: r * jnp.nan)
    small = dict(
        buffer_size=64, learning_starts=8, batch_size=8, num_steps=4, q_width_size=8
    )
    if algo_cls is DQN:
        small.pop("q_width_size")
    policy_kwargs = dict(width_size=8)
    algo = algo_cls(**small, check_numerics=True)
    policy = make_policy(env, **policy_kwargs, key=getkey())
    with pytest.raises(eqx.EquinoxRuntimeError, match=f"not finite .*`{name}`"):
        jax.block_until_ready(algo.learn(env, policy, 16, key=getkey()))
    if algo_cls is DQN:  # off by default (the flag lives in the shared loop)
        quiet = algo_cls(**small)
        jax.block_until_ready(quiet.learn(env, policy, 16, key=getkey()))


def first_iteration_and_greedy(algo, env, policy, *, seed, total_timesteps=None):
    """The transitions of a run's first iteration, and the greedy action of
    `policy` (untrained) for each of their observations."""
    state = algo.init(env, policy, key=jr.key(seed), total_timesteps=total_timesteps)
    _, _, transitions = algo.iteration(state)
    greedy = jax.vmap(jax.vmap(lambda o: jnp.argmax(policy.q_values(None, o)[1])))(
        transitions.observation
    )
    return transitions, greedy


def test_random_actions_end_at_learning_starts_inside_an_iteration():
    # one iteration of 16 env steps straddling `learning_starts=4`: as in
    # SB3 (which counts env steps), the first 4 actions are random and the
    # 12 after them greedy (epsilon 0), not the whole iteration random
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, width_size=8, key=jr.key(0))
    algo = DQN(
        num_envs=2,
        num_steps=8,
        buffer_size=16,
        batch_size=4,
        learning_starts=4,
        exploration_initial_eps=0.0,
        exploration_final_eps=0.0,
    )
    transitions, greedy = first_iteration_and_greedy(algo, env, policy, seed=1)
    # env steps 0..3 are the first two steps of both envs
    assert bool(jnp.all(transitions.action[2:] == greedy[2:]))
    assert not bool(jnp.all(transitions.action[:2] == greedy[:2]))


def test_dqn_epsilon_decays_per_env_step_inside_an_iteration():
    # one iteration of 2 envs x 8 steps, epsilon from 1 to 0 over the first 8
    # env steps of a 16-step budget: as in SB3 the rate follows each env step,
    # so from env step 8 on (the iteration's 5th step) every action is greedy;
    # a rate taken once per iteration would keep all 16 actions random
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, width_size=8, key=jr.key(0))
    algo = DQN(
        num_envs=2,
        num_steps=8,
        buffer_size=16,
        batch_size=1,
        learning_starts=1,
        exploration_fraction=0.5,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.0,
    )
    transitions, greedy = first_iteration_and_greedy(
        algo, env, policy, seed=3, total_timesteps=16
    )
    assert bool(jnp.all(transitions.action[4:] == greedy[4:]))
    assert not bool(jnp.all(transitions.action[:4] == greedy[:4]))


@pytest.mark.parametrize("learning_starts", [6, 7, 8])
def test_td3_counts_its_delay_in_gradient_steps_since_learning_started(
    learning_starts,
):
    # as SB3's `_n_updates`: with a delay of 3 the actor first moves on the
    # 3rd gradient step whatever step learning started at (counting from the
    # run's first iteration instead moved it on the 2nd for 6, the 1st for 7)
    env = lerax.env.make("Pendulum-v1")
    algo = TD3(
        buffer_size=100,
        batch_size=6,
        learning_starts=learning_starts,
        q_width_size=8,
        policy_frequency=3,
    )
    policy = MLPDeterministicPolicy(env, width_size=8, key=jr.key(0))
    state = algo.init(env, policy, key=jr.key(1), total_timesteps=100)
    state, _ = algo.train(state, learning_starts - 1)
    moved = []
    for _ in range(6):
        before = state.learner.policy.network.layers[0].weight
        state, _ = algo.train(state, 1)
        after = state.learner.policy.network.layers[0].weight
        moved.append(not bool(jnp.allclose(before, after)))
    assert moved == [False, False, True, False, False, True]


def test_learning_rates_are_logged_as_at_each_iterations_last_update(getkey):
    # as the on-policy algorithms' `learning_rate`: a schedule's value at the
    # iteration's last update (DQN: 4 updates per iteration once 32 steps
    # were taken, i.e. from the fourth iteration on), NaN before learning
    cartpole = lerax.env.make("CartPole-v1")
    schedule = optax.linear_schedule(1e-3, 1e-4, transition_steps=10)
    dqn = DQN(
        buffer_size=256,
        batch_size=16,
        learning_starts=32,
        num_steps=8,
        gradient_steps=4,
        learning_rate=schedule,
        target_update_interval=8,
        exploration_fraction=0.0,
    )
    policy = MLPQPolicy(cartpole, width_size=8, key=getkey())
    state = dqn.init(cartpole, policy, key=getkey())
    _, metrics = eqx.filter_jit(dqn.train)(state, 6)
    rates = np.asarray(metrics["learning_rate"])
    assert np.isnan(rates[:3]).all()
    expected = [float(schedule(4 * n - 1)) for n in (1, 2, 3)]
    np.testing.assert_allclose(rates[3:], expected, rtol=1e-6)
    # SAC and TD3: each optimiser's own (constant) rate
    pendulum = lerax.env.make("Pendulum-v1")
    sac = SAC(
        buffer_size=64,
        batch_size=16,
        learning_starts=16,
        num_steps=16,
        q_width_size=8,
        policy_lr=1e-3,
        q_lr=2e-3,
    )
    policy = MLPSACPolicy(pendulum, feature_size=8, width_size=8, key=getkey())
    _, metrics = sac.train(sac.init(pendulum, policy, key=getkey()), 2)
    assert float(metrics["policy_learning_rate"][1]) == np.float32(1e-3)
    # alpha's rate defaults to the critics'
    assert float(metrics["q_learning_rate"][1]) == np.float32(2e-3)
    assert float(metrics["alpha_learning_rate"][1]) == np.float32(2e-3)
    td3 = TD3(buffer_size=64, batch_size=16, learning_starts=16, num_steps=16)
    policy = MLPDeterministicPolicy(pendulum, width_size=8, key=getkey())
    _, metrics = td3.train(td3.init(pendulum, policy, key=getkey()), 1)
    assert float(metrics["actor_learning_rate"][0]) == np.float32(td3.actor_lr)
    assert float(metrics["q_learning_rate"][0]) == np.float32(td3.q_lr)
