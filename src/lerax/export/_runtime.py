"""`onnx_policy_fn`: run an exported policy with onnxruntime as a NumPy function."""

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
import numpy as np

from .._extras import require
from ._naming import named_leaves

if TYPE_CHECKING:
    import onnx

_DTYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(bfloat16)": jnp.bfloat16,
    "tensor(int8)": np.int8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
}
"""NumPy dtypes of the ONNX tensor types a `to_onnx` model can take as inputs
(every JAX array dtype), keyed by onnxruntime's type names."""


def _feed(ort: Any, onnx: Any, value: Any, dtype: Any) -> Any:
    """`value` as an onnxruntime input of `dtype` (None: as given)."""
    array = np.asarray(value, dtype)
    if array.dtype == jnp.bfloat16:
        # onnxruntime reads no NumPy bfloat16: hand it the raw 16-bit words
        return ort.OrtValue.ortvalue_from_numpy_with_onnx_type(
            np.ascontiguousarray(array).view(np.uint16), onnx.TensorProto.BFLOAT16
        )
    return array


def onnx_policy_fn(
    model: "str | os.PathLike[str] | onnx.ModelProto",
    *,
    providers: Sequence[str] = ("CPUExecutionProvider",),
) -> Callable[..., dict[str, np.ndarray]]:
    """Loads a model written by `lerax.export.to_onnx` into onnxruntime.

    The returned function takes a batch of observations and returns the
    model's outputs by name::

        act = onnx_policy_fn("policy.onnx")
        out = act(observations)                   # {"action": ..., "value": ...}
        out = act(observations, action_mask=masks)
        out = act(observations, state=state)      # recurrent: feed back
        state = {"hidden": out["next_state.hidden"]}

    `observation` is an array with a leading batch axis, or for `Dict` /
    `Tuple` observation spaces a dict / tuple of such arrays (named as
    `to_onnx` names its inputs). `state` is the policy state pytree (for
    example `RecurrentPolicyState(hidden=h)` or `{"hidden": h}`) with a
    leading batch axis. Inputs are cast to the dtypes the model declares.
    A model exported with `to_onnx(..., normalization=...)` takes raw
    observations, as the normaliser's inner env emits them (its
    observation space's shape; cast to that space's dtype, which the model
    declares), and standardises them itself: do not normalise them first.

    Args:
        model: A path to an `.onnx` file or an `onnx.ModelProto`. A path
            without a suffix that names no file reads the `.onnx` file
            `to_onnx` writes for it (`"policy"`: `"policy.onnx"`).
        providers: onnxruntime execution providers, in order of preference.

    Returns:
        `fn(observation, *, state=None, action_mask=None) -> dict[str, ndarray]`.

    Raises:
        FileNotFoundError: If `model` is a path that does not exist.
        ImportError: If the `onnx` extra is not installed.
    """
    ort = require("onnxruntime", "onnx")
    onnx = require("onnx", "onnx")
    if isinstance(model, onnx.ModelProto):
        source: Any = model.SerializeToString()
    else:
        path = Path(model)
        if not path.is_file() and path.suffix == "":
            # `to_onnx(output_path="policy")` wrote "policy.onnx"
            path = path.with_name(path.name + ".onnx")
        if not path.is_file():
            raise FileNotFoundError(
                f"`onnx_policy_fn` found no ONNX model at {str(path)!r}; write one "
                "with `lerax.export.to_onnx(policy, output_path=...)`."
            )
        source = str(path)
    session = ort.InferenceSession(source, providers=list(providers))
    dtypes = {node.name: _DTYPES.get(node.type) for node in session.get_inputs()}
    output_names = [node.name for node in session.get_outputs()]

    def policy_fn(
        observation: Any, *, state: Any = None, action_mask: Any = None
    ) -> dict[str, np.ndarray]:
        """Runs the model on a batch; returns its outputs by name."""
        feeds = named_leaves("observation", observation) + named_leaves("state", state)
        if action_mask is not None:
            feeds.append(("action_mask", action_mask))
        given = {name for name, _ in feeds}
        missing, unknown = sorted(set(dtypes) - given), sorted(given - set(dtypes))
        if missing or unknown:
            raise ValueError(
                f"The ONNX model takes inputs {sorted(dtypes)}; missing {missing}, "
                f"unexpected {unknown}. Pass the observation (a dict/tuple for "
                "composite spaces), `state=` for stateful policies and "
                "`action_mask=` if the model was exported with `action_mask=True`."
            )
        arrays = {name: _feed(ort, onnx, value, dtypes[name]) for name, value in feeds}
        return dict(zip(output_names, session.run(output_names, arrays)))

    return policy_fn
