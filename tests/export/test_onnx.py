"""`lerax.export`: onnxruntime outputs equal the JAX policy's, files, errors."""

import os
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.export import DEFAULT_OPSET, MIN_OPSET, onnx_policy_fn, to_onnx
from lerax.policy import (
    MLPActorCriticPolicy,
    MLPDeterministicPolicy,
    MLPDiscreteSACPolicy,
    MLPQPolicy,
    RecurrentActorCriticPolicy,
    RecurrentPolicyState,
)
from lerax.space import (
    AbstractSpace,
    Box,
    Dict,
    Discrete,
    MultiBinary,
    MultiDiscrete,
)
from tests.policy.helpers import OBSERVATION_SPACES, build, small_policies

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("jax2onnx")

ATOL = 1e-5
BATCH = 16
BOX = OBSERVATION_SPACES["box"]


def randomize(policy, key):
    """Replaces every float weight by N(0, 0.5^2) noise, so discrete actions are
    decided by clear margins (fresh heads have near-tied logits, gain 0.01)."""
    is_space = lambda x: isinstance(x, AbstractSpace)  # noqa: E731
    params, static = eqx.partition(policy, eqx.is_inexact_array, is_leaf=is_space)
    leaves, tree = jax.tree.flatten(params)
    keys = jr.split(key, len(leaves))
    leaves = [0.5 * jr.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)]
    return eqx.combine(jax.tree.unflatten(tree, leaves), static, is_leaf=is_space)


def observations(space, key, n=BATCH):
    return jax.vmap(lambda k: space.sample(key=k))(jr.split(key, n))


def assert_matches(onnx_out, jax_out, name):
    onnx_out, jax_out = np.asarray(onnx_out), np.asarray(jax_out)
    assert onnx_out.shape == jax_out.shape, name
    assert onnx_out.dtype == jax_out.dtype, name
    if np.issubdtype(jax_out.dtype, np.floating):
        np.testing.assert_allclose(onnx_out, jax_out, atol=ATOL, rtol=0, err_msg=name)
    else:  # discrete actions: exactly the argmax
        np.testing.assert_array_equal(onnx_out, jax_out, err_msg=name)


def jax_outputs(policy, state, obs, mask=None):
    """The JAX reference for a batch: action, and value / q_values / next state."""
    kwargs = {} if mask is None else {"action_mask": mask}

    def one(state, obs, kwargs):
        next_state, action = policy(state, obs, **kwargs)
        out = {"action": action}
        if isinstance(policy, (MLPActorCriticPolicy, RecurrentActorCriticPolicy)):
            out["value"] = policy.value(state, obs)[1]
        if isinstance(policy, MLPQPolicy):
            out["q_values"] = policy.q_values(state, obs)[1]
        if next_state is not None:
            out["next_state.hidden"] = next_state.hidden
        return out

    return jax.vmap(one)(state, obs, kwargs)


def batch_state(policy, n=BATCH):
    state = jax.vmap(lambda k: policy.reset(key=k))(jr.split(jr.key(0), n))
    # a non-trivial state, so the state input is really used
    return jax.tree.map(lambda x: x + 0.3 * jr.normal(jr.key(1), x.shape), state)


# every policy on every action space it supports, with a Box observation; and
# a few with a Dict observation (Box, Discrete and Tuple leaves: one input each)
ENTRIES = [("box", entry) for entry in small_policies(BOX)] + [
    ("dict", entry)
    for entry in small_policies(OBSERVATION_SPACES["dict"])
    if entry[0] in ("actor_critic-multi_discrete", "q-discrete", "recurrent_lstm-box")
]


