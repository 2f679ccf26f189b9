"""Batch a per-example function over a leading axis in plain `jax.lax` primitives.

jax2onnx converts a traced JAX function into an ONNX graph. While it traces,
it replaces several `jax.numpy` functions (`argmax`, `reshape`, ...) by its own
primitives, and their batching rules are not always right under `jax.vmap`
(for example jax2onnx 0.17 shifts a negative `argmax` axis onto the batch
axis), and some `lax` lowerings reject a symbolic batch size (`pad`). So the
per-example function is first traced here, outside jax2onnx, into a jaxpr of
standard primitives with concrete shapes; the function handed to jax2onnx
replays that jaxpr under `jax.vmap`, so JAX's own batching rules add the batch
axis. While replaying, nested `jit` calls and custom-derivative wrappers are
inlined (only the forward pass matters for inference) and `pad` is rewritten
as a concatenation. jax2onnx traces with 64-bit types off, so a jaxpr made
with `jax_enable_x64` on has its constants and literals cast to the types JAX
gives them now (float64 to float32, int64 to int32), like jax2onnx's inputs,
and so are the dtypes equations name (`convert_element_type`'s `new_dtype`).
"""

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax import lax
from jax.extend import core as jex_core

_INLINED_CALLS = ("pjit", "jit", "closed_call", "core_call")
_CUSTOM_CALLS = ("custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr")


def _inner_jaxpr(params: dict[str, Any]) -> Any:
    for name in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        if name in params:
            return params[name]
    return None


def _canonical(value: Any) -> Any:
    """`value` cast to the type JAX gives its dtype now (float64 to float32
    with `jax_enable_x64` off); other values are returned as they are."""
    dtype = getattr(value, "dtype", None)
    if not isinstance(dtype, np.dtype):  # Python scalars, PRNG keys
        return value
    canonical = jax.dtypes.canonicalize_dtype(dtype)
    if canonical == dtype:
        return value
    if not isinstance(value, np.generic):
        # a weakly typed scalar literal (JAX's `TypedFloat` / `TypedInt`, such
        # as the `epsilon` of `var + epsilon`) keeps its 64-bit dtype when
        # bound; a plain Python scalar takes the type JAX gives it now
        for python_type in (int, float, complex):
            if isinstance(value, python_type):
                return python_type(value)
    return value.astype(canonical)


def _canonical_params(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with their dtypes (`new_dtype`, `preferred_element_type`, ...)
    replaced by the types JAX gives them now."""
    return {
        name: jax.dtypes.canonicalize_dtype(value)
        if isinstance(value, np.dtype)
        else value
        for name, value in params.items()
    }


def _pad(x: Any, padding_value: Any, padding_config: Sequence[tuple]) -> Any:
    """`lax.pad` without interior or negative padding, as concatenations."""
    for axis, (low, high, _) in enumerate(padding_config):
        parts = []
        for size, after in ((low, False), (high, True)):
            if size:
                shape = list(x.shape)
                shape[axis] = size
                block = lax.broadcast_in_dim(padding_value, tuple(shape), ())
                parts.append((after, block))
        if parts:
            pieces = [b for after, b in parts if not after]
            pieces += [x] + [b for after, b in parts if after]
            x = lax.concatenate(pieces, axis)
    return x


def _simple_padding(padding_config: Sequence[tuple]) -> bool:
    return all(
        lo >= 0 and hi >= 0 and interior == 0 for lo, hi, interior in padding_config
    )


def replay(jaxpr: Any, consts: Sequence[Any], *args: Any) -> list[Any]:
    """Evaluates `jaxpr` on `args`, inlining calls and rewriting `pad`.

    Args:
        jaxpr: An open jaxpr (`ClosedJaxpr.jaxpr`).
        consts: Values for its constant variables.
        *args: Values for its input variables.

    Returns:
        The values of its output variables.
    """
    env: dict[Any, Any] = {}

    def read(var: Any) -> Any:
        return _canonical(var.val) if isinstance(var, jex_core.Literal) else env[var]

    env.update(zip(jaxpr.constvars, map(_canonical, consts)))
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        values = [read(var) for var in eqn.invars]
        name = eqn.primitive.name
        inner = _inner_jaxpr(eqn.params)
        if isinstance(inner, jex_core.Jaxpr):
            inner = jex_core.ClosedJaxpr(inner, ())
        if (
            name in _INLINED_CALLS + _CUSTOM_CALLS
            and isinstance(inner, jex_core.ClosedJaxpr)
            and len(inner.jaxpr.invars) == len(values)
        ):
            outputs = replay(inner.jaxpr, inner.consts, *values)
        elif name == "pad" and _simple_padding(eqn.params["padding_config"]):
            outputs = [_pad(*values, eqn.params["padding_config"])]
        else:
            params = eqn.primitive.get_bind_params(_canonical_params(eqn.params))
            outputs = eqn.primitive.bind(*values, **params)
            if not eqn.primitive.multiple_results:
                outputs = [outputs]
        env.update(zip(eqn.outvars, outputs))
    return [read(var) for var in jaxpr.outvars]


def batched(
    fn: Callable[..., Any], example_args: Sequence[jax.ShapeDtypeStruct]
) -> tuple[Callable[..., Any], Any]:
    """Traces the per-example `fn` and returns its batched replay.

    Args:
        fn: A function of array arguments (one example each) returning a
            pytree of arrays.
        example_args: Shape/dtype of each argument for one example.

    Returns:
        `(batched_fn, out_tree)`: `batched_fn` takes each argument with a
        leading batch axis and returns the flat list of outputs, each with a
        leading batch axis; `out_tree` is the outputs' tree structure.
    """
    closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*example_args)
    out_tree = jax.tree_util.tree_structure(out_shape)

    def one(*args: Any) -> tuple[Any, ...]:
        return tuple(replay(closed.jaxpr, closed.consts, *args))

    def batched_fn(*args: Any) -> tuple[Any, ...]:
        return jax.vmap(one)(*args)

    return batched_fn, out_tree
