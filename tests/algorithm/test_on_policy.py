"""Unit-level behaviour of the on-policy machinery (fast; no learning thresholds)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.algorithm import A2C, DQN, PPO, REINFORCE, evaluate_policy
from lerax.policy import MLPActorCriticPolicy, MLPQPolicy, RecurrentActorCriticPolicy
from lerax.space import Discrete
from lerax.wrapper import EpisodeStatistics, NormalizeReward, TimeLimit

from .envs import Counter, MaskedMatch


def constant_value_policy(env, value, key, **kwargs):
    """An actor-critic whose critic outputs exactly `value`."""
    policy = MLPActorCriticPolicy(env, value_width=8, action_width=8, key=key, **kwargs)
    last = policy.critic.layers[-1]
    policy = eqx.tree_at(
        lambda p: p.critic.layers[-1].weight, policy, jnp.zeros_like(last.weight)
    )
    return eqx.tree_at(
        lambda p: p.critic.layers[-1].bias, policy, jnp.full_like(last.bias, value)
    )


def rollout_buffer(algo, env, policy, key):
    state = algo.init(env, policy, key=key)
    from lerax.algorithm._collector import collect

    def actor(ps, obs, mask, k):
        ps, action, value, log_prob = policy.action_and_value(
            ps, obs, key=k, action_mask=mask
        )
        return (
            ps,
            action,
            policy.action_head.valid(action),
            {"value": value, "log_prob": log_prob},
        )

    actors, transitions = collect(
        env, policy, actor, state.actors, num_steps=algo.num_steps, key=key
    )
    return algo._buffer(policy, actors, transitions), transitions


def test_truncation_bootstraps_and_termination_does_not(getkey):
    gamma, c = 0.9, 5.0
    algo = PPO(num_envs=2, num_steps=12, num_batches=1, gamma=gamma)
    # episodes truncated by the time limit after 4 steps
    truncating = TimeLimit(Counter(), 4)
    policy = constant_value_policy(truncating, c, getkey())
    buffer, transitions = rollout_buffer(algo, truncating, policy, getkey())
    truncated = np.asarray(transitions.truncated)
    assert truncated.sum() == 2 * 3
    np.testing.assert_allclose(
        np.asarray(buffer.rewards)[truncated], 1.0 + gamma * c, rtol=1e-6
    )
    np.testing.assert_allclose(np.asarray(buffer.rewards)[~truncated], 1.0)
    # episodes terminating after 4 steps (no bootstrap)
    terminating = TimeLimit(Counter(terminate_at=4), 100)
    buffer, transitions = rollout_buffer(algo, terminating, policy, getkey())
    assert np.asarray(transitions.terminated).sum() == 6
    np.testing.assert_allclose(np.asarray(buffer.rewards), 1.0)


def test_logged_returns_are_undiscounted_without_bootstrap(getkey):
    env = TimeLimit(Counter(), 7)
    policy = constant_value_policy(env, 100.0, getkey())
    algo = PPO(num_envs=3, num_steps=30, num_batches=1, num_epochs=1)
    state = algo.init(env, policy, key=getkey())
    _, metrics = algo.train(state, 2)
    np.testing.assert_allclose(metrics["episode_return"], 7.0)
    np.testing.assert_allclose(metrics["episode_length"], 7.0)
    assert (metrics["episodes"] >= 12).all()


@pytest.mark.parametrize("outer", ["EpisodeStatistics", "NormalizeReward"])
def test_logged_returns_are_raw_with_reward_normalisation_either_side(outer, getkey):
    # Counter pays 1 per step: 7 per episode, whatever the wrapper order
    # (EpisodeStatistics outside the normaliser sums the scaled rewards
    # itself; the logged return must not be that sum)
    inner = TimeLimit(Counter(action_space=Discrete(2)), 7)
    if outer == "EpisodeStatistics":
        env = EpisodeStatistics(NormalizeReward(inner))
    else:
        env = NormalizeReward(EpisodeStatistics(inner))
    policy = constant_value_policy(env, 0.0, getkey())
    for algo in (
        PPO(num_envs=3, num_steps=30, num_batches=1, num_epochs=1),
        DQN(num_envs=3, num_steps=30, learning_starts=30, batch_size=8),
    ):
        if isinstance(algo, DQN):
            policy = MLPQPolicy(env, key=getkey())
        state = algo.init(env, policy, key=getkey(), total_timesteps=180)
        _, metrics = algo.train(state, 2)
        np.testing.assert_allclose(metrics["episode_return"], 7.0, rtol=1e-6)
        np.testing.assert_allclose(metrics["episode_length"], 7.0)


def test_stored_log_prob_is_that_of_the_stored_action(getkey):
    # Box actions: samples leave [-1, 1] often with log_std_init=1; the stored
    # action is the raw sample and its log-prob must match.
    env = TimeLimit(Counter(), 5)
    policy = MLPActorCriticPolicy(env, log_std_init=1.0, key=getkey())
    algo = PPO(num_envs=4, num_steps=16, num_batches=1)
    buffer, _ = rollout_buffer(algo, env, policy, getkey())
    actions = np.asarray(buffer.actions)
    assert (np.abs(actions) > 1).mean() > 0.2  # many out of bounds: test is meaningful
    evaluate = jax.vmap(jax.vmap(lambda o, a: policy.evaluate_action(None, o, a)[2]))
    np.testing.assert_allclose(
        buffer.log_probs,
        evaluate(buffer.observations, buffer.actions),
        rtol=1e-5,
        atol=1e-5,
    )


def test_masks_are_stored_and_used_in_the_loss(getkey):
    env = TimeLimit(MaskedMatch(), 20)
    policy = MLPActorCriticPolicy(env, key=getkey())
    algo = PPO(num_envs=2, num_steps=8, num_batches=1)
    buffer, transitions = rollout_buffer(algo, env, policy, getkey())
    masks = np.asarray(buffer.action_masks)
    actions = np.asarray(buffer.actions)
    assert masks.shape == (8, 2, 4)
    assert np.take_along_axis(masks, actions[..., None], -1).all()
    with_mask = jax.vmap(
        jax.vmap(lambda o, a, m: policy.evaluate_action(None, o, a, action_mask=m)[2])
    )
    np.testing.assert_allclose(
        buffer.log_probs,
        with_mask(buffer.observations, buffer.actions, buffer.action_masks),
        rtol=1e-5,
        atol=1e-5,
    )


def test_value_clipping_takes_the_maximum():
    algo = PPO(clip_value_loss=True, clip_coefficient=0.2)
    batch = {
        "advantages": jnp.zeros(2),
        "log_probs": jnp.zeros(2),
        "values": jnp.array([0.0, 0.0]),
        "returns": jnp.array([1.0, -1.0]),
    }
    values = jnp.array([2.0, -0.5])
    _, metrics = algo.objective(batch, values, jnp.zeros(2), jnp.zeros(2))
    # unclipped errors: (2-1)^2=1, (-0.5+1)^2=0.25; clipped values 0.2, -0.2:
    # (0.2-1)^2=0.64, (-0.2+1)^2=0.64; max -> 1 and 0.64
    np.testing.assert_allclose(metrics["value_loss"], (1.0 + 0.64) / 2, rtol=1e-6)

    def value_loss(coefficient):
        algo = PPO(clip_value_loss=True, value_clip_coefficient=coefficient)
        return algo.objective(batch, values, jnp.zeros(2), jnp.zeros(2))[1][
            "value_loss"
        ]

    # 0 is a coefficient (the value may not move), not "same as the ratio's":
    # clipped values 0, 0: errors 1, 1; max -> 1 and 1
    np.testing.assert_allclose(value_loss(0.0), 1.0, rtol=1e-6)
    # an array coefficient (a vmapped sweep)
    swept = jax.vmap(value_loss)(jnp.array([0.0, 0.2]))
    np.testing.assert_allclose(swept, [1.0, 0.82], rtol=1e-6)
    with pytest.raises(ValueError, match="value_clip_coefficient"):
        PPO(value_clip_coefficient=-0.1)


def test_advantages_are_standardised_as_sb3_does():
    # per minibatch: (a - mean) / (sample std + 1e-8), torch's unbiased std;
    # a minibatch of one advantage is left as it is
    algo = PPO()
    advantages = jnp.array([1.0, 2.0, 4.0, 7.0])
    log_probs = jnp.log(jnp.array([1.1, 0.9, 1.0, 1.05]))  # ratios in the clip range
    batch = {
        "advantages": advantages,
        "log_probs": jnp.zeros(4),
        "values": jnp.zeros(4),
        "returns": jnp.zeros(4),
    }
    _, metrics = algo.objective(batch, jnp.zeros(4), log_probs, jnp.zeros(4))
    a = np.array([1.0, 2.0, 4.0, 7.0])
    standard = (a - a.mean()) / (a.std(ddof=1) + 1e-8)
    expected = -np.mean(np.array([1.1, 0.9, 1.0, 1.05]) * standard)
    np.testing.assert_allclose(metrics["policy_loss"], expected, rtol=1e-5)
    one = {key: value[:1] for key, value in batch.items()}
    grad = jax.grad(
        lambda lp: algo.objective(one, jnp.zeros(1), lp, jnp.zeros(1))[1]["policy_loss"]
    )(jnp.zeros(1))
    np.testing.assert_allclose(grad, [-1.0])  # -advantage * ratio, not 0


def test_target_kl_stops_updates(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    common = dict(
        num_envs=2, num_steps=64, num_batches=4, num_epochs=10, learning_rate=3e-3
    )
    _, free = PPO(**common).train(PPO(**common).init(env, policy, key=getkey()), 3)
    algo = PPO(target_kl=1e-4, **common)
    _, stopped = algo.train(algo.init(env, policy, key=getkey()), 3)
    assert float(free["updates_skipped"].max()) == 0.0
    assert float(stopped["updates_skipped"].mean()) > 0.5


def test_target_kl_logs_only_minibatches_up_to_the_stop():
    # full-batch epochs: the first (at the rollout's parameters) updates,
    # the second exceeds the tiny KL target and stops; as in SB3, the
    # logged metrics average those two, however many epochs were to follow
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, value_width=8, action_width=8, key=jr.key(0))

    def metrics(num_epochs):
        algo = PPO(
            num_envs=2,
            num_steps=8,
            num_batches=1,
            num_epochs=num_epochs,
            learning_rate=1e-2,
            target_kl=1e-6,
        )
        return algo.train(algo.init(env, policy, key=jr.key(1)), 1)[1]

    two, six = metrics(2), metrics(6)
    np.testing.assert_allclose(six["updates_skipped"], 5 / 6, rtol=1e-6)
    np.testing.assert_allclose(two["updates_skipped"], 1 / 2, rtol=1e-6)
    for name in ("approx_kl", "policy_loss", "value_loss", "clip_fraction", "loss"):
        np.testing.assert_allclose(six[name], two[name], rtol=1e-4, err_msg=name)


def test_learning_rate_schedule_is_logged(getkey):
    import optax

    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    schedule = optax.linear_schedule(1e-3, 0.0, 10)
    algo = PPO(
        num_envs=1, num_steps=8, num_batches=1, num_epochs=1, learning_rate=schedule
    )
    _, metrics = algo.train(algo.init(env, policy, key=getkey()), 5)
    # one optimiser update per iteration; the rate used by that update is logged
    np.testing.assert_allclose(
        metrics["learning_rate"], [1e-3 * (1 - k / 10) for k in range(5)], rtol=1e-5
    )


@pytest.mark.parametrize("algo_cls", [PPO, A2C, REINFORCE])
def test_seeds_vmap_and_no_recompile(algo_cls, getkey):
    traces = []

    class Traced(Counter):
        def initial(self, *, key):
            traces.append(1)  # runs only while tracing
            return Counter.initial(self, key=key)

    env = TimeLimit(Traced(), 10)
    policy = MLPActorCriticPolicy(env, value_width=8, action_width=8, key=getkey())
    kwargs = (
        dict(num_envs=2, num_steps=8)
        if algo_cls is not PPO
        else dict(num_envs=2, num_steps=8, num_batches=2, num_epochs=2)
    )
    # JAX's own transformations, as written in the issue: the returned policy
    # has no non-array leaves (its activations are part of its structure)
    learn = jax.jit(
        jax.vmap(lambda k: algo_cls(**kwargs).learn(env, policy, 64, key=k))
    )
    policies = learn(jr.split(getkey(), 3))
    assert type(policies) is type(policy)
    assert all(eqx.is_array(leaf) for leaf in jax.tree.leaves(policies))
    weights = policies.action_head.linear.weight
    assert weights.shape[0] == 3
    assert not jnp.allclose(weights[0], weights[1])  # seeds differ
    # an equal (but new) algorithm object hits the compilation cache
    algo_cls(**kwargs).learn(env, policy, 64, key=getkey())
    count = len(traces)
    algo_cls(**kwargs).learn(env, policy, 64, key=getkey())
    assert len(traces) == count


def test_vmap_over_hyper_parameters(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())

    def run(lr, clip):
        algo = PPO(
            num_envs=2,
            num_steps=16,
            num_batches=2,
            num_epochs=2,
            learning_rate=lr,
            clip_coefficient=clip,
        )
        return algo.learn(env, policy, 64, key=jr.key(0))

    out = jax.jit(jax.vmap(run))(jnp.array([1e-4, 1e-2]), jnp.array([0.1, 0.3]))
    delta = jax.vmap(lambda w: jnp.abs(w - policy.critic.layers[0].weight).mean())(
        out.critic.layers[0].weight
    )
    assert delta[1] > delta[0] > 0


def test_bad_input(getkey):
    env = lerax.env.make("CartPole-v1")
    with pytest.raises(ValueError, match="num_batches"):
        PPO(num_envs=2, num_steps=10, num_batches=3)
    with pytest.raises(ValueError, match="learning_rate"):
        PPO(learning_rate=-1.0)
    with pytest.raises(ValueError, match="num_steps"):
        A2C(num_steps=0)
    with pytest.raises(ValueError, match="less than one iteration"):
        PPO(num_envs=2, num_steps=8, num_batches=1).learn(
            env, MLPActorCriticPolicy(env, key=getkey()), 10, key=getkey()
        )
    with pytest.raises(TypeError, match="AbstractActorCriticPolicy"):
        PPO().learn(env, MLPQPolicy(env, key=getkey()), 10_000, key=getkey())
    pendulum = lerax.env.make("Pendulum-v1")
    with pytest.raises(TypeError, match="action space"):
        PPO().learn(
            env, MLPActorCriticPolicy(pendulum, key=getkey()), 10_000, key=getkey()
        )
    for cls, kwargs, message in [
        (PPO, {"gamma": 2.0}, r"`PPO\(gamma=...\)` must be in \[0, 1\]"),
        (PPO, {"gae_lambda": -0.1}, "gae_lambda"),
        (A2C, {"max_grad_norm": -0.5}, r"`A2C\(max_grad_norm=...\)` must be > 0"),
        (REINFORCE, {"max_grad_norm": 0.0}, "max_grad_norm"),
        (REINFORCE, {"gamma": 1.5}, "gamma"),
        # what would train silently to a NaN policy
        (
            PPO,
            {"entropy_loss_coefficient": np.nan},
            r"coefficient=...\)` must be finite",
        ),
        (A2C, {"entropy_loss_coefficient": np.inf}, "must be finite"),
        (PPO, {"value_loss_coefficient": -1.0}, r"coefficient=...\)` must be >= 0"),
        (REINFORCE, {"value_loss_coefficient": np.nan}, "must be finite"),
        (PPO, {"learning_rate": np.inf}, r"`PPO\(learning_rate=...\)` must be finite"),
    ]:
        with pytest.raises(ValueError, match=message):
            cls(**kwargs)
    for cls, kwargs, message in [
        (PPO, {"learning_rate": "3e-4"}, "must be a number, got the string '3e-4'"),
        (A2C, {"gamma": "0.99"}, r"`A2C\(gamma=...\)` must be a number"),
        (PPO, {"normalize_advantages": "no"}, "must be True or False, got 'no'"),
        (REINFORCE, {"check_numerics": 1}, "check_numerics"),
        (PPO, {"gae_lambda": None}, r"`PPO\(gae_lambda=None\)`: .* needs a value"),
    ]:
        with pytest.raises(TypeError, match=message):
            cls(**kwargs)
    # an entropy penalty (a negative weight) is a choice, not a mistake
    assert PPO(entropy_loss_coefficient=-0.01).entropy_loss_coefficient == -0.01
    for cls in (PPO, A2C, REINFORCE):  # counts are Python ints, for every algorithm
        for name in ("num_epochs", "num_batches"):
            with pytest.raises(
                ValueError, match=rf"`{cls.__name__}\({name}=...\)`.*Pass a Python int"
            ):
                cls(**{name: jnp.array(1)})
    with pytest.raises(ValueError, match=r"must be 1 \(got 2 and 1\); use PPO"):
        A2C(num_epochs=2)
    with pytest.raises(
        ValueError, match=r"REINFORCE takes one full-batch .*got 1 and 4"
    ):
        REINFORCE(num_batches=4)
    with pytest.raises(ValueError, match="int32 step counters"):
        PPO().num_iterations(3_000_000_000)
    assert PPO(num_envs=2, num_steps=8, num_batches=2).num_iterations(np.int64(64)) == 4
    # `train` refuses what it cannot advance, before compiling
    algo = PPO(num_envs=2, num_steps=8, num_batches=2)
    state = algo.init(env, MLPActorCriticPolicy(env, key=getkey()), key=getkey())
    with pytest.raises(ValueError, match="must be an int >= 0, got -1"):
        algo.train(state, -1)
    with pytest.raises(
        TypeError, match=r"envs of shape \(2,\), but this algorithm has num_envs=8"
    ):
        PPO(num_envs=8, num_steps=8, num_batches=2).train(state, 1)
    with pytest.raises(TypeError, match="advances a `OffPolicyState`"):
        DQN().train(state, 1)
    # ... or a state whose arrays other settings shaped (A2C's RMSprop keeps
    # `nu` where PPO's Adam keeps `count`; no clipping, one chain link less)
    with pytest.raises(
        TypeError,
        match=r"opt_state does not fit this algorithm: it holds "
        r"`opt_state\[1\]\.inner_state\[0\]\.count` int32\[\] where `A2C` has "
        r"`opt_state\[1\]\.inner_state\[0\]\.nu` float32",
    ):
        A2C(num_envs=2, num_steps=8).train(state, 1)
    with pytest.raises(TypeError, match="opt_state does not fit .* `max_grad_norm`"):
        PPO(num_envs=2, num_steps=8, num_batches=2, max_grad_norm=None).train(state, 1)
    # recurrent minibatches are whole env sequences: `init` and `train` check
    recurrent = RecurrentActorCriticPolicy(env, hidden_size=8, key=getkey())
    uneven = PPO(num_envs=2, num_steps=8, num_batches=4)
    message = r"`num_batches` \(4\) must divide `num_envs` \(2\)"
    with pytest.raises(ValueError, match=message):
        uneven.init(env, recurrent, key=getkey())
    with pytest.raises(ValueError, match=message):
        uneven.train(algo.init(env, recurrent, key=getkey()), 1)
    # values to sweep train under `vmap`, not as one run
    swept = PPO(num_envs=2, num_steps=8, num_batches=2, learning_rate=jnp.ones(2))
    with pytest.raises(
        ValueError, match=r"`PPO\(learning_rate=...\)` has shape \(2,\), but a run"
    ):
        swept.train(state, 1)
    # a learning rate shapes nothing: the state trains on under another one
    other = PPO(num_envs=2, num_steps=8, num_batches=2, learning_rate=1e-4)
    assert int(other.train(state, 1)[0].iteration) == 1
    # evaluation checks the policy against the env
    with pytest.raises(TypeError, match="observation space .* does not fit"):
        evaluate_policy(pendulum, state.policy, key=getkey(), num_episodes=2)


def test_keys_must_be_one_prng_key(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    q_policy = MLPQPolicy(env, key=getkey())
    ppo = PPO(num_envs=2, num_steps=8, num_batches=2)
    dqn = DQN(num_envs=2, num_steps=8, learning_starts=16, batch_size=8)
    calls = {
        "PPO.learn": lambda key: ppo.learn(env, policy, 16, key=key),
        "PPO.init": lambda key: ppo.init(env, policy, key=key),
        "DQN.learn": lambda key: dqn.learn(env, q_policy, 32, key=key),
        "DQN.init": lambda key: dqn.init(env, q_policy, key=key),
    }
    for name, call in calls.items():
        for seed in (0, np.int64(3)):
            with pytest.raises(TypeError, match=rf"`{name}`: .* not an integer seed"):
                call(seed)
        for keys in (jr.split(getkey(), 3), jr.split(jr.PRNGKey(0), 3)):
            with pytest.raises(
                TypeError, match=r"one PRNG key, got a batch of shape \(3,( 2)?\)"
            ):
                call(keys)
        with pytest.raises(TypeError, match="got an array of dtype float32"):
            call(jnp.zeros(2))
    # both kinds of key are accepted, and give the same run
    typed = ppo.init(env, policy, key=jr.key(5))
    legacy = ppo.init(env, policy, key=jr.PRNGKey(5))
    assert np.array_equal(jr.key_data(typed.key), np.asarray(jr.key_data(legacy.key)))


def test_evaluate_policy_counts_whole_episodes(getkey):
    env = TimeLimit(Counter(), 9)
    policy = MLPActorCriticPolicy(env, key=getkey())
    returns, lengths = evaluate_policy(env, policy, key=getkey(), num_episodes=5)
    np.testing.assert_allclose(returns, 9.0)
    np.testing.assert_allclose(lengths, 9.0)
    # counts that are not ints >= 1 (returned zeros, or failed inside JAX)
    bad = [
        ("num_episodes", -1, ""),
        ("num_episodes", 2.0, ""),
        ("num_episodes", np.int64(4), "Python int"),
        ("max_steps", 0, ""),
        ("max_steps", -5, ""),
    ]
    for name, value, hint in bad:
        with pytest.raises(
            ValueError, match=rf"{name}=\.\.\.\) must be an int >= 1.*{hint}"
        ):
            evaluate_policy(env, policy, key=getkey(), **{name: value})


def test_evaluate_policy_equals_episodes_run_one_by_one(getkey):
    # Reference: each episode stepped alone, with the keys `evaluate_policy`
    # gives it, until it ends; episodes that end early must not be restarted
    # or stepped on (their returns and lengths are those of the first episode)
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    key = getkey()
    for deterministic in (True, False):
        returns, lengths = evaluate_policy(
            env, policy, key=key, num_episodes=6, deterministic=deterministic
        )
        expected = _episodes_one_by_one(env, policy, key, 6, deterministic)
        np.testing.assert_allclose(returns, expected[0], rtol=1e-6)
        np.testing.assert_array_equal(lengths, expected[1])
        assert len(set(np.asarray(lengths).tolist())) > 1  # they end at different steps
    # a cap cuts the episodes: partial returns
    returns, lengths = evaluate_policy(
        env, policy, key=key, num_episodes=6, max_steps=5
    )
    np.testing.assert_array_equal(lengths, 5.0)
    np.testing.assert_allclose(returns, 5.0)


def _episodes_one_by_one(env, policy, key, num_episodes, deterministic):
    from lerax.algorithm._collector import initial_carries
    from lerax.utils._prng import fused_keys

    carry_key, run_key = jr.split(key)
    carries = initial_carries(env, policy, num_episodes, key=carry_key)

    def split(key, _):
        key, step_key = jr.split(key)
        return key, jr.split(step_key, num_episodes)

    # the keys of the first 500 steps, [step, episode]
    keys = jax.jit(lambda k: jax.lax.scan(split, fused_keys(k), length=500)[1])(run_key)

    @jax.jit
    def step(state, obs, key):  # one compiled call per step, a Python loop
        act_key, _, env_key = (jr.fold_in(key, j) for j in range(3))
        _, action = policy(None, obs, key=None if deterministic else act_key)
        state, obs, reward, terminated, truncated, _ = env.step(
            state, action, key=env_key
        )
        return state, obs, reward, terminated | truncated

    returns, lengths = [], []
    for i in range(num_episodes):
        state = jax.tree.map(lambda x: x[i], carries.env_state)
        obs = carries.observation[i]
        total, t, done = 0.0, 0, False
        while not done:
            state, obs, reward, done = step(state, obs, keys[t, i])
            total, t = total + float(reward), t + 1
        returns.append(total)
        lengths.append(t)
    return np.array(returns), np.array(lengths, np.float32)


def test_non_finite_loss_raises_naming_the_quantity(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    broken = eqx.tree_at(
        lambda p: p.critic.layers[-1].bias, policy, jnp.full((1,), jnp.nan)
    )
    algo = PPO(
        num_envs=2, num_steps=8, num_batches=1, num_epochs=1, check_numerics=True
    )
    with pytest.raises(eqx.EquinoxRuntimeError, match="value_loss"):
        jax.block_until_ready(algo.train(algo.init(env, broken, key=getkey()), 1))
    # `learn` drops the metrics, so the check must ride on the parameters
    with pytest.raises(eqx.EquinoxRuntimeError, match="value_loss"):
        jax.block_until_ready(algo.learn(env, broken, 32, key=getkey()))
    # off by default: the same run goes through (and yields NaN parameters)
    quiet = PPO(num_envs=2, num_steps=8, num_batches=1, num_epochs=1)
    trained = quiet.learn(env, broken, 32, key=getkey())
    assert np.isnan(np.asarray(trained.critic.layers[-1].bias)).all()


def test_require_finite_names_every_non_finite_quantity():
    """The shared check behind `check_numerics`: the message lists exactly
    the non-finite values in order; finite values pass the carrier through;
    past `_MAX_NAMED` values it names the first non-finite one."""
    from lerax.algorithm._base import _MAX_NAMED, require_finite

    carrier = {"w": jnp.arange(3.0)}

    @eqx.filter_jit
    def check(a, b, c):
        return require_finite("Algo", {"a": a, "b": b, "c": c}, carrier)

    out = check(1.0, jnp.ones(2), 2.0)
    np.testing.assert_array_equal(out["w"], carrier["w"])
    with pytest.raises(
        eqx.EquinoxRuntimeError, match=r"Algo: not finite \(NaN or inf\): `a`, `c`\."
    ):
        jax.block_until_ready(check(jnp.nan, jnp.ones(2), jnp.inf))
    with pytest.raises(
        eqx.EquinoxRuntimeError, match=r"not finite \(NaN or inf\): `b`\."
    ):
        jax.block_until_ready(check(1.0, jnp.array([1.0, jnp.nan]), 2.0))

    many = {f"v{i}": jnp.float32(i) for i in range(_MAX_NAMED + 1)}
    many["v7"] = jnp.float32(jnp.nan)
    many["v9"] = jnp.float32(jnp.nan)
    with pytest.raises(eqx.EquinoxRuntimeError, match="`v7` is not finite"):
        jax.block_until_ready(
            eqx.filter_jit(lambda v: require_finite("Algo", v, carrier))(many)
        )


def test_a2c_optimisers_use_sb3_epsilons():
    # first step of Adam: -lr * g / (|g| + eps); SB3's A2C uses eps 1e-5 for
    # both RMSprop (outside the square root) and Adam
    g = jnp.array([1e-6, 1e-5, 1e-3])
    adam = A2C(use_rms_prop=False).base_optimizer(1.0)
    updates, _ = adam.update(g, adam.init(jnp.zeros(3)))
    np.testing.assert_allclose(updates, -g / (np.abs(g) + 1e-5), rtol=1e-4)
    rmsprop = A2C().base_optimizer(1.0)
    updates, _ = rmsprop.update(g, rmsprop.init(jnp.zeros(3)))
    np.testing.assert_allclose(updates, -g / (np.sqrt(0.01 * g**2) + 1e-5), rtol=1e-4)


def test_budgets_in_any_integer_form_train_alike_and_others_are_named(getkey):
    # NumPy integers and whole floats (1e5, as budgets are often written) are
    # the same budget as the int: an np.int64 used to be traced inside `learn`
    # and refused as "got JitTracer"; 2.5 was truncated by `init`, '1' parsed
    env = lerax.env.make("CartPole-v1")
    algo = PPO(num_envs=2, num_steps=8, num_batches=2, num_epochs=1)
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    reference = algo.learn(env, policy, 32, key=jr.key(1))
    for budget in (np.int64(32), 32.0, np.float32(32.0)):
        trained = algo.learn(env, policy, budget, key=jr.key(1))
        assert eqx.tree_equal(trained, reference), budget
    assert algo.num_iterations(1e3) == 62
    dqn = DQN(learning_starts=100, batch_size=32, buffer_size=1000)
    q = MLPQPolicy(env, key=getkey())
    assert int(dqn.init(env, q, key=getkey(), total_timesteps=1e4).total_timesteps) == (
        10_000
    )
    for budget, error, match in [
        (2.5, ValueError, "whole number of steps, got 2.5"),
        (-5, ValueError, ">= 0, got -5"),
        ("1", TypeError, "must be an int, got '1'"),
        (True, TypeError, "must be an int, got True"),
        (2**40, ValueError, "does not fit the int32 step counters"),
    ]:
        with pytest.raises(error, match=match):
            algo.learn(env, policy, budget, key=getkey())
        with pytest.raises(error, match=match):
            dqn.init(env, q, key=getkey(), total_timesteps=budget)
        with pytest.raises(error, match=match):
            algo.init(env, policy, key=getkey(), total_timesteps=budget)
    with pytest.raises(TypeError, match="a JAX array: pass a Python int"):
        algo.learn(env, policy, jnp.int32(64), key=getkey())
    # an int32 array may be vmapped over (a swept exploration schedule)
    totals = jax.vmap(
        lambda t: dqn.init(env, q, key=jr.key(0), total_timesteps=t).total_timesteps
    )(jnp.array([500, 600]))
    assert totals.tolist() == [500, 600]


def test_numpy_integer_sizes_are_taken_as_ints():
    # sizes from `np.arange` or a sweep table (NumPy integers, which Equinox
    # treats as arrays) train exactly as the same Python ints
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    sizes = dict(num_envs=2, num_steps=8, num_epochs=2, num_batches=2)
    # ... and so do switches given as NumPy booleans (they used to be traced
    # inside `learn`, which then failed on `if self.check_numerics`)
    switches = dict(normalize_advantages=True, check_numerics=False)
    plain = PPO(**sizes, **switches)
    numpy = PPO(
        **{name: np.int64(value) for name, value in sizes.items()},
        **{name: np.bool_(value) for name, value in switches.items()},
    )
    assert numpy == plain
    assert all(type(getattr(numpy, name)) is int for name in sizes)
    assert all(type(getattr(numpy, name)) is bool for name in switches)
    trained = [algo.learn(env, policy, 32, key=jr.key(1)) for algo in (plain, numpy)]
    assert eqx.tree_equal(*trained)
    off = DQN(
        buffer_size=np.int32(64), batch_size=np.int16(8), learning_starts=np.uint8(8)
    )
    assert (off.buffer_size, off.batch_size, off.learning_starts) == (64, 8, 8)
    assert type(off.learning_starts) is int
    assert type(DQN(double_q=np.True_).double_q) is bool