@pytest.mark.parametrize(
    "obs_name,entry", ENTRIES, ids=[f"{o}-{e[0]}" for o, e in ENTRIES]
)
def test_onnxruntime_matches_jax(obs_name, entry):
    policy = randomize(build(entry, jr.key(0)), jr.key(1))
    model = to_onnx(policy)
    onnx.checker.check_model(model)
    run = onnx_policy_fn(model)
    obs = observations(policy.observation_space, jr.key(2))
    state = batch_state(policy)
    expected = jax_outputs(policy, state, obs)
    got = run(obs, state=state)
    assert set(got) == set(expected)
    for name in expected:
        assert_matches(got[name], expected[name], name)


def recurrent_policy(cell):
    policy = RecurrentActorCriticPolicy(
        (BOX, Discrete(3)),
        cell=cell,
        hidden_size=8,
        feature_width=8,
        value_width=8,
        key=jr.key(0),
    )
    return randomize(policy, jr.key(1))


def check_round_trip(policy, run, match=assert_matches):
    """Feeds `next_state.hidden` back for 3 steps from `policy.reset`; each
    step's action and hidden state are compared to JAX's by `match`."""
    state = jax.vmap(lambda k: policy.reset(key=k))(jr.split(jr.key(0), 4))
    onnx_hidden = np.zeros(state.hidden.shape, np.float32)
    for t in range(3):
        obs = observations(BOX, jr.key(10 + t), n=4)
        state, action = jax.vmap(lambda s, o: policy(s, o))(state, obs)
        out = run(obs, state={"hidden": onnx_hidden})
        match(out["action"], action, "action")
        match(out["next_state.hidden"], state.hidden, "hidden")
        onnx_hidden = out["next_state.hidden"]
    return onnx_hidden


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_recurrent_state_round_trip(cell):
    """Feeding `next_state.hidden` back reproduces a JAX rollout step by step."""
    policy = recurrent_policy(cell)
    run = onnx_policy_fn(to_onnx(policy))
    onnx_hidden = check_round_trip(policy, run)
    # the state pytree itself is accepted too
    out = run(
        observations(BOX, jr.key(9), n=4), state=RecurrentPolicyState(onnx_hidden)
    )
    assert out["action"].shape == (4,)


def check_x64_export():
    """Run by `test_export_with_x64` in a process with `JAX_ENABLE_X64=1`."""
    assert jax.config.read("jax_enable_x64")
    for cell in ("gru", "lstm"):
        policy = recurrent_policy(cell)
        # the hidden state keeps its dtype across a step
        state = policy.reset(key=jr.key(0))
        next_state, _ = policy(state, BOX.sample(key=jr.key(1)))
        assert next_state.hidden.dtype == state.hidden.dtype == jnp.float32
        check_round_trip(policy, onnx_policy_fn(to_onnx(policy)))
        # float64 weights: exported in float32, as jax2onnx exports float64
        wide = jax.tree.map(
            lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x,
            policy,
            is_leaf=lambda x: isinstance(x, AbstractSpace),
        )
        model = to_onnx(wide)
        for value in (*model.graph.input, *model.graph.output):
            assert value.type.tensor_type.elem_type != onnx.TensorProto.DOUBLE

        def close(got, expected, name):
            np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0, err_msg=name)

        check_round_trip(wide, onnx_policy_fn(model), close)
    # float64 spaces: a float32 observation input and action output, as
    # `to_onnx`'s docstring says; `onnx_policy_fn` casts the observations
    wide_box = Box(-1.0, 1.0, (3,), dtype=jnp.float64)
    box_policy = MLPDeterministicPolicy(
        (wide_box, Box(-1.0, 1.0, (2,), dtype=jnp.float64)),
        width_size=8,
        key=jr.key(0),
    )
    model = to_onnx(box_policy)
    elem = {v.name: v.type.tensor_type.elem_type for v in model.graph.input}
    elem |= {v.name: v.type.tensor_type.elem_type for v in model.graph.output}
    assert elem == {
        "observation": onnx.TensorProto.FLOAT,
        "action": onnx.TensorProto.FLOAT,
    }
    assert "a `float64` (`int64`) space gives" in " ".join(to_onnx.__doc__.split())
    observation = wide_box.sample(key=jr.key(3))[None]
    assert observation.dtype == jnp.float64
    action = onnx_policy_fn(model)(observation)["action"]
    assert action.dtype == np.float32 and action.shape == (1, 2)
    # weakly typed float64 literals (the normaliser's `var + epsilon`, a
    # MultiDiscrete head's) are exported as float32 too; imported here, as
    # test_normalization imports this module
    from tests.export.test_normalization import CASES, check_normalized_export

    check_normalized_export(*CASES[0][1:])


