"""`to_onnx(normalization=...)`: a frozen `NormalizeObservation` baked into the
graph, which then takes raw observations."""

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.export import onnx_policy_fn, to_onnx
from lerax.policy import (
    MLPActorCriticPolicy,
    MLPDeterministicPolicy,
    MLPQPolicy,
    RecurrentActorCriticPolicy,
)
from lerax.space import AbstractSpace, Box, Dict, Discrete
from lerax.wrapper import (
    NormalizeObservation,
    NormalizeReward,
    RunningMeanStd,
    load_normalization,
    normalization_path,
    save_normalization,
)
from tests.export.test_onnx import (
    AC,
    assert_matches,
    batch_state,
    jax_outputs,
    randomize,
)
from tests.wrapper.toy_envs import AbstractToyEnv, ToyState

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("jax2onnx")

BATCH = 64


class RawEnv(AbstractToyEnv):
    """An env of any `Box` observation space (only its spaces matter here)."""

    observation_space: Box
    action_space: AbstractSpace
    name: str = "Raw"
    length: int = 10

    def initial(self, *, key):
        del key
        return ToyState(
            jnp.zeros((), jnp.int32), jnp.zeros(self.observation_space.shape)
        )

    def transition(self, state, action, *, key):
        del action, key
        return ToyState(state.t + 1, state.x)

    def observation(self, state, *, key):
        del key
        return state.x.astype(self.observation_space.dtype)

    def reward(self, state, action, next_state, *, key):
        del state, action, next_state, key
        return jnp.array(0.0)

    def action_mask(self, state, *, key):
        del state, key
        return None


def statistics(mean, var, count=1e4):
    return RunningMeanStd(
        jnp.asarray(mean, jnp.float32),
        jnp.asarray(var, jnp.float32),
        jnp.asarray(count, jnp.float32),
    )


FLOAT_RAW = Box(-np.inf, np.inf, (3,))
FLOAT_STATS = statistics([40.0, -3.0, 0.5], [100.0, 0.04, 2.25])
UINT8_RAW = Box(0, 255, (3,), dtype=jnp.uint8)
UINT8_STATS = statistics([128.0, 30.0, 200.0], [900.0, 25.0, 400.0])


def float_observations(key, n=BATCH):
    """Around the statistics' mean, 2.5 standard deviations wide: about a
    quarter of the entries fall beyond `clip=3` standard deviations."""
    z = 2.5 * jr.normal(key, (n, 3), FLOAT_RAW.dtype)
    return FLOAT_STATS.mean[None] + jnp.sqrt(FLOAT_STATS.var)[None] * z


def uint8_observations(key, n=BATCH):
    """Uniform over [0, 255]: entries far from the mean hit `clip=10`."""
    return jax.vmap(lambda k: UINT8_RAW.sample(key=k))(jr.split(key, n))


def reference_normalize(raw, stats, clip, epsilon=1e-8):
    """NumPy's standardisation, independent of the wrapper's."""
    raw = np.asarray(raw, np.float64)
    mean, var = np.asarray(stats.mean), np.asarray(stats.var)
    z = (raw - mean) / np.sqrt(var + epsilon)
    return z if clip is None else np.clip(z, -clip, clip)


