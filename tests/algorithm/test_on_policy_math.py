"""On-policy updates number for number against re-derivations of
Stable-Baselines3's (PPO.train, A2C.train), stepped by torch's optimisers."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import torch
from jax.flatten_util import ravel_pytree

import lerax.env
from lerax.algorithm import A2C, PPO
from lerax.policy import MLPActorCriticPolicy, RecurrentActorCriticPolicy
from lerax.wrapper import TimeLimit

from .envs import MaskedMatch
from .test_on_policy import rollout_buffer


def sb3_loss(algo, clip, policy, batch):
    """SB3's PPO (`clip` a float) or A2C (`clip` None) loss on a flat batch."""
    evaluate = jax.vmap(
        lambda o, a, m: policy.evaluate_action(None, o, a, action_mask=m)[1:]
    )
    values, log_probs, entropies = evaluate(
        batch["observations"], batch["actions"], batch["action_masks"]
    )
    advantages = batch["advantages"]
    if algo.normalize_advantages:  # torch's std is the unbiased one
        advantages = (advantages - advantages.mean()) / (
            jnp.std(advantages, ddof=1) + 1e-8
        )
    if clip is None:
        policy_loss = -jnp.mean(advantages * log_probs)
    else:
        ratio = jnp.exp(log_probs - batch["log_probs"])
        policy_loss = -jnp.mean(
            jnp.minimum(
                advantages * ratio, advantages * jnp.clip(ratio, 1 - clip, 1 + clip)
            )
        )
    return (
        policy_loss
        + algo.entropy_loss_coefficient * -jnp.mean(entropies)
        + algo.value_loss_coefficient * jnp.mean((batch["returns"] - values) ** 2)
    )


def torch_step(optimiser, theta, grad, max_grad_norm):
    optimiser.zero_grad()
    theta.grad = torch.tensor(np.asarray(grad, np.float64))
    torch.nn.utils.clip_grad_norm_([theta], max_grad_norm)
    optimiser.step()


def flat_params(policy):
    return ravel_pytree(eqx.filter(policy, eqx.is_inexact_array))[0]


def test_ppo_update_matches_sb3_with_a_clip_range_schedule():
    # 3 epochs of 4 minibatches at a high rate, so ratios leave the clip
    # range; the clip range follows a schedule of optimiser updates (a
    # schedule was accepted, then failed to trace: `1.0 - function`)
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, value_width=16, action_width=16, key=jr.key(0))
    schedule = optax.linear_schedule(0.3, 0.02, 10)
    algo = PPO(
        num_envs=2,
        num_steps=16,
        num_batches=4,
        num_epochs=3,
        learning_rate=3e-2,
        entropy_loss_coefficient=0.01,
        clip_coefficient=schedule,
    )
    buffer, _ = rollout_buffer(algo, env, policy, jr.key(1))
    opt_state = algo._init_opt(policy)
    key = jr.key(7)
    updated, _, metrics = algo._update(policy, opt_state, buffer, key)
    assert float(metrics["clip_fraction"]) > 0.1  # the clip range matters

    params, static = eqx.partition(policy, eqx.is_inexact_array)
    flat, unravel = ravel_pytree(params)
    theta = torch.tensor(np.asarray(flat, np.float64), requires_grad=True)
    adam = torch.optim.Adam([theta], lr=3e-2, eps=1e-5)  # SB3's eps
    grad = jax.jit(
        jax.grad(
            lambda p, b, clip: sb3_loss(algo, clip, eqx.combine(unravel(p), static), b)
        )
    )
    count = 0
    for epoch_key in jr.split(key, algo.num_epochs):
        batches = buffer.transitions(algo.num_batches, key=epoch_key)
        for i in range(algo.num_batches):
            batch = jax.tree.map(lambda x: x[i], batches)
            current = jnp.asarray(theta.detach().numpy(), jnp.float32)
            torch_step(adam, theta, grad(current, batch, schedule(count)), 0.5)
            count += 1
    np.testing.assert_allclose(
        flat_params(updated), theta.detach().numpy(), rtol=0, atol=2e-5
    )
    # a different clip range gives different parameters: the test can tell
    fixed = dataclasses.replace(algo, clip_coefficient=0.3)
    other, _, _ = fixed._update(policy, opt_state, buffer, key)
    assert np.abs(flat_params(other) - theta.detach().numpy()).max() > 1e-2
    # the value clip range may follow a schedule too
    values = PPO(clip_value_loss=True, value_clip_coefficient=schedule)
    np.testing.assert_allclose(
        values.at_update(jnp.array(4)).value_clip_coefficient, schedule(4)
    )