@pytest.mark.slow(18)
def test_export_with_x64():
    """With `jax_enable_x64` on, recurrent policies (and float64 weights) and
    a policy behind a frozen normaliser export and match JAX."""
    code = "from tests.export.test_onnx import check_x64_export; check_x64_export()"
    env = dict(os.environ, JAX_ENABLE_X64="1")
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)


@pytest.mark.parametrize(
    "dtype",
    [jnp.uint8, jnp.uint16, jnp.uint32, jnp.int8, jnp.bfloat16, jnp.float16],
    ids=lambda dtype: dtype.__name__,
)
def test_observation_dtypes(dtype):
    """Observations of any JAX dtype are cast to the input type the model
    declares (from JAX arrays, NumPy arrays of that dtype or of float32)."""
    space = Box(0, 9, (3,), dtype=dtype)
    policy = MLPActorCriticPolicy((space, Discrete(3)), **AC, key=jr.key(0))
    policy = randomize(policy, jr.key(1))
    model = to_onnx(policy)
    elem_type = model.graph.input[0].type.tensor_type.elem_type
    assert elem_type == onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    run = onnx_policy_fn(model)
    obs = observations(space, jr.key(2))
    expected = jax_outputs(policy, None, obs)
    for given in (obs, np.asarray(obs), np.asarray(obs, np.float32)):
        got = run(given)
        for name in expected:
            assert_matches(got[name], expected[name], name)


def random_mask(shape, key):
    mask = jr.bernoulli(key, 0.5, shape)
    return mask.at[..., 0].set(True)  # keep one choice allowed everywhere


AC = dict(value_width=8, action_width=8)
MASKED = [
    ("actor_critic-discrete", MLPActorCriticPolicy, Discrete(5, start=2), (5,), AC),
    (
        "actor_critic-multi_discrete",
        MLPActorCriticPolicy,
        MultiDiscrete([3, 4]),
        (2, 4),
        AC,
    ),
    ("actor_critic-multi_binary", MLPActorCriticPolicy, MultiBinary(4), (4,), AC),
    ("q-discrete", MLPQPolicy, Discrete(5, start=-1), (5,), dict(width_size=8)),
    (
        "discrete_sac-discrete",
        MLPDiscreteSACPolicy,
        Discrete(5),
        (5,),
        dict(width_size=8),
    ),
]


@pytest.mark.parametrize(
    "cls,action_space,mask_shape,sizes",
    [m[1:] for m in MASKED],
    ids=[m[0] for m in MASKED],
)
def test_action_mask_input(cls, action_space, mask_shape, sizes):
    policy = randomize(cls((BOX, action_space), key=jr.key(0), **sizes), jr.key(1))
    model = to_onnx(policy, action_mask=True)
    mask_input = [i for i in model.graph.input if i.name == "action_mask"]
    assert len(mask_input) == 1
    assert mask_input[0].type.tensor_type.elem_type == onnx.TensorProto.BOOL
    obs = observations(BOX, jr.key(2))
    mask = random_mask((BATCH, *mask_shape), jr.key(3))
    if isinstance(action_space, MultiDiscrete):  # padding slots are never allowed
        mask = mask & action_space.padded_mask(jnp.ones(mask_shape, bool))[None]
    got = onnx_policy_fn(model)(obs, action_mask=mask)
    expected = jax_outputs(policy, None, obs, mask)
    for name in expected:
        assert_matches(got[name], expected[name], name)
    unmasked = jax_outputs(policy, None, obs)["action"]
    assert not np.array_equal(np.asarray(unmasked), got["action"])  # mask mattered


