"""Behaviour of every concrete policy on every action space it supports."""

import re

import equinox as eqx
import jax
import jax.extend
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.policy import (
    MLPActorCriticPolicy,
    MLPDeterministicPolicy,
    MLPDiscreteSACPolicy,
    MLPQPolicy,
    MLPSACPolicy,
    RecurrentActorCriticPolicy,
)
from lerax.space import Box, Discrete, MultiBinary, MultiDiscrete

from .helpers import (
    ACTION_SPACES,
    OBSERVATION_SPACES,
    build,
    leaves_equal,
    small_policies,
)

POLICIES = small_policies()
DICT_POLICIES = small_policies(OBSERVATION_SPACES["dict"])


@pytest.mark.parametrize("entry", POLICIES + DICT_POLICIES, ids=lambda e: e[0])
def test_actions_are_in_the_space_and_deterministic_without_key(entry, getkey):
    name = entry[0]
    policy = build(entry, getkey())
    observation = policy.observation_space.sample(key=getkey())
    state = policy.reset(key=getkey())
    call = eqx.filter_jit(lambda p, s, o, k: p(s, o, key=k))
    greedy = eqx.filter_jit(lambda p, s, o: p(s, o))
    for _ in range(5):
        _, action = call(policy, state, observation, getkey())
        assert action in policy.action_space, (name, action)
    _, a1 = greedy(policy, state, observation)
    _, a2 = greedy(policy, state, observation)
    assert a1 in policy.action_space
    assert jax.tree.all(jax.tree.map(lambda x, y: bool(jnp.all(x == y)), a1, a2))


@pytest.mark.parametrize("entry", POLICIES, ids=lambda e: e[0])
def test_vmap_over_observations_matches_single_calls(entry, getkey):
    policy = build(entry, getkey())
    observations = jax.vmap(lambda k: policy.observation_space.sample(key=k))(
        jr.split(getkey(), 6)
    )
    state = policy.reset(key=getkey())
    _, batched = jax.vmap(lambda o: policy(state, o))(observations)
    for i in range(6):
        _, single = policy(state, jax.tree.map(lambda x: x[i], observations))
        assert jnp.allclose(
            jnp.asarray(batched[i], jnp.float32),
            jnp.asarray(single, jnp.float32),
            atol=1e-6,
        )


def test_dict_observations_are_flattened(getkey):
    space = OBSERVATION_SPACES["dict"]
    policy = MLPActorCriticPolicy((space, Discrete(2)), key=getkey())
    observation = space.sample(key=getkey())
    _, action, value, log_prob = policy.action_and_value(
        None, observation, key=getkey()
    )
    assert action in policy.action_space
    assert value.shape == () and log_prob.shape == ()


@pytest.mark.parametrize("action", list(ACTION_SPACES))
def test_actor_critic_log_prob_matches_evaluate_action(action, getkey):
    policy = MLPActorCriticPolicy(
        (OBSERVATION_SPACES["box"], ACTION_SPACES[action]), key=getkey()
    )
    observation = policy.observation_space.sample(key=getkey())
    _, sampled, value, log_prob = policy.action_and_value(
        None, observation, key=getkey()
    )
    _, value2, log_prob2, entropy = policy.evaluate_action(None, observation, sampled)
    assert jnp.allclose(log_prob, log_prob2, atol=1e-5)
    assert jnp.allclose(value, value2)
    assert jnp.isfinite(entropy) and entropy.shape == ()
    assert value.shape == () and log_prob.shape == ()


def test_actor_critic_initial_policy_is_near_uniform_and_value_small(getkey):
    # Orthogonal init with gain 0.01 on the policy output: almost uniform.
    policy = MLPActorCriticPolicy((Box(-1.0, 1.0, (4,)), Discrete(4)), key=getkey())
    obs = policy.observation_space.sample(key=getkey())
    _, _, log_prob, entropy = policy.evaluate_action(None, obs, jnp.int32(0))
    assert jnp.allclose(entropy, jnp.log(4.0), atol=1e-3)
    assert jnp.allclose(log_prob, -jnp.log(4.0), atol=1e-2)