def test_a2c_rmsprop_steps_match_torch():
    # torch's RMSprop(alpha=0.99, eps=1e-5) adds eps outside the square
    # root; four steps so the second-moment average matters
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, value_width=16, action_width=16, key=jr.key(0))
    algo = A2C(num_envs=2, num_steps=5, learning_rate=1e-2)
    buffer, _ = rollout_buffer(algo, env, policy, jr.key(1))
    opt_state = algo._init_opt(policy)
    params, static = eqx.partition(policy, eqx.is_inexact_array)
    flat, unravel = ravel_pytree(params)
    theta = torch.tensor(np.asarray(flat, np.float64), requires_grad=True)
    rmsprop = torch.optim.RMSprop([theta], lr=1e-2, alpha=0.99, eps=1e-5)
    batch = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), buffer._per_step())
    grad = jax.jit(
        jax.grad(lambda p: sb3_loss(algo, None, eqx.combine(unravel(p), static), batch))
    )
    update = eqx.filter_jit(algo._update)
    for step in range(4):
        policy, opt_state, _ = update(policy, opt_state, buffer, jr.key(step))
        current = jnp.asarray(theta.detach().numpy(), jnp.float32)
        torch_step(rmsprop, theta, grad(current), 0.5)
    np.testing.assert_allclose(
        flat_params(policy), theta.detach().numpy(), rtol=0, atol=2e-5
    )


def test_recurrent_loss_reproduces_the_collected_values_and_log_probs():
    # before any update the loss re-runs the core over each whole env
    # sequence from its stored start state, restarting at episode starts,
    # and must find what the collector computed step by step (ratio 1);
    # with action masks and episodes ending inside the rollout
    env = TimeLimit(MaskedMatch(), 5)
    policy = RecurrentActorCriticPolicy(
        env, cell="lstm", hidden_size=8, feature_width=8, value_width=8, key=jr.key(0)
    )
    algo = PPO(num_envs=4, num_steps=12, num_batches=2)
    buffer, transitions = rollout_buffer(algo, env, policy, jr.key(1))
    assert int(np.asarray(transitions.episode_start[1:]).sum()) >= 4
    batches = buffer.sequences(2, key=jr.key(2))
    for i in range(2):
        batch = jax.tree.map(lambda x: x[i], batches)
        values, log_probs, _ = algo._evaluate(policy, batch, True)
        np.testing.assert_allclose(values, batch["values"].reshape(-1), atol=1e-6)
        np.testing.assert_allclose(log_probs, batch["log_probs"].reshape(-1), atol=1e-6)


def test_advantages_and_returns_match_sb3_rollout_buffer():
    # three envs, episodes terminating and truncated by the time limit in
    # the middle of the rollout; SB3 adds gamma * V(terminal observation)
    # to a truncated step's reward, then runs its buffer's GAE
    import gymnasium as gym
    from stable_baselines3.common.buffers import RolloutBuffer as SB3RolloutBuffer

    env = TimeLimit(lerax.env.make("CartPole-v1"), 14)
    policy = MLPActorCriticPolicy(env, value_width=16, action_width=16, key=jr.key(0))
    algo = PPO(num_envs=3, num_steps=40, num_batches=1, gamma=0.9, gae_lambda=0.8)
    buffer, transitions = rollout_buffer(algo, env, policy, jr.key(2))
    terminated = np.asarray(transitions.terminated)
    truncated = np.asarray(transitions.truncated) & ~terminated
    assert terminated[:-1].any() and truncated[:-1].any()

    value = jax.vmap(jax.vmap(lambda o: policy.value(None, o)[1]))
    final_values = np.asarray(value(transitions.final_observation))
    rewards = np.asarray(transitions.reward) + np.where(
        truncated, 0.9 * final_values, 0.0
    )
    sb3 = SB3RolloutBuffer(
        40,
        gym.spaces.Box(-np.inf, np.inf, (4,)),
        gym.spaces.Discrete(2),
        "cpu",
        gae_lambda=0.8,
        gamma=0.9,
        n_envs=3,
    )
    for t in range(40):
        sb3.add(
            np.asarray(transitions.observation[t]),
            np.asarray(transitions.action[t])[:, None],
            rewards[t],
            np.asarray(transitions.episode_start[t]),
            torch.tensor(np.asarray(transitions.extras["value"][t])),
            torch.tensor(np.asarray(transitions.extras["log_prob"][t])),
        )
    # the value after the last step (not used where that step ended)
    last = final_values[-1]
    sb3.compute_returns_and_advantage(
        torch.tensor(last), np.asarray(transitions.done[-1])
    )
    np.testing.assert_allclose(buffer.rewards, rewards, rtol=1e-6)
    np.testing.assert_allclose(buffer.advantages, sb3.advantages, atol=2e-6)
    np.testing.assert_allclose(buffer.returns, sb3.returns, atol=2e-6)
