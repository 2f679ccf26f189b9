"""`to_onnx`: export a policy's deterministic action (and value estimates) to ONNX."""

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._extras import require
from ..policy import AbstractActorCriticPolicy, AbstractPolicy, AbstractQPolicy
from ..space import AbstractSpace, Discrete, MultiBinary, MultiDiscrete
from ..utils import atomic_write
from ._batching import batched
from ._naming import named_leaves
from ._normalization import check_normalization, describe

if TYPE_CHECKING:
    import onnx

    from ..wrapper import NormalizeObservation

DEFAULT_OPSET = 21
"""ONNX opset used by `to_onnx` unless told otherwise (onnxruntime >= 1.18)."""

MIN_OPSET = 13
"""Oldest ONNX opset `to_onnx` can target: the exported graphs use `ArgMax`
with `select_last_index` (opset 12) and `Squeeze`, `Unsqueeze`, `ReduceSum` and
`Split` taking their axes / sizes as inputs (opset 13). The newest is the
installed `onnx` package's (`onnx.defs.onnx_opset_version()`)."""

BATCH_AXIS = "batch"
"""Name of the dynamic leading axis of every input and output."""

SUPPORTED = (
    "lerax policies (`lerax.policy.AbstractPolicy`): actor-critic "
    "(`MLPActorCriticPolicy`, `RecurrentActorCriticPolicy`), Q "
    "(`MLPQPolicy`), deterministic (`MLPDeterministicPolicy`) and SAC "
    "(`MLPSACPolicy`, `MLPDiscreteSACPolicy`) policies"
)


def _mask_spec(space: AbstractSpace) -> jax.ShapeDtypeStruct | None:
    """Shape of one action mask for `space` (None: the space takes no masks)."""
    if isinstance(space, Discrete):
        return jax.ShapeDtypeStruct((space.n,), jnp.bool_)
    if isinstance(space, MultiDiscrete):
        width = int(np.max(space.nvec))
        return jax.ShapeDtypeStruct(tuple(space.shape) + (width,), jnp.bool_)
    if isinstance(space, MultiBinary):
        return jax.ShapeDtypeStruct(tuple(space.shape), jnp.bool_)
    return None


def _specs(tree: Any) -> Any:
    """Shape/dtype structs of a pytree of arrays (weak types dropped)."""
    return jax.tree.map(
        lambda leaf: jax.ShapeDtypeStruct(jnp.shape(leaf), jnp.result_type(leaf)),
        tree,
    )


class _BatchedSpec:
    """An input spec with a named dynamic batch axis, as jax2onnx reads it."""

    def __init__(self, spec: jax.ShapeDtypeStruct):
        self.shape = (BATCH_AXIS, *spec.shape)
        self.dtype = np.dtype(spec.dtype)


@contextlib.contextmanager
def _quiet_serializer() -> Iterator[None]:
    """Silences onnx_ir's warnings about intermediate values whose type jax2onnx
    leaves unset (they only lose optional shape annotations)."""
    logger = logging.getLogger("onnx_ir.serde")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _resolve_path(output_path: str | os.PathLike[str]) -> Path:
    path = Path(output_path)
    return path.with_name(path.name + ".onnx") if path.suffix == "" else path


