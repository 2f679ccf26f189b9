"""Affine maps between boxes, shared by `RescaleAction` and `RescaleObservation`."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..space import Box
from ..space._utils import is_float_dtype


def rescaled_box(inner: Box, min: Any, max: Any, what: str) -> Box:
    """The box `[min, max]` in the dims where `inner` is bounded; `inner`'s
    own bounds elsewhere (those dims pass through unchanged). It has
    `inner`'s floating dtype (as Gymnasium's rescaling wrappers), float32
    when `inner` is an integer box.

    Raises:
        ValueError: If `min >= max` somewhere, a bound is not finite, or the
            bounds do not broadcast to `inner`'s shape.
    """
    try:
        lo = np.broadcast_to(np.asarray(min, np.float64), inner.shape)
        hi = np.broadcast_to(np.asarray(max, np.float64), inner.shape)
    except ValueError as error:
        raise ValueError(
            f"`{what}(min=..., max=...)` must be scalars or broadcast to the "
            f"space's shape {inner.shape}, got shapes {np.shape(min)} and "
            f"{np.shape(max)}."
        ) from error
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(
            f"`{what}(min=..., max=...)` must be finite, got {min} and {max}."
        )
    if not (lo < hi).all():
        raise ValueError(
            f"`{what}(min=..., max=...)` needs min < max, got {min} and {max}."
        )
    finite = _finite(inner)
    return Box(
        np.where(finite, lo, inner.low),
        np.where(finite, hi, inner.high),
        inner.shape,
        dtype=inner.dtype if is_float_dtype(inner.dtype) else jnp.float32,
    )


def _finite(box: Box) -> np.ndarray:
    return np.isfinite(box.low) & np.isfinite(box.high)


def affine(x: Array, source: Box, target: Box) -> Array:
    """Maps `x` from `source`'s bounds onto `target`'s, dim by dim (identity
    where either box is unbounded).

    The map is written around the boxes' midpoints, with the coefficients
    computed in float64, so bounds as large as `float32`'s maximum (common for
    velocities) neither overflow nor wash out `x`. Values inside `source` land
    inside `target` (rounding is clipped away) and the bounds map exactly onto
    the bounds. The map is applied in float32, or in float64 when `target`
    is float64 (under `jax_enable_x64`), so such a target keeps its
    precision.
    """
    work = np.float64 if target.dtype == np.float64 else np.float32
    finite = _finite(source) & _finite(target)
    s_lo = np.where(finite, source.low, -1.0).astype(np.float64)
    s_hi = np.where(finite, source.high, 1.0).astype(np.float64)
    t_lo = np.where(finite, target.low, -1.0).astype(np.float64)
    t_hi = np.where(finite, target.high, 1.0).astype(np.float64)
    span = s_hi - s_lo
    proper = span > 0
    # A degenerate source dim (low == high) maps onto the target's midpoint.
    scale = np.where(proper, (t_hi - t_lo) / np.where(proper, span, 1.0), 0.0)
    s_mid = (s_lo / 2 + s_hi / 2).astype(work)
    t_mid = (t_lo / 2 + t_hi / 2).astype(work)
    s_lo, s_hi = s_lo.astype(work), s_hi.astype(work)
    t_lo, t_hi = t_lo.astype(work), t_hi.astype(work)
    x = jnp.asarray(x)
    xf = x.astype(work)
    info = np.finfo(work)
    if ((scale > 0) & ((scale < info.tiny) | (scale > info.max))).any():
        # The scale is no normal float32 (e.g. bounds near float32's maximum
        # mapped onto [-1, 1]): apply it as two factors of about its square
        # root, kept apart so XLA does not fold them back into one constant
        # (which would be flushed to zero or overflow).
        root = np.sqrt(scale)
        rest = np.where(root > 0, scale / np.where(root > 0, root, 1.0), 0.0)
        scaled = jax.lax.optimization_barrier((xf - s_mid) * root.astype(work))
        mapped = t_mid + scaled * rest.astype(work)
    else:
        mapped = t_mid + (xf - s_mid) * scale.astype(work)
    inside = (xf >= s_lo) & (xf <= s_hi)
    mapped = jnp.where(inside, jnp.clip(mapped, t_lo, t_hi), mapped)
    mapped = jnp.where(proper & (xf == s_lo), t_lo, mapped)
    mapped = jnp.where(proper & (xf == s_hi), t_hi, mapped)
    if jnp.issubdtype(target.dtype, jnp.integer):
        mapped = jnp.round(mapped)
    return jnp.where(finite, mapped, x).astype(target.dtype)


def static_bound(x: Any) -> Any:
    """Converts a scalar or array bound to a hashable float or nested tuple."""

    def freeze(v: Any) -> Any:
        return tuple(freeze(i) for i in v) if isinstance(v, list) else float(v)

    return freeze(np.asarray(x, dtype=np.float64).tolist())
