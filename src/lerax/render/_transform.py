"""`Transform`: maps world coordinates to pixel coordinates."""

import math
from collections.abc import Sequence
from typing import final

import equinox as eqx
import jax
import numpy as np

from ..utils._checks import real_scalar


@final
class Transform(eqx.Module):
    """A uniform scaling plus offset from world units to pixels, with y up.

    A world point `(x, y)` lands at pixel `(offset_x + scale * x,
    offset_y + scale * y)`, counted from the *bottom-left* corner of the
    image, so "up" in the world is up on screen (the renderer flips rows when
    it produces the image, as Gymnasium's classic-control renderers do).

    Attributes:
        scale: Pixels per world unit (> 0).
        offset: The pixel position `(x, y)` of the world origin.
    """

    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)

    def __check_init__(self):
        _check_scale(self.scale)
        _check_offset(self.offset)

    @classmethod
    def fit(
        cls,
        x_range: tuple[float, float],
        width: int,
        *,
        y_min: float = 0.0,
    ) -> "Transform":
        """The transform that maps `x_range` onto the image's full width.

        Args:
            x_range: The world `(x_min, x_max)` shown from the left edge to the
                right edge.
            width: The image width in pixels.
            y_min: The world height shown at the bottom edge.

        Returns:
            The transform.
        """
        x_min, x_max = (float(v) for v in x_range)
        if not x_max > x_min:
            raise ValueError(f"`x_range` must be increasing, got {x_range}.")
        scale = width / (x_max - x_min)
        return cls(scale, (-x_min * scale, -y_min * scale))

    def point(self, point: Sequence[float]) -> tuple[float, float]:
        """Maps one world point to pixel coordinates (y up)."""
        x, y = (float(v) for v in point)
        return (self.offset[0] + self.scale * x, self.offset[1] + self.scale * y)

    def points(self, points: Sequence[Sequence[float]]) -> np.ndarray:
        """Maps world points, shape `[n, 2]`, to pixel coordinates (y up)."""
        array = np.asarray(points, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError(f"Points must have shape [n, 2], got {array.shape}.")
        return np.asarray(self.offset, np.float64) + self.scale * array

    def length(self, length: float) -> float:
        """Maps a world length to pixels."""
        return self.scale * float(length)

    def scale_length(self, length: float) -> float:
        """The earlier lerax's name for `length`."""
        return self.length(length)


def _check_scale(scale: object) -> None:
    """Refuses a concrete `scale` that is not a finite real scalar > 0
    (Python, NumPy or a 0-d JAX array, of any int or float dtype): zero,
    negative, NaN, infinite, a boolean or not a number. A traced value (a
    `Transform` passed through `jax.jit`) is not checked, nor is an array of
    several scales."""
    if isinstance(scale, jax.core.Tracer):
        return
    if not isinstance(scale, (bool, np.bool_)) and np.ndim(scale) > 0:
        return
    value = real_scalar(scale)
    if value is None or not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"`Transform(scale=...)` must be > 0 and finite (pixels per world "
            f"unit), got {scale!r}. Pass a positive number, e.g. "
            "`Transform.fit(x_range, width)` computes one from the world range "
            "shown."
        )


def _check_offset(offset: object) -> None:
    """Refuses an `offset` that is not a pair of finite real numbers (traced
    components are not checked)."""
    try:
        parts = list(offset)  # type: ignore[call-overload]
    except TypeError:
        parts = None
    good = parts is not None and len(parts) == 2
    if good:
        for part in parts:
            if isinstance(part, jax.core.Tracer):
                continue
            value = real_scalar(part)
            good = good and value is not None and math.isfinite(value)
    if not good:
        raise ValueError(
            "`Transform(offset=...)` must be a pair (x, y) of finite numbers (the "
            f"pixel position of the world origin), got {offset!r}."
        )