def test_box_log_std_init(getkey):
    policy = MLPActorCriticPolicy(
        (Box(-1.0, 1.0, (3,)), Box(-1.0, 1.0, (2,))), log_std_init=-1.0, key=getkey()
    )
    assert jnp.allclose(policy.action_head.log_std, -1.0)
    samples = jax.vmap(lambda k: policy(None, jnp.zeros(3), key=k)[1])(
        jr.split(getkey(), 4000)
    )
    assert jnp.allclose(jnp.std(samples, axis=0), jnp.exp(-1.0), rtol=0.1)


def test_masks_are_respected_by_every_discrete_policy(getkey):
    obs_space = OBSERVATION_SPACES["box"]
    mask = jnp.array([False, True, False, True])
    policies = [
        MLPActorCriticPolicy((obs_space, Discrete(4, start=1)), key=getkey()),
        RecurrentActorCriticPolicy((obs_space, Discrete(4, start=1)), key=getkey()),
        MLPQPolicy((obs_space, Discrete(4, start=1)), epsilon=1.0, key=getkey()),
        MLPDiscreteSACPolicy((obs_space, Discrete(4, start=1)), key=getkey()),
    ]
    allowed = jnp.array([2, 4])
    for policy in policies:
        state = policy.reset(key=getkey())
        obs = obs_space.sample(key=getkey())
        actions = jax.vmap(lambda k: policy(state, obs, key=k, action_mask=mask)[1])(
            jr.split(getkey(), 500)
        )
        assert jnp.isin(actions, allowed).all(), type(policy).__name__
        assert jnp.isin(policy(state, obs, action_mask=mask)[1], allowed)
        # both allowed actions do occur
        assert set(map(int, jnp.unique(actions))) == {2, 4}


def test_masks_multi_discrete_and_multi_binary(getkey):
    obs_space = OBSERVATION_SPACES["box"]
    md = MLPActorCriticPolicy((obs_space, MultiDiscrete([3, 2])), key=getkey())
    flat_mask = jnp.array([False, False, True, True, False])
    actions = jax.vmap(
        lambda k: md(None, jnp.zeros(3), key=k, action_mask=flat_mask)[1]
    )(jr.split(getkey(), 300))
    assert (actions[:, 0] == 2).all() and (actions[:, 1] == 0).all()
    _, lp_allowed = md.evaluate_action(
        None, jnp.zeros(3), jnp.array([2, 0]), action_mask=flat_mask
    )[::2]
    assert jnp.allclose(
        md.evaluate_action(
            None, jnp.zeros(3), jnp.array([2, 0]), action_mask=flat_mask
        )[2],
        0.0,
        atol=1e-5,
    )
    del lp_allowed
    mb = MLPActorCriticPolicy((obs_space, MultiBinary(3)), key=getkey())
    bit_mask = jnp.array([True, False, True])
    bits = jax.vmap(lambda k: mb(None, jnp.zeros(3), key=k, action_mask=bit_mask)[1])(
        jr.split(getkey(), 300)
    )
    assert not bits[:, 1].any() and bits[:, 0].any() and bits[:, 2].any()


@pytest.mark.parametrize(
    "mask, hint",
    [(jnp.ones(5, bool), False), (jnp.ones((1, 4), bool), True), (True, False)],
)
def test_a_mask_of_the_wrong_shape_is_named_by_every_discrete_policy(
    mask, hint, getkey
):
    # a (5,) mask failed inside a broadcast (Q policy), and a batch of one
    # (1, 4) gave an action of shape (1,) instead of one action
    obs_space = OBSERVATION_SPACES["box"]
    policies = [
        MLPActorCriticPolicy((obs_space, Discrete(4)), key=getkey()),
        RecurrentActorCriticPolicy((obs_space, Discrete(4)), key=getkey()),
        MLPQPolicy((obs_space, Discrete(4)), key=getkey()),
        MLPDiscreteSACPolicy((obs_space, Discrete(4)), key=getkey()),
    ]
    shape = re.escape(str(jnp.shape(mask)))
    for policy in policies:
        state = policy.reset(key=getkey())
        obs = obs_space.sample(key=getkey())
        for key in (None, getkey()):
            with pytest.raises(ValueError, match=r"must have shape \(4,\)") as error:
                policy(state, obs, key=key, action_mask=mask)
            assert re.search(f"got {shape}", str(error.value))
            assert ("jax.vmap" in str(error.value)) == hint


