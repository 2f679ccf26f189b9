"""Export policies to ONNX (extra `onnx`: jax2onnx, onnx, onnxruntime).

`to_onnx` turns a policy's deterministic action (and its value estimates)
into an ONNX graph over a batch of observations (with `normalization=`, a
frozen `NormalizeObservation` baked in, so the graph takes raw
observations); `onnx_policy_fn` runs such a model with onnxruntime as a
NumPy function. The heavy dependencies are imported when these are called,
so importing `lerax.export` is cheap.
"""

from ._onnx import DEFAULT_OPSET as DEFAULT_OPSET
from ._onnx import MIN_OPSET as MIN_OPSET
from ._onnx import to_onnx as to_onnx
from ._runtime import onnx_policy_fn as onnx_policy_fn
