"""One gradient step of each off-policy algorithm against an oracle: the
same networks and batch run through PyTorch as Stable-Baselines3 2.x's
`train` computes them (DQN, TD3, DDPG), or a NumPy re-derivation of the
paper's formulas (SAC-Discrete); and the loops' bookkeeping against SB3's
counting rules."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import torch as th
import torch.nn.functional as F
from stable_baselines3.common.utils import polyak_update

import lerax.env
from lerax.algorithm import DDPG, DQN, TD3, SACDiscrete
from lerax.algorithm._sac_discrete import _expect
from lerax.policy import MLPDeterministicPolicy, MLPDiscreteSACPolicy, MLPQPolicy
from lerax.space import Box, Discrete

B = 16  # transitions per batch


def torch_mlp(network, final=None) -> th.nn.Sequential:
    """A PyTorch copy of an `eqx.nn.MLP` with ReLU hidden activations (the
    weights are laid out `(out, in)` in both)."""
    modules = []
    for i, layer in enumerate(network.layers):
        linear = th.nn.Linear(layer.in_features, layer.out_features)
        with th.no_grad():
            linear.weight.copy_(th.tensor(np.asarray(layer.weight)))
            linear.bias.copy_(th.tensor(np.asarray(layer.bias)))
        modules.append(linear)
        if i < len(network.layers) - 1:
            modules.append(th.nn.ReLU())
    if final is not None:
        modules.append(final)
    return th.nn.Sequential(*modules)


def assert_same_weights(network, torch_network, atol=2e-6):
    linears = [m for m in torch_network if isinstance(m, th.nn.Linear)]
    assert len(linears) == len(network.layers)
    for layer, linear in zip(network.layers, linears):
        np.testing.assert_allclose(
            np.asarray(layer.weight), linear.weight.detach().numpy(), atol=atol
        )
        np.testing.assert_allclose(
            np.asarray(layer.bias), linear.bias.detach().numpy(), atol=atol
        )


def stacked(critics, index):
    """One critic of a stacked pair."""
    return jax.tree.map(lambda x: x[index] if eqx.is_array(x) else x, critics)


def random_batch(key, obs_size, actions, **extra):
    k = jr.split(key, 5)
    return (
        dict(
            observations=jr.normal(k[0], (B, obs_size)) * 2,
            actions=actions,
            rewards=jr.normal(k[1], (B,)) * 3,
            next_observations=jr.normal(k[2], (B, obs_size)) * 2,
            terminated=jr.bernoulli(k[3], 0.3, (B,)),
            action_masks=None,
            next_action_masks=None,
            policy_states=None,
            next_policy_states=None,
        )
        | extra
    )


@pytest.mark.parametrize("double_q", [False, True])
def test_dqn_updates_as_sb3_computes_them(double_q, getkey):
    # SB3's DQN.train: target r + gamma (1 - terminated) max_a Q_target(s', a)
    # (double: the online argmax, evaluated by the target), smooth L1 with
    # beta 1 averaged over the batch, `clip_grad_norm_` at max_grad_norm,
    # Adam; two steps so that the clipping shows through Adam. Here with a
    # next-state mask too, which SB3 lacks: masked actions are left out of
    # the max (and of double Q's argmax).
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, width_size=8, key=getkey())
    target = MLPQPolicy(env, width_size=8, key=getkey())
    algo = DQN(
        buffer_size=64,
        batch_size=B,
        learning_starts=B,
        learning_rate=1e-2,
        max_grad_norm=0.5,
        gamma=0.9,
        double_q=double_q,
    )
    next_masks = np.array(jr.bernoulli(getkey(), 0.6, (B, 2)))
    next_masks[:, 0] |= ~next_masks[:, 1]  # at least one allowed action
    batch = random_batch(
        getkey(),
        4,
        jr.randint(getkey(), (B,), 0, 2),
        next_action_masks=jnp.asarray(next_masks),
    )
    learner = algo.init_learner(env, policy, key=getkey())
    learner = eqx.tree_at(lambda l: l.target_policy, learner, target)
    update = eqx.filter_jit(algo.update)
    losses = []
    for step in range(2):
        learner, metrics = update(learner, batch, key=getkey(), step=jnp.int32(step))
        losses.append(float(metrics["loss"]))

    q_net, q_target = torch_mlp(policy.q_network), torch_mlp(target.q_network)
    optimizer = th.optim.Adam(q_net.parameters(), lr=1e-2)
    t = {k: th.tensor(np.asarray(v)) for k, v in batch.items() if v is not None}
    mask = th.tensor(next_masks)
    expected = []
    for _ in range(2):
        with th.no_grad():
            next_q = q_target(t["next_observations"]).masked_fill(~mask, -th.inf)
            if double_q:
                online = q_net(t["next_observations"]).masked_fill(~mask, -th.inf)
                best = online.argmax(dim=1, keepdim=True)
                next_q = th.gather(next_q, 1, best)[:, 0]
            else:
                next_q = next_q.max(dim=1).values
            y = t["rewards"] + 0.9 * (1 - t["terminated"].float()) * next_q
        chosen = th.gather(q_net(t["observations"]), 1, t["actions"].long()[:, None])
        loss = F.smooth_l1_loss(chosen[:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        th.nn.utils.clip_grad_norm_(q_net.parameters(), 0.5)
        optimizer.step()
        expected.append(loss.item())
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    assert_same_weights(learner.policy.q_network, q_net)
    # the target is copied in the loop (see below), not in a gradient step
    assert_same_weights(learner.target_policy.q_network, q_target, atol=0)


@pytest.mark.parametrize("algo_cls", [TD3, DDPG])
def test_deterministic_actor_critics_update_as_sb3_computes_them(algo_cls, getkey):
    # SB3's TD3.train (DDPG: one critic, no smoothing, delay 1): target
    # actions smoothed by clipped noise, then clipped to the box; the minimum
    # of the target critics; critic loss the sum of the critics' MSEs;
    # actor loss -mean Q1(s, pi(s)) with the updated critics; actor and
    # targets (tau) on every `policy_delay`-th step. Two steps: the first is
    # delayed for TD3. SB3 works on actions rescaled to [-1, 1] and lerax on
    # env units; the noise is drawn in scaled units here and mapped to env
    # units for lerax's critics (the same key gives the same noise).
    env = lerax.env.make("Pendulum-v1")  # actions in [-2, 2]
    twin = algo_cls is TD3
    kwargs = dict(policy_noise=0.3, noise_clip=0.4) if twin else {}
    algo = algo_cls(
        buffer_size=64,
        batch_size=B,
        learning_starts=B,
        q_width_size=8,
        gamma=0.9,
        tau=0.1,
        actor_lr=1e-2,
        q_lr=2e-2,
        **kwargs,
    )
    policy = MLPDeterministicPolicy(env, width_size=8, key=getkey())
    target_policy = MLPDeterministicPolicy(env, width_size=8, key=getkey())
    learner = algo.init_learner(env, policy, key=getkey())
    target_critics = algo.init_learner(env, policy, key=getkey()).critics
    learner = eqx.tree_at(
        lambda l: (l.target_policy, l.target_critics),
        learner,
        (target_policy, target_critics),
    )
    critics = learner.critics
    batch = random_batch(getkey(), 3, jr.uniform(getkey(), (B, 1), minval=-2, maxval=2))
    keys = [getkey(), getkey()]
    update = eqx.filter_jit(algo.update)
    q_losses, pi_losses = [], []
    for step, key in enumerate(keys):
        learner, metrics = update(learner, batch, key=key, step=jnp.int32(step))
        q_losses.append(float(metrics["q_loss"]))
        pi_losses.append(float(metrics["policy_loss"]))

    count = 2 if twin else 1
    actor = torch_mlp(policy.network, th.nn.Tanh())  # in scaled units
    actor_target = torch_mlp(target_policy.network, th.nn.Tanh())
    qs = [torch_mlp(stacked(critics, i).network) for i in range(count)]
    qs_target = [torch_mlp(stacked(target_critics, i).network) for i in range(count)]
    actor_opt = th.optim.Adam(actor.parameters(), lr=1e-2)
    critic_opt = th.optim.Adam([p for q in qs for p in q.parameters()], lr=2e-2)
    t = {k: th.tensor(np.asarray(v)) for k, v in batch.items() if v is not None}
    scale = 2.0  # env action = scale * scaled action
    value = lambda nets, o, a: [q(th.cat([o, a * scale], 1)) for q in nets]  # noqa: E731
    expected_q, expected_pi = [], []
    for step, key in enumerate(keys):
        with th.no_grad():
            next_actions = actor_target(t["next_observations"])
            if twin:
                noise = th.tensor(np.asarray(jr.normal(key, (B, 1)))) * 0.3
                noise = noise.clamp(-0.4, 0.4)
                next_actions = (next_actions + noise).clamp(-1, 1)
            next_q = th.cat(value(qs_target, t["next_observations"], next_actions), 1)
            next_q = next_q.min(dim=1).values
            y = t["rewards"] + 0.9 * (1 - t["terminated"].float()) * next_q
        current = value(qs, t["observations"], t["actions"] / scale)
        critic_loss = sum(F.mse_loss(q[:, 0], y) for q in current)
        critic_opt.zero_grad()
        critic_loss.backward()
        critic_opt.step()
        expected_q.append(critic_loss.item())
        actor_loss = -value(qs[:1], t["observations"], actor(t["observations"]))[
            0
        ].mean()
        expected_pi.append(actor_loss.item())
        if not twin or (step + 1) % 2 == 0:
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            with th.no_grad():
                for q, q_t in zip(qs, qs_target):
                    polyak_update(q.parameters(), q_t.parameters(), 0.1)
                polyak_update(actor.parameters(), actor_target.parameters(), 0.1)
    np.testing.assert_allclose(q_losses, expected_q, rtol=1e-5)
    np.testing.assert_allclose(pi_losses, expected_pi, rtol=1e-5, atol=1e-6)
    assert_same_weights(learner.policy.network, actor)
    assert_same_weights(learner.target_policy.network, actor_target)
    for i in range(count):
        assert_same_weights(stacked(learner.critics, i).network, qs[i])
        assert_same_weights(stacked(learner.target_critics, i).network, qs_target[i])


def test_sac_discrete_update_matches_the_papers_formulas(getkey):
    # Christodoulou (2019): target r + gamma (1 - d) sum_a pi(a|s') [min
    # Q_targ(s', a) - alpha log pi(a|s')]; critic loss the two critics' MSEs
    # on the stored action; actor loss mean_s sum_a pi(a|s) [alpha log pi(a|s)
    # - min Q(s, a)] with the updated critics; log alpha descends
    # mean_s (H(s) - target(s)), target(s) = scale * log(allowed actions);
    # Polyak targets. Masked actions (pi = 0, log pi = -inf) add nothing, and
    # nothing is NaN. Re-derived in NumPy (float64), one Adam step
    # (update = -lr * g / (|g| + eps)).
    n = 4
    spaces = (Box(-np.inf, np.inf, (3,)), Discrete(n))

    class Spaces:
        observation_space, action_space = spaces

    policy = MLPDiscreteSACPolicy(spaces, width_size=8, key=getkey())
    # a peaked policy (the default output gain makes it near uniform)
    policy = eqx.tree_at(
        lambda p: p.network.layers[-1].weight,
        policy,
        policy.network.layers[-1].weight * 100,
    )
    algo = SACDiscrete(
        buffer_size=64,
        batch_size=B,
        learning_starts=B,
        q_width_size=8,
        gamma=0.9,
        tau=0.1,
        policy_lr=1e-2,
        q_lr=2e-2,
        alpha_lr=3e-2,
        initial_alpha=0.3,
        target_entropy_scale=0.7,
    )
    learner = algo.init_learner(Spaces(), policy, key=getkey())
    target_critics = algo.init_learner(Spaces(), policy, key=getkey()).critics
    learner = eqx.tree_at(lambda l: l.target_critics, learner, target_critics)
    actions = jr.randint(getkey(), (B,), 0, n)
    masks = np.array(jr.bernoulli(getkey(), 0.5, (B, n)))
    masks[np.arange(B), np.asarray(actions)] = True  # the taken action allowed
    next_masks = np.array(jr.bernoulli(getkey(), 0.5, (B, n)))
    next_masks[:, 0] = True
    batch = random_batch(
        getkey(),
        3,
        actions,
        action_masks=jnp.asarray(masks),
        next_action_masks=jnp.asarray(next_masks),
    )
    new, metrics = eqx.filter_jit(algo.update)(
        learner, batch, key=getkey(), step=jnp.int32(0)
    )

    f64 = lambda x: np.asarray(x, np.float64)  # noqa: E731
    leaves = lambda t: [
        f64(x) for x in jax.tree.leaves(eqx.filter(t, eqx.is_inexact_array))
    ]  # noqa: E731
    alpha, gamma, tau = 0.3, 0.9, 0.1

    def log_pi(observations, mask):
        logits = f64(jax.vmap(policy.network)(observations))
        logits = np.where(mask, logits, -np.inf)
        shifted = logits - logits.max(-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))

    def q_values(critics, observations):  # [B, 2, n]
        return f64(
            jax.vmap(lambda o: eqx.filter_vmap(lambda c: c(o))(critics))(observations)
        )

    def expect(p, v):  # 0 * (-inf) terms are 0
        return np.sum(np.where(p > 0, p * np.where(p > 0, v, 0), 0), -1)

    next_log_pi = log_pi(batch["next_observations"], next_masks)
    next_q = q_values(target_critics, batch["next_observations"]).min(1)
    soft_v = expect(np.exp(next_log_pi), next_q - alpha * next_log_pi)
    y = f64(batch["rewards"]) + gamma * (1 - f64(batch["terminated"])) * soft_v

    def adam(params, grads, lr):
        return [p - lr * g / (np.abs(g) + 1e-8) for p, g in zip(params, grads)]

    params, static = eqx.partition(learner.critics, eqx.is_inexact_array)

    def critic_loss(params):
        q = jax.vmap(
            lambda o: eqx.filter_vmap(lambda c: c(o))(eqx.combine(params, static))
        )(batch["observations"])
        chosen = q[jnp.arange(B), :, actions]
        y32 = jnp.asarray(y, jnp.float32)
        return jnp.mean((chosen[:, 0] - y32) ** 2) + jnp.mean((chosen[:, 1] - y32) ** 2)

    q_loss, grads = jax.value_and_grad(critic_loss)(params)
    critics = adam(leaves(learner.critics), leaves(grads), 2e-2)
    np.testing.assert_allclose(metrics["q_loss"], q_loss, rtol=1e-5)
    for got, want in zip(leaves(new.critics), critics):
        np.testing.assert_allclose(got, want, atol=2e-6)
    for got, old, want in zip(
        leaves(new.target_critics), leaves(target_critics), critics
    ):
        np.testing.assert_allclose(got, tau * want + (1 - tau) * old, atol=1e-6)

    min_q = jnp.asarray(
        q_values(new.critics, batch["observations"]).min(1), jnp.float32
    )
    params, static = eqx.partition(policy, eqx.is_inexact_array)

    def actor_loss(params):
        logits = jax.vmap(eqx.combine(params, static).network)(batch["observations"])
        log_p = jax.nn.log_softmax(jnp.where(masks, logits, -1e30))
        return jnp.mean(jnp.sum(jnp.exp(log_p) * (alpha * log_p - min_q), -1))

    pi_loss, grads = jax.value_and_grad(actor_loss)(params)
    np.testing.assert_allclose(metrics["policy_loss"], pi_loss, rtol=1e-5)
    for got, want in zip(leaves(new.policy), adam(leaves(policy), leaves(grads), 1e-2)):
        np.testing.assert_allclose(got, want, atol=2e-6)

    current = log_pi(batch["observations"], masks)
    entropy = -expect(np.exp(current), current)
    np.testing.assert_allclose(metrics["entropy"], entropy.mean(), rtol=1e-5)
    gap = np.mean(entropy - 0.7 * np.log(masks.sum(-1)))
    np.testing.assert_allclose(
        new.log_alpha, np.log(alpha) - 3e-2 * np.sign(gap), rtol=1e-6
    )


def test_sac_discrete_expectation_drops_masked_terms_only():
    # `_expect` zeroes a term whose probability is 0 (a masked action, whose
    # value is -inf or NaN after `alpha * log pi`), but a NaN probability is
    # not dropped: it makes the expectation NaN, so a broken policy shows
    p = jnp.array([[0.5, 0.0, 0.5], [0.5, jnp.nan, 0.5]])
    v = jnp.array([[1.0, -jnp.inf, 3.0], [1.0, 2.0, 3.0]])
    out = np.asarray(_expect(p, v))
    assert out[0] == 2.0
    assert np.isnan(out[1])
    assert (
        float(_expect(jnp.array([0.5, 0.0, 0.5]), jnp.array([1.0, jnp.nan, 3.0])))
        == 2.0
    )


@pytest.mark.parametrize("num_envs, num_steps", [(1, 4), (3, 1)])
def test_dqn_target_copies_follow_sb3s_count(num_envs, num_steps, getkey):
    # SB3's DQN copies the target in `_on_step`, on every `max(interval //
    # n_envs, 1)`-th vectorised step, during collection: the copy is the
    # online network as the previous iteration's gradient steps left it.
    # Interval 10, one env: vectorised step 10 falls in iteration 2 (steps
    # 9-12); three envs: every 3rd vectorised step (9 env steps, not 10).
    env = lerax.env.make("CartPole-v1")
    interval = 10
    algo = DQN(
        num_envs=num_envs,
        num_steps=num_steps,
        buffer_size=64,
        batch_size=4,
        learning_starts=4,
        target_update_interval=interval,
        learning_rate=1e-2,
    )
    policy = MLPQPolicy(env, width_size=8, key=getkey())
    state = algo.init(env, policy, key=getkey(), total_timesteps=1000)
    train = eqx.filter_jit(lambda s: algo.train(s, 1)[0])
    period = max(interval // num_envs, 1)  # vectorised steps
    weight = lambda p: np.asarray(p.q_network.layers[0].weight)  # noqa: E731
    copies = []
    for it in range(8):
        online, target = weight(state.policy), weight(state.learner.target_policy)
        state = train(state)
        vec_steps = range(it * num_steps + 1, (it + 1) * num_steps + 1)
        copied = any(n % period == 0 for n in vec_steps)
        expected = online if copied else target
        np.testing.assert_array_equal(weight(state.learner.target_policy), expected)
        copies.append(copied)
    assert any(copies) and not all(copies)


def test_dqn_target_keeps_a_nan_of_the_target_network_visible(getkey):
    # only a next state with no allowed action (max = -inf) adds nothing to
    # the target; a NaN target network used to be replaced by 0 there too,
    # which hid it from the loss (and from `check_numerics`)
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, width_size=8, key=getkey())
    algo = DQN(buffer_size=64, batch_size=B, learning_starts=B)
    learner = algo.init_learner(env, policy, key=getkey())
    broken = eqx.tree_at(
        lambda p: p.q_network.layers[-1].bias, policy, jnp.array([jnp.nan, 0.0])
    )
    batch = random_batch(getkey(), 4, jnp.zeros((B,), jnp.int32))
    batch["terminated"] = jnp.zeros((B,), bool)
    nan_target = eqx.tree_at(lambda l: l.target_policy, learner, broken)
    _, metrics = algo.update(nan_target, batch, key=getkey(), step=jnp.int32(0))
    assert np.isnan(float(metrics["loss"]))
    # a next state whose actions are all masked bootstraps nothing
    masked = dict(batch, next_action_masks=jnp.zeros((B, 2), bool))
    _, metrics = algo.update(learner, masked, key=getkey(), step=jnp.int32(0))
    q = jax.vmap(policy.q_network)(batch["observations"])[:, 0]
    expected = np.mean(
        np.where(
            np.abs(q - batch["rewards"]) < 1,
            0.5 * (q - batch["rewards"]) ** 2,
            np.abs(q - batch["rewards"]) - 0.5,
        )
    )
    np.testing.assert_allclose(metrics["loss"], expected, rtol=1e-5)


def test_td3_smoothing_noise_is_finite_for_bounds_near_the_float32_limit(getkey):
    # half the range was computed as (high - low) / 2, which overflows for
    # bounds of +-3e38: the noise became +-inf and every smoothed target
    # action a bound. Critics Q(s, a) = 1e-30 * a (one linear layer) and a
    # target actor at the centre (0) make the target y = gamma * 1e-30 *
    # clip(noise), so the loss of critics that output 0 shows the noise.
    bound = 3e38
    spaces = (Box(-1.0, 1.0, (3,)), Box(-bound, bound, (1,)))

    class Spaces:
        observation_space, action_space = spaces

    policy = MLPDeterministicPolicy(spaces, width_size=8, key=getkey())
    policy = eqx.tree_at(
        lambda p: (p.network.layers[-1].weight, p.network.layers[-1].bias),
        policy,
        (
            jnp.zeros_like(policy.network.layers[-1].weight),
            jnp.zeros_like(policy.network.layers[-1].bias),
        ),
    )
    algo = TD3(buffer_size=64, batch_size=B, learning_starts=B, q_depth=0)
    learner = algo.init_learner(Spaces(), policy, key=getkey())
    weight = learner.critics.network.layers[0].weight
    zero = lambda c: eqx.tree_at(  # noqa: E731
        lambda c: (c.network.layers[0].weight, c.network.layers[0].bias),
        c,
        (jnp.zeros_like(weight), jnp.zeros_like(c.network.layers[0].bias)),
    )
    linear = eqx.tree_at(
        lambda c: c.network.layers[0].weight,
        zero(learner.critics),
        jnp.zeros_like(weight).at[:, 0, 3].set(1e-30),
    )
    learner = eqx.tree_at(
        lambda l: (l.critics, l.target_critics), learner, (zero(linear), linear)
    )
    batch = random_batch(getkey(), 3, jnp.zeros((B, 1)))
    batch["rewards"] = jnp.zeros((B,))
    batch["terminated"] = jnp.zeros((B,), bool)
    key = getkey()
    _, metrics = algo.update(learner, batch, key=key, step=jnp.int32(0))
    noise = np.asarray(jr.normal(key, (B, 1)), np.float64)[:, 0]
    noise = np.clip(noise * 0.2 * bound, -0.5 * bound, 0.5 * bound)
    y = 0.99 * 1e-30 * noise
    np.testing.assert_allclose(metrics["q_loss"], 2 * np.mean(y**2), rtol=1e-4)