def test_multi_binary_masks_must_have_the_space_shape(getkey):
    obs_space = OBSERVATION_SPACES["box"]
    policy = MLPActorCriticPolicy((obs_space, MultiBinary((2, 3))), key=getkey())
    mask = jnp.array([[True, False, True], [False, True, True]])
    bits = jax.vmap(lambda k: policy(None, jnp.zeros(3), key=k, action_mask=mask)[1])(
        jr.split(getkey(), 200)
    )
    assert bits.shape == (200, 2, 3) and not bits[:, ~mask].any()
    with pytest.raises(ValueError, match=r"must have shape \(2, 3\).*got \(6,\)"):
        policy(None, jnp.zeros(3), key=getkey(), action_mask=mask.reshape(-1))


def test_q_policy_epsilon_greedy(getkey):
    policy = MLPQPolicy((Box(-1.0, 1.0, (3,)), Discrete(5)), epsilon=0.0, key=getkey())
    obs = jnp.array([0.1, -0.2, 0.3])
    _, q = policy.q_values(None, obs)
    greedy = int(jnp.argmax(q))
    actions = jax.vmap(lambda k: policy(None, obs, key=k)[1])(jr.split(getkey(), 200))
    assert (actions == greedy).all()
    explore = eqx.tree_at(lambda p: p.epsilon, policy, 1.0)
    actions = jax.vmap(lambda k: explore(None, obs, key=k)[1])(jr.split(getkey(), 5000))
    counts = jnp.bincount(actions, length=5) / 5000
    assert jnp.allclose(counts, 0.2, atol=0.03)  # uniform, not Boltzmann


def test_deterministic_policy_bounds_and_noise(getkey):
    space = Box(jnp.array([-1.0, 0.0]), jnp.array([1.0, 10.0]))
    policy = MLPDeterministicPolicy(
        (Box(-1.0, 1.0, (3,)), space), exploration_noise=0.5, key=getkey()
    )
    obs = jnp.array([0.5, 0.5, 0.5])
    _, mean_action = policy(None, obs)
    noisy = jax.vmap(lambda k: policy(None, obs, key=k)[1])(jr.split(getkey(), 2000))
    assert (noisy >= space.low[None]).all() and (noisy <= space.high[None]).all()
    assert not jnp.allclose(noisy[0], noisy[1])
    with pytest.raises(ValueError, match="finite"):
        MLPDeterministicPolicy(
            (Box(-1.0, 1.0, (3,)), Box(-jnp.inf, jnp.inf, (2,))), key=getkey()
        )
    del mean_action


def test_deterministic_policy_with_bounds_whose_width_overflows(getkey):
    # float32 +-3e38: high - low overflows, but the action is still
    # middle + half_width * tanh(network output), and the noise is in those units
    space = Box(-3e38, 3e38, (2,))
    policy = MLPDeterministicPolicy(
        (Box(-1.0, 1.0, (3,)), space), width_size=8, depth=1, key=getkey()
    )
    obs = jnp.array([0.5, -0.5, 0.25])
    unit = np.asarray(policy.network(obs), np.float64)
    _, action = policy(None, obs)
    np.testing.assert_allclose(np.asarray(action, np.float64), 3e38 * unit, rtol=1e-5)
    assert np.all(np.abs(np.asarray(action)) < 3e38)  # not pinned to a bound
    noisy = jax.vmap(lambda k: policy(None, obs, key=k)[1])(jr.split(getkey(), 256))
    assert np.all(np.isfinite(np.asarray(noisy)))
    spread = np.std(np.asarray(noisy, np.float64) / 3e38, axis=0)
    np.testing.assert_allclose(spread, policy.exploration_noise, rtol=0.25)


