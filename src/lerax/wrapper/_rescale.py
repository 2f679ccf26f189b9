"""Affine maps between boxes, shared by `RescaleAction` and `RescaleObservation`."""

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..space import Box


def rescaled_box(inner: Box, min: Any, max: Any, what: str) -> Box:
    """The box `[min, max]` in the dims where `inner` is bounded; `inner`'s own
    bounds elsewhere (those dims pass through unchanged).

    Raises:
        ValueError: If `min >= max` somewhere.
    """
    lo = np.broadcast_to(np.asarray(min, np.float64), inner.shape)
    hi = np.broadcast_to(np.asarray(max, np.float64), inner.shape)
    if not (lo < hi).all():
        raise ValueError(
            f"`{what}(min=..., max=...)` needs min < max, got {min} and {max}."
        )
    finite = _finite(inner)
    return Box(
        np.where(finite, lo, inner.low), np.where(finite, hi, inner.high), inner.shape
    )


def _finite(box: Box) -> np.ndarray:
    return np.isfinite(box.low) & np.isfinite(box.high)


def affine(x: Array, source: Box, target: Box) -> Array:
    """Maps `x` from `source`'s bounds onto `target`'s, dim by dim (identity
    where either box is unbounded)."""
    finite = _finite(source) & _finite(target)
    s_lo = np.where(finite, source.low, 0.0).astype(np.float32)
    s_hi = np.where(finite, source.high, 1.0).astype(np.float32)
    t_lo = np.where(finite, target.low, 0.0).astype(np.float32)
    t_hi = np.where(finite, target.high, 1.0).astype(np.float32)
    scale = (t_hi - t_lo) / (s_hi - s_lo)
    mapped = t_lo + (jnp.asarray(x) - s_lo) * scale
    return jnp.where(finite, mapped, x).astype(target.dtype)


def static_bound(x: Any) -> Any:
    """Converts a scalar or array bound to a hashable float or nested tuple."""

    def freeze(v: Any) -> Any:
        return tuple(freeze(i) for i in v) if isinstance(v, list) else float(v)

    return freeze(np.asarray(x, dtype=np.float64).tolist())