# (id, policy class, its sizes, action space, raw space, statistics, raw
# observations, clip)
CASES = [
    (
        "actor_critic-box",
        MLPActorCriticPolicy,
        AC,
        Box(-2.0, 2.0, (2,)),
        FLOAT_RAW,
        FLOAT_STATS,
        float_observations,
        3.0,
    ),
    (
        "q-discrete",
        MLPQPolicy,
        dict(width_size=8),
        Discrete(4),
        FLOAT_RAW,
        FLOAT_STATS,
        float_observations,
        3.0,
    ),
    (
        "actor_critic-discrete-uint8",
        MLPActorCriticPolicy,
        AC,
        Discrete(3),
        UINT8_RAW,
        UINT8_STATS,
        uint8_observations,
        10.0,
    ),
    (
        "recurrent_gru-discrete",
        RecurrentActorCriticPolicy,
        dict(hidden_size=8, feature_width=8, value_width=8),
        Discrete(3),
        FLOAT_RAW,
        FLOAT_STATS,
        float_observations,
        3.0,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_normalized_export_matches_jax(case):
    """The graph takes raw observations and computes
    `policy(state, normalizer.normalize(raw, statistics))`."""
    check_normalized_export(*case[1:])


def check_normalized_export(cls, sizes, action_space, raw_space, stats, make_obs, clip):
    """Exports a random `cls` behind a frozen normaliser and compares
    onnxruntime's outputs on raw observations with JAX's (also run with
    `jax_enable_x64` on, by `test_onnx.check_x64_export`)."""
    normalizer = NormalizeObservation(RawEnv(raw_space, action_space), clip=clip)
    normalizer = normalizer.frozen(stats)
    policy = randomize(cls(normalizer, key=jr.key(0), **sizes), jr.key(1))
    model = to_onnx(policy, normalization=normalizer)
    onnx.checker.check_model(model)

    # the input is the raw observation, shaped and typed as the inner env's
    (obs_input,) = [i for i in model.graph.input if i.name == "observation"]
    elem_type = obs_input.type.tensor_type.elem_type
    assert elem_type == onnx.helper.np_dtype_to_tensor_dtype(raw_space.dtype)
    assert [d.dim_value for d in obs_input.type.tensor_type.shape.dim[1:]] == [3]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["lerax.observation_space"] == repr(raw_space)
    assert (
        f"NormalizeObservation(clip={clip}, epsilon=1e-08)"
        in props["lerax.normalization"]
    )

    raw = make_obs(jr.key(2))
    assert raw.dtype == raw_space.dtype
    normalized = jax.vmap(lambda o: normalizer.normalize(o, stats))(raw)
    # non-trivial statistics: some entries clipped, others not
    expected_z = reference_normalize(raw, stats, clip)
    np.testing.assert_allclose(normalized, expected_z, rtol=1e-5, atol=1e-5)
    assert 0 < np.mean(np.abs(expected_z) == clip) < 0.5

    stateful = cls is RecurrentActorCriticPolicy
    state = batch_state(policy, BATCH) if stateful else None
    expected = jax_outputs(policy, state, normalized)
    run = onnx_policy_fn(model)
    # JAX arrays of the raw dtype, and float64 NumPy arrays (cast to it)
    for given in (raw, np.asarray(raw, np.float64)):
        got = run(given, state=state)
        assert set(got) == set(expected)
        for name in expected:
            assert_matches(got[name], expected[name], name)
    # the normalisation mattered: the policy on the raw observations differs
    unnormalized = jax_outputs(policy, state, raw.astype(jnp.float32))
    floats = [n for n in expected if np.issubdtype(expected[n].dtype, np.floating)]
    assert not all(np.allclose(unnormalized[n], expected[n]) for n in floats)


def test_statistics_saved_with_the_policy(tmp_path):
    """Statistics saved next to a policy (`save_normalization`, as `EvalCallback`
    and the CLI do) load into a normaliser that exports as the original."""
    env = RawEnv(FLOAT_RAW, Box(-1.0, 1.0, (2,)))
    frozen = NormalizeObservation(env, clip=3.0).frozen(FLOAT_STATS)
    policy = MLPDeterministicPolicy(frozen, width_size=8, key=jr.key(0))
    policy = randomize(policy, jr.key(1))
    path = save_normalization(normalization_path(tmp_path / "policy.eqx"), frozen)
    loaded = load_normalization(path, NormalizeObservation(env, clip=3.0))
    to_onnx(policy, normalization=loaded, output_path=tmp_path / "policy")

    raw = float_observations(jr.key(2))
    normalized = jax.vmap(lambda o: frozen.normalize(o, FLOAT_STATS))(raw)
    expected = jax_outputs(policy, None, normalized)["action"]
    got = onnx_policy_fn(tmp_path / "policy.onnx")(np.asarray(raw))["action"]
    assert_matches(got, expected, "action")


def test_normalization_errors(tmp_path):
    """Each misuse raises before anything is written, naming the problem."""
    env = RawEnv(FLOAT_RAW, Discrete(3))
    frozen = NormalizeObservation(env).frozen(FLOAT_STATS)
    policy = MLPActorCriticPolicy(frozen, **AC, key=jr.key(0))
    out = tmp_path / "policy.onnx"

    def refused(error, match, normalization, policy=policy):
        with pytest.raises(error, match=match):
            to_onnx(policy, normalization=normalization, output_path=out)

    # not a NormalizeObservation
    refused(TypeError, r"got RawEnv\. Build one with `sync_normalization", env)
    refused(TypeError, "got RunningMeanStd", FLOAT_STATS)
    refused(
        TypeError,
        r"NormalizeReward wraps a `NormalizeObservation` deeper.*pass that wrapper",
        NormalizeReward(frozen),
    )
    # not frozen, or frozen without statistics
    refused(
        ValueError,
        r"needs a frozen `NormalizeObservation`.*`sync_normalization\(eval_env",
        NormalizeObservation(env),
    )
    refused(
        ValueError,
        r"holds no statistics \(`initial_statistics` is None\).*\.frozen\(statistics\)",
        NormalizeObservation(env, is_frozen=True),
    )
    # statistics batched over envs: `.frozen` and the constructor refuse
    # them; a wrapper given them past its checks (`eqx.tree_at`) is refused
    # by the export too
    batched = jax.tree.map(lambda x: jnp.stack([x, x]), FLOAT_STATS)
    with pytest.raises(ValueError, match="statistics of one stream"):
        NormalizeObservation(env, is_frozen=True, initial_statistics=batched)
    refused(
        ValueError,
        r"statistics of one stream.*count shaped \(2,\)",
        eqx.tree_at(
            lambda n: n.initial_statistics,
            NormalizeObservation(env, is_frozen=True, initial_statistics=FLOAT_STATS),
            batched,
        ),
    )
    # observations normalised twice
    stats2 = statistics([0.0, 0.0, 0.0], [4.0, 4.0, 4.0])
    refused(
        ValueError,
        "wraps another `NormalizeObservation`",
        NormalizeObservation(frozen).frozen(stats2),
    )
    # the normalised observations do not fit the policy
    wider = MLPActorCriticPolicy(
        (Box(-10.0, 10.0, (4,)), Discrete(3)), **AC, key=jr.key(0)
    )
    refused(
        ValueError,
        r"emits float32 observations shaped \(3,\), but MLPActorCriticPolicy takes "
        r"float32 observations shaped \(4,\)",
        frozen,
        wider,
    )
    half = Box(-10.0, 10.0, (3,), dtype=jnp.float16)
    narrower = MLPActorCriticPolicy((half, Discrete(3)), **AC, key=jr.key(0))
    refused(ValueError, "takes float16 observations", frozen, narrower)
    # composite observation spaces are never normalised
    space = Dict(pos=Box(-1.0, 1.0, (3,)), mode=Discrete(2))
    composite = MLPActorCriticPolicy((space, Discrete(3)), **AC, key=jr.key(0))
    refused(
        TypeError, r"normalises `Box` observations.*takes Dict\(", frozen, composite
    )
    assert os.listdir(tmp_path) == []