def test_sac_policy_log_prob_and_bounds(getkey):
    space = Box(jnp.array([-2.0, 0.0]), jnp.array([2.0, 1.0]))
    policy = MLPSACPolicy((Box(-1.0, 1.0, (3,)), space), key=getkey())
    obs = jnp.array([0.1, 0.2, 0.3])
    _, action, log_prob = policy.action_and_log_prob(None, obs, key=getkey())
    assert action in space
    _, distribution = policy.action_distribution(None, obs)
    assert jnp.allclose(log_prob, distribution.log_prob(action), atol=1e-3)
    _, mode = policy(None, obs)
    assert mode in space


def test_discrete_sac_probabilities(getkey):
    policy = MLPDiscreteSACPolicy((Box(-1.0, 1.0, (3,)), Discrete(3)), key=getkey())
    _, probs, log_probs = policy.action_probs_and_log_probs(
        None, jnp.zeros(3), action_mask=jnp.array([True, False, True])
    )
    assert jnp.allclose(probs.sum(), 1.0, atol=1e-6)
    assert probs[1] == 0.0 and jnp.isneginf(log_probs[1])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_recurrent_scan_equals_step_by_step(cell, getkey):
    policy = RecurrentActorCriticPolicy(
        (Box(-1.0, 1.0, (3,)), Discrete(2)), cell=cell, hidden_size=16, key=getkey()
    )
    observations = jr.uniform(getkey(), (12, 3), minval=-1, maxval=1)
    state = policy.reset(key=getkey())
    assert jnp.all(state.hidden == 0)

    def step(state, obs):
        state, _, value = policy.forward(state, obs)
        return state, value

    final, values = jax.lax.scan(step, state, observations)
    manual = state
    for t in range(12):
        manual, _, value = policy.forward(manual, observations[t])
        assert jnp.allclose(value, values[t], atol=1e-6)
    assert jnp.allclose(manual.hidden, final.hidden, atol=1e-6)
    # the state carries memory: the same observation gives different values
    # after different histories
    assert not jnp.allclose(values[0], policy.forward(final, observations[0])[2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(value_depth=-1), "value_depth"),
        (dict(action_width=0), "action_width"),
    ],
)
def test_bad_sizes(kwargs, match, getkey):
    with pytest.raises(ValueError, match=match):
        MLPActorCriticPolicy(
            (Box(-1.0, 1.0, (3,)), Discrete(2)), key=getkey(), **kwargs
        )


# Every size hyper-parameter of every policy, with its smallest valid value
# (0 for depths that may be 0: no hidden layer).
SIZE_FIELDS = {
    MLPActorCriticPolicy: dict(
        feature_size=1,
        feature_width=1,
        feature_depth=0,
        value_width=1,
        value_depth=0,
        action_width=1,
        action_depth=0,
    ),
    RecurrentActorCriticPolicy: dict(
        hidden_size=1, feature_width=1, feature_depth=0, value_width=1, value_depth=0
    ),
    MLPQPolicy: dict(width_size=1, depth=0),
    MLPDeterministicPolicy: dict(width_size=1, depth=0),
    # the encoder's output layer is its first: at least one layer
    MLPSACPolicy: dict(feature_size=1, width_size=1, depth=1),
    MLPDiscreteSACPolicy: dict(width_size=1, depth=0),
}
ENTRY_OF = {entry[1]: entry for entry in reversed(POLICIES)}
SIZE_CASES = [
    (cls, name, minimum)
    for cls, fields in SIZE_FIELDS.items()
    for name, minimum in fields.items()
]


def test_size_fields_cover_every_policy():
    assert set(SIZE_FIELDS) == {entry[1] for entry in POLICIES}


@pytest.mark.parametrize(
    "cls, name, minimum",
    SIZE_CASES,
    ids=[f"{c.__name__}-{n}" for c, n, _ in SIZE_CASES],
)
@pytest.mark.parametrize("bad", ["too_small", True, 8.0, "8", np.array([8])], ids=repr)
def test_bad_sizes_name_the_class_field_and_value(cls, name, minimum, bad, getkey):
    value = minimum - 1 if isinstance(bad, str) and bad == "too_small" else bad
    _, _, args, kwargs = ENTRY_OF[cls]
    expected = re.escape(f"`{cls.__name__}({name}=...)` must be an int >= {minimum}")
    with pytest.raises(ValueError, match=f"{expected}, got {re.escape(repr(value))}"):
        cls(*args, key=getkey(), **{**kwargs, name: value})