def test_dynamic_batch_axis_and_io_names():
    policy = MLPActorCriticPolicy((BOX, Discrete(3)), **AC, key=jr.key(0))
    model = to_onnx(policy, model_name="cartpole_actor")
    assert model.graph.name == "cartpole_actor"
    assert model.opset_import[0].version == DEFAULT_OPSET
    assert [i.name for i in model.graph.input] == ["observation"]
    assert [o.name for o in model.graph.output] == ["action", "value"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[1].dim_value == 3
    props = {p.key: p.value for p in model.metadata_props}
    assert props["lerax.policy"] == "MLPActorCriticPolicy"
    run = onnx_policy_fn(model)
    for n in (1, 9):
        obs = observations(BOX, jr.key(n), n=n)
        assert run(obs)["action"].shape == (n,)
        assert run(obs)["value"].shape == (n,)


def test_opset_range(tmp_path):
    """Opsets from `MIN_OPSET` to the installed onnx's newest give models that
    pass the checker and run in onnxruntime; others raise before writing."""
    policy = MLPActorCriticPolicy((BOX, MultiDiscrete([3, 4])), **AC, key=jr.key(0))
    policy = randomize(policy, jr.key(1))  # ArgMax, Squeeze, ReduceSum, Split
    obs = observations(BOX, jr.key(2))
    expected = jax_outputs(policy, None, obs)
    newest = onnx.defs.onnx_opset_version()
    for opset in (MIN_OPSET, DEFAULT_OPSET, newest):
        model = to_onnx(policy, opset=opset)
        versions = {o.domain: o.version for o in model.opset_import}
        assert versions[""] == opset
        onnx.checker.check_model(model, full_check=True)
        if opset == newest and opset > DEFAULT_OPSET:
            # onnxruntime may trail onnx's newest opset (a fresh install of
            # both can pair a new onnx with an older runtime): checker only
            continue
        got = onnx_policy_fn(model)(obs)
        for name in expected:
            assert_matches(got[name], expected[name], name)
    for opset in (1, 7, 11, MIN_OPSET - 1, newest + 1, 30):
        with pytest.raises(ValueError, match=rf"\[{MIN_OPSET}, {newest}\]"):
            to_onnx(policy, opset=opset, output_path=tmp_path / f"opset{opset}")
    assert os.listdir(tmp_path) == []


def test_written_atomically_and_reloadable(tmp_path):
    policy = randomize(
        MLPDeterministicPolicy(
            (BOX, Box(-1.0, 1.0, (2,))), width_size=8, key=jr.key(0)
        ),
        jr.key(1),
    )
    model = to_onnx(policy, output_path=tmp_path / "sub" / "actor")
    path = tmp_path / "sub" / "actor.onnx"  # suffix added, folder created
    assert path.is_file()
    assert sorted(os.listdir(path.parent)) == ["actor.onnx"]  # no temp files left
    assert onnx.load(path) == model
    obs = observations(BOX, jr.key(2))
    expected = jax_outputs(policy, None, obs)["action"]
    assert_matches(onnx_policy_fn(path)(obs)["action"], expected, "action")
    assert_matches(onnx_policy_fn(str(path))(obs)["action"], expected, "action")
    # the path given to `to_onnx` loads what it wrote (the suffix it added)
    unsuffixed = tmp_path / "sub" / "actor"
    assert_matches(onnx_policy_fn(unsuffixed)(obs)["action"], expected, "action")
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        onnx_policy_fn(tmp_path / "sub" / "critic")
    # an existing file is replaced; an explicit suffix is kept
    other = randomize(policy, jr.key(5))
    to_onnx(other, output_path=path)
    assert onnx.load(path) != model
    to_onnx(other, output_path=tmp_path / "actor.v2.bin")
    assert (tmp_path / "actor.v2.bin").is_file()


def test_failed_write_leaves_old_file(tmp_path, monkeypatch):
    policy = MLPQPolicy((BOX, Discrete(2)), width_size=8, key=jr.key(0))
    path = tmp_path / "q.onnx"
    to_onnx(policy, output_path=path)
    before = path.read_bytes()

    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", broken)
    with pytest.raises(OSError, match="disk full"):
        to_onnx(randomize(policy, jr.key(1)), output_path=path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["q.onnx"]


def test_bad_output_paths_name_the_path(tmp_path):
    policy = MLPQPolicy((BOX, Discrete(2)), width_size=8, key=jr.key(0))
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        to_onnx(policy, output_path=tmp_path / "folder.onnx")
    message = str(info.value)
    assert f"{str(tmp_path / 'folder.onnx')!r}: it is a folder" in message
    assert "Give a file path instead" in message and ".tmp" not in message
    assert os.listdir(tmp_path / "folder.onnx") == []
    (tmp_path / "afile").write_text("a file")
    with pytest.raises(NotADirectoryError) as info:
        to_onnx(policy, output_path=tmp_path / "afile" / "model.onnx")
    message = str(info.value)
    assert "afile/model.onnx" in message and "is a file, not a folder" in message
    assert "Choose another path" in message
    assert sorted(os.listdir(tmp_path)) == ["afile", "folder.onnx"]


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="MLPActorCriticPolicy.*MLPQPolicy"):
        to_onnx(eqx.nn.Linear(2, 2, key=jr.key(0)))
    with pytest.raises(TypeError, match="lerax policies"):
        to_onnx(lambda x: x)
    box_policy = MLPDeterministicPolicy(
        (BOX, Box(-1.0, 1.0, (2,))), width_size=8, key=jr.key(0)
    )
    with pytest.raises(ValueError, match="action_mask"):
        to_onnx(box_policy, action_mask=True)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(box_policy, opset=0)
    with pytest.raises(ValueError, match="model_name"):
        to_onnx(box_policy, model_name="")
    with pytest.raises(FileNotFoundError, match="to_onnx"):
        onnx_policy_fn(tmp_path / "missing.onnx")
    run = onnx_policy_fn(to_onnx(box_policy))
    with pytest.raises(ValueError, match="unexpected.*action_mask"):
        run(np.zeros((2, 3)), action_mask=np.ones((2, 2), bool))
    recurrent = RecurrentActorCriticPolicy(
        (BOX, Discrete(2)), hidden_size=8, feature_width=8, value_width=8, key=jr.key(0)
    )
    with pytest.raises(ValueError, match=r"missing \['state.hidden'\]"):
        onnx_policy_fn(to_onnx(recurrent))(np.zeros((2, 3)))


def test_clashing_input_names(tmp_path):
    """Dict keys whose dotted paths coincide are refused before anything is
    written, naming both keys."""
    space = Dict({"a.b": BOX, "a": Dict(b=BOX)})
    policy = MLPActorCriticPolicy((space, Discrete(3)), **AC, key=jr.key(0))
    match = r"\['a'\]\['b'\] and \['a\.b'\].*'observation\.a\.b'"
    with pytest.raises(ValueError, match=match):
        to_onnx(policy, output_path=tmp_path / "policy.onnx")
    assert os.listdir(tmp_path) == []


def test_import_is_lazy():
    """`import lerax.export` pulls in neither jax2onnx nor onnxruntime."""
    code = (
        "import sys, lerax.export; "
        "assert not {'jax2onnx', 'onnx', 'onnxruntime'} & set(sys.modules), "
        "sorted({'jax2onnx', 'onnx', 'onnxruntime'} & set(sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))