def to_onnx(
    policy: AbstractPolicy,
    *,
    output_path: str | os.PathLike[str] | None = None,
    model_name: str = "lerax_policy",
    opset: int = DEFAULT_OPSET,
    action_mask: bool = False,
    normalization: "NormalizeObservation | None" = None,
) -> "onnx.ModelProto":
    """Exports a policy's deterministic behaviour as an ONNX model.

    The graph computes, for a batch of observations, the action the policy
    takes without a key (`policy(state, observation)`): the distribution's
    mode for actor-critic policies (argmax for discrete actions, the clipped
    mean for `Box`), the greedy action for Q policies, the squashed mean for
    `MLPSACPolicy`, the most probable action for `MLPDiscreteSACPolicy`.

    A policy trained behind `lerax.wrapper.NormalizeObservation` acts on
    standardised observations. Pass the frozen normaliser as `normalization`
    and the graph takes raw observations instead: it standardises them as
    the wrapper does (`normalization.normalize(observation,
    normalization.initial_statistics)`: subtract the mean, divide by
    `sqrt(var + epsilon)`, clip to `[-clip, clip]`, cast to float32, with the
    statistics fixed in the graph), then runs the policy. The outputs do not
    change.

    Inputs (every one with a leading dynamic batch axis named ``"batch"``).
    "Typed like" a space below means its dtype, except that the graph has no
    64-bit types: with `jax_enable_x64` on, a `float64` (`int64`) space gives
    a `float32` (`int32`) input or output, as jax2onnx exports, so cast
    float64 observations to float32 before feeding them to the model
    (`onnx_policy_fn` does this for you):

    - ``"observation"``, shaped and typed like one sample of the policy's
      observation space; a `Dict` or `Tuple` observation space gives one input
      per leaf, named ``"observation.<key>"`` / ``"observation.<index>"``
      (nested keys joined with dots). With `normalization`, the raw
      observation instead: shaped and typed like a sample of
      `normalization.env.observation_space`.
    - ``"action_mask"`` (bool), only with `action_mask=True`: for `Discrete`
      actions shape `(n,)`, for `MultiBinary` the space's shape, for
      `MultiDiscrete` the padded layout `nvec.shape + (max(nvec),)`.
    - The policy state for stateful policies: ``"state.hidden"`` for
      `RecurrentActorCriticPolicy` (`(hidden_size,)` for a GRU,
      `(2, hidden_size)` for an LSTM; the initial state is
      `policy.reset(...)`, zeros).

    Outputs: ``"action"`` (the action space's shape, typed like it, so
    `float32` for a `float64` `Box`; `int32` for discrete spaces, `bool`
    for `MultiBinary`); ``"value"`` (float, one per observation) for
    actor-critic policies; ``"q_values"`` (`(n,)` per observation) for Q
    policies (unmasked; the action is the argmax over the
    allowed ones); and for stateful policies the new state, named like its
    input with the prefix ``"next_state"`` (``"next_state.hidden"``).

    Args:
        policy: The policy to export. Any `lerax.policy.AbstractPolicy`
            whose deterministic call jax2onnx can convert; the families
            named above are tested.
        output_path: Where to write the model, if anywhere. `.onnx` is
            appended when the path has no suffix. The file is written
            atomically (a temporary file then a rename).
        model_name: The ONNX graph's name.
        opset: The ONNX opset to target: from `MIN_OPSET` (13) to the
            newest the installed `onnx` package defines
            (`onnx.defs.onnx_opset_version()`). The default, 21, is read by
            onnxruntime >= 1.18; newer opsets need a newer runtime.
        action_mask: Add the ``"action_mask"`` input. Only for `Discrete`,
            `MultiDiscrete` and `MultiBinary` action spaces.
        normalization: The frozen `NormalizeObservation` the policy was
            trained behind, to bake into the graph (None: the graph takes
            the observations the policy takes). Get it with
            `lerax.wrapper.sync_normalization(eval_env, env,
            state.actors.env_state)` after training,
            `load_normalization(normalization_path(policy_path),
            NormalizeObservation(env))` (the CLI's
            `policy.normalization.eqx`) or `NormalizeObservation(env).frozen(
            statistics)`. The model's metadata then records it under
            ``"lerax.normalization"``, and ``"lerax.observation_space"`` is
            the raw observation space.

    Returns:
        The ONNX model (`onnx.ModelProto`).

    Raises:
        TypeError: If `policy` is not a lerax policy, or an argument has the
            wrong type: `normalization` not a `NormalizeObservation`, or
            given for a policy whose observation space is not a `Box`
            (`Dict`, `Tuple`, ...).
        ValueError: If `action_mask=True` for an action space without masks,
            `model_name` is empty, or `opset` is outside
            `[MIN_OPSET, onnx.defs.onnx_opset_version()]`, or two observation
            leaves get the same input name (`Dict` keys ``"a.b"`` and
            ``"a"`` holding ``"b"``); or if `normalization` is not frozen,
            holds no statistics (or batched ones), wraps another
            `NormalizeObservation`, or emits observations of another shape
            or dtype than the policy's observation space. Nothing is written
            then.
        IsADirectoryError: If `output_path` is a folder (nothing is written;
            the model is not returned).
        NotADirectoryError: If a folder above `output_path` is a file.
        OSError: If the file cannot be written otherwise (permissions, a
            full disk); an existing file at `output_path` is kept.
        ImportError: If the `onnx` extra is not installed.
    """
    if not isinstance(policy, AbstractPolicy):
        raise TypeError(f"`to_onnx` exports {SUPPORTED}; got {type(policy).__name__}.")
    if not isinstance(model_name, str) or not model_name:
        raise ValueError(
            f"`to_onnx(model_name=...)` must be a non-empty str, got {model_name!r}."
        )
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise ValueError(
            f"`to_onnx(opset=...)` must be an int such as {DEFAULT_OPSET}, "
            f"got {opset!r}."
        )
    if not isinstance(action_mask, bool):
        raise TypeError(
            f"`to_onnx(action_mask=...)` must be a bool, got {action_mask!r}."
        )
    mask_spec = _mask_spec(policy.action_space) if action_mask else None
    if action_mask and mask_spec is None:
        raise ValueError(
            f"`to_onnx(action_mask=True)` needs a Discrete, MultiDiscrete or "
            f"MultiBinary action space; {policy.name} acts in "
            f"{policy.action_space!r}, which takes no action masks. Drop "
            "`action_mask=True`."
        )
    if normalization is not None:
        check_normalization(policy, normalization)
    jax2onnx = require("jax2onnx", "onnx")
    onnx = require("onnx", "onnx")
    max_opset = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= max_opset:
        raise ValueError(
            f"`to_onnx(opset={opset})` is out of range: the exported graphs need "
            f"opset >= {MIN_OPSET}, and the installed onnx {onnx.__version__} "
            f"knows opsets up to {max_opset}. Pass an opset in "
            f"[{MIN_OPSET}, {max_opset}] (default {DEFAULT_OPSET}); the runtime "
            "that loads the model must support it too."
        )

    # the space of the "observation" input: the raw one behind a normaliser
    input_space = (
        policy.observation_space
        if normalization is None
        else normalization.env.observation_space
    )
    observation = _specs(jax.eval_shape(input_space.canonical))
    state = _specs(jax.eval_shape(lambda: policy.reset(key=jr.key(0))))
    inputs = named_leaves("observation", observation) + named_leaves("state", state)
    if mask_spec is not None:
        inputs.append(("action_mask", mask_spec))
    observation_tree = jax.tree.structure(observation)
    state_tree = jax.tree.structure(state)
    num_observation = observation_tree.num_leaves
    num_state = state_tree.num_leaves

    def one(*leaves: Any) -> dict[str, Any]:
        obs = observation_tree.unflatten(leaves[:num_observation])
        if normalization is not None:
            obs = normalization.normalize(obs, normalization.initial_statistics)
        current = state_tree.unflatten(
            leaves[num_observation : num_observation + num_state]
        )
        kwargs = {} if mask_spec is None else {"action_mask": leaves[-1]}
        next_state, action = policy(current, obs, **kwargs)
        outputs: dict[str, Any] = {"action": action}
        if isinstance(policy, AbstractActorCriticPolicy):
            outputs["value"] = policy.value(current, obs)[1]
        if isinstance(policy, AbstractQPolicy):
            outputs["q_values"] = policy.q_values(current, obs)[1]
        outputs["next_state"] = next_state
        return outputs

    fn, out_tree = batched(one, [spec for _, spec in inputs])
    # outputs flatten as the dict's leaves (sorted keys), named by their paths
    template = out_tree.unflatten(range(out_tree.num_leaves))
    output_names = [name for name, _ in named_leaves("", template)]
    with _quiet_serializer():
        model = jax2onnx.to_onnx(
            fn,
            [_BatchedSpec(spec) for _, spec in inputs],
            model_name=model_name,
            opset=opset,
            input_names=[name for name, _ in inputs],
            output_names=output_names,
        )
    inputs_described = (
        "observations."
        if normalization is None
        else "raw observations, standardised in the graph as the frozen "
        "`NormalizeObservation` does."
    )
    model.doc_string = (
        f"{policy.name} exported by lerax: deterministic action for a batch of "
        f"{inputs_described}"
    )
    props = {
        "lerax.policy": policy.name,
        "lerax.observation_space": repr(input_space),
        "lerax.action_space": repr(policy.action_space),
    }
    if normalization is not None:
        props["lerax.normalization"] = describe(normalization)
    onnx.helper.set_model_props(model, props)
    if output_path is not None:
        path = _resolve_path(output_path)
        data = model.SerializeToString()
        atomic_write(path, lambda file: file.write(data))
    return model