@pytest.mark.parametrize("cls", list(SIZE_FIELDS), ids=lambda c: c.__name__)
def test_numpy_integer_sizes_are_accepted_as_ints(cls):
    _, _, args, kwargs = ENTRY_OF[cls]
    sizes = {name: 2 for name in SIZE_FIELDS[cls]}
    from_python = cls(*args, key=jr.key(0), **{**kwargs, **sizes})
    numpy_sizes = {name: np.int64(v) for name, v in sizes.items()}
    from_numpy = cls(*args, key=jr.key(0), **{**kwargs, **numpy_sizes})
    assert jax.tree.structure(from_numpy) == jax.tree.structure(from_python)
    assert leaves_equal(from_numpy, from_python)
    observation = args[0][0].sample(key=jr.key(1))
    state = from_numpy.reset(key=jr.key(2))
    _, action = from_numpy(state, observation)
    assert args[0][1].contains(action)


def test_wrong_action_space_errors(getkey):
    obs = Box(-1.0, 1.0, (3,))
    with pytest.raises(TypeError, match="Discrete"):
        MLPQPolicy((obs, Box(-1.0, 1.0, (2,))), key=getkey())
    with pytest.raises(TypeError, match="Box"):
        MLPSACPolicy((obs, Discrete(2)), key=getkey())
    with pytest.raises(TypeError, match="Discrete"):
        MLPDiscreteSACPolicy((obs, MultiDiscrete([2, 2])), key=getkey())
    with pytest.raises(TypeError, match="env"):
        MLPActorCriticPolicy(42, key=getkey())


def test_policies_build_from_envs(getkey):
    import lerax.env

    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    state, obs, _ = env.reset(key=getkey())
    _, action = policy(None, obs, key=getkey())
    env.step(state, action, key=getkey())


def test_mlp_weights_are_jax_orthogonal_init_with_the_layer_keys():
    # the network builder hashes its draws with lerax's fusable Threefry:
    # the weights must be exactly JAX's orthogonal initialiser's
    from lerax.policy._networks import HIDDEN_GAIN, mlp

    key = jr.key(5)
    network = mlp(3, 2, 16, 2, jax.nn.tanh, out_gain=0.5, key=key)
    layer_keys = jr.split(key, 3)
    for i, (layer, layer_key) in enumerate(zip(network.layers, layer_keys)):
        gain = 0.5 if i == 2 else HIDDEN_GAIN
        shape = (layer.out_features, layer.in_features)
        expected = jax.nn.initializers.orthogonal(scale=gain)(layer_key, shape)
        assert jnp.array_equal(layer.weight, expected)
        assert jnp.array_equal(layer.bias, jnp.zeros(layer.out_features))
    hidden = network.layers[1].weight
    assert jnp.allclose(hidden @ hidden.T, HIDDEN_GAIN**2 * jnp.eye(16), atol=1e-5)


def _qr_operand_shapes(jaxpr):
    shapes = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ("qr", "geqrf", "householder_product"):
            shapes.append(eqn.invars[0].aval.shape)
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            shapes.extend(_qr_operand_shapes(sub))
    return shapes


def test_policies_built_under_vmap_match_and_never_batch_a_qr():
    # A batched QR is one LAPACK call that jaxlib splits over XLA's CPU pool
    # and blocks on; two of them side by side deadlock a 2-core machine
    # (`jit(vmap(policy construction))` over seeds hung 5 runs in 6).
    env = (Box(-1.0, 1.0, shape=(3,)), Discrete(2))
    keys = jr.split(jr.key(4), 3)

    def build_one(key):
        return MLPActorCriticPolicy(env, key=key)

    jaxpr = jax.make_jaxpr(
        lambda k: eqx.filter(eqx.filter_vmap(build_one)(k), eqx.is_array)
    )(keys)
    shapes = _qr_operand_shapes(jaxpr.jaxpr)
    assert shapes and all(len(shape) == 2 for shape in shapes)
    batched = eqx.filter_jit(eqx.filter_vmap(build_one))(keys)
    stacked = jax.tree.leaves(eqx.filter(batched, eqx.is_array))
    for i, key in enumerate(keys):
        leaves = jax.tree.leaves(eqx.filter(build_one(key), eqx.is_array))
        for a, b in zip(leaves, stacked, strict=True):
            assert jnp.array_equal(a, b[i])


@pytest.mark.parametrize("entry", POLICIES + DICT_POLICIES, ids=lambda e: e[0])
def test_policies_have_only_numeric_leaves(entry, getkey):
    # so JAX's own transformations can return them (`jax.vmap` over
    # `learn`): activation functions are part of the structure, not leaves;
    # the only non-array leaves allowed are Python numbers (hyper-parameters
    # such as `epsilon`, which `jax.vmap` returns as arrays)
    policy = build(entry, getkey())
    for leaf in jax.tree.leaves(policy):
        assert eqx.is_array(leaf) or isinstance(leaf, (int, float)), (entry[0], leaf)


def test_jax_vmap_returns_policies(getkey):
    entry = POLICIES[0]
    policy = build(entry, getkey())
    out = jax.jit(jax.vmap(lambda k: build(entry, k)))(jr.split(getkey(), 2))
    assert type(out) is type(policy)
    assert jax.tree.structure(out) == jax.tree.structure(policy)


def test_algorithm_critics_have_only_array_leaves(getkey):
    from lerax.algorithm import TD3, SACDiscrete
    from lerax.env import make

    pendulum, cartpole = make("Pendulum-v1"), make("CartPole-v1")
    learners = [
        TD3().init_learner(
            pendulum, MLPDeterministicPolicy(pendulum, key=getkey()), key=getkey()
        ),
        SACDiscrete().init_learner(
            cartpole, MLPDiscreteSACPolicy(cartpole, key=getkey()), key=getkey()
        ),
    ]
    for learner in learners:
        for leaf in jax.tree.leaves((learner.critics, learner.target_critics)):
            assert eqx.is_array(leaf), leaf


def test_a_wrong_observation_shape_or_a_batch_is_named():
    # failed inside the first matrix product ("dot_general requires ...")
    import lerax.env

    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    with pytest.raises(
        ValueError, match=r"shape \(4,\), got an array of shape \(5,\)\.$"
    ):
        policy(None, jnp.zeros(5))
    with pytest.raises(
        ValueError, match=r"shape \(8, 4\)\. It looks like a batch.*vmap"
    ):
        policy(None, jnp.zeros((8, 4)))
    actions = jax.vmap(lambda o: policy(None, o)[1])(jnp.zeros((8, 4)))
    assert actions.shape == (8,)


def test_one_layer_networks_apply_their_final_activation():
    # `equinox.nn.MLP` of depth 0 skips `final_activation`: the default
    # recurrent encoder (feature_depth=1) was linear, a depth-0 deterministic
    # actor's tanh was missing (actions beyond [-1, 1] before scaling)
    box = Box(-jnp.ones(3), jnp.ones(3))
    x = jnp.array([10.0, -10.0, 10.0])
    recurrent = RecurrentActorCriticPolicy(
        (box, Discrete(2)), hidden_size=8, key=jr.key(0)
    )
    features = recurrent.encoder(x)
    assert float(jnp.max(jnp.abs(features))) <= 1.0  # tanh, the default
    actor = MLPActorCriticPolicy(
        (box, Discrete(2)), action_depth=1, action_width=8, key=jr.key(0)
    )
    assert float(jnp.max(jnp.abs(actor.actor(x)))) <= 1.0
    deterministic = MLPDeterministicPolicy(
        (box, Box(-2 * jnp.ones(1), 2 * jnp.ones(1))), depth=0, key=jr.key(0)
    )
    assert float(jnp.max(jnp.abs(deterministic.network(100 * x)))) <= 1.0
    relu = MLPSACPolicy(
        (box, Box(-jnp.ones(1), jnp.ones(1))),
        depth=1,
        activation=jax.nn.relu,
        key=jr.key(0),
    )
    for sign in (1.0, -1.0):
        assert float(jnp.min(relu.encoder(sign * x))) >= 0.0
