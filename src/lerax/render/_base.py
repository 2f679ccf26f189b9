"""Renderer interfaces: frames in general, 2-D drawing in world coordinates."""

import abc
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import numpy as np
from jaxtyping import UInt8

from ._transform import Transform

ColorLike = Any
"""Anything `lerax.render.Color.of` accepts."""

Point = Sequence[float]
"""A world point `(x, y)`."""


class AbstractRenderer(eqx.Module):
    """Something that shows or records frames.

    The life cycle is `open()`, then per frame `clear(color)`, drawing calls
    (renderer-specific), `draw()` to present the frame, and finally `close()`
    (or `abort()` after a failure). `frame()` returns the current image at
    any time after `open()`. As a context manager, a renderer is opened on
    entry and closed on exit, or aborted if the block raised.

    Renderers are host-side objects: they are never used inside `jax.jit`,
    and they keep mutable state (a window, an image, collected frames)
    behind their immutable Equinox fields.
    """

    @abc.abstractmethod
    def open(self) -> None:
        """Acquires resources (a window or an off-screen image)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Releases resources (and, for recorders, writes the output)."""

    def abort(self) -> None:
        """Releases resources after a failure; recorders write nothing (an
        existing output file is kept). By default the same as `close()`."""
        self.close()

    @abc.abstractmethod
    def clear(self, color: ColorLike = (255, 255, 255)) -> None:
        """Fills the whole image with `color`."""

    @abc.abstractmethod
    def draw(self) -> None:
        """Presents the frame drawn since the last `clear` (shows it in a
        window, or records it)."""

    @abc.abstractmethod
    def frame(self) -> UInt8[np.ndarray, "height width 3"]:
        """The current image as an RGB array of shape `[height, width, 3]`."""

    def as_array(self) -> UInt8[np.ndarray, "height width 3"]:
        """The earlier lerax's name for `frame()`."""
        return self.frame()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class Abstract2DRenderer(AbstractRenderer):
    """A renderer with 2-D drawing primitives in world coordinates.

    Positions and lengths are world units, mapped to pixels by `transform`;
    line widths and text sizes are in pixels. Colours are anything
    `lerax.render.Color.of` accepts.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        transform: World-to-pixel mapping.
    """

    width: eqx.AbstractVar[int]
    height: eqx.AbstractVar[int]
    transform: eqx.AbstractVar[Transform]

    @abc.abstractmethod
    def line(
        self, start: Point, end: Point, color: ColorLike, *, width: int = 1
    ) -> None:
        """A straight line from `start` to `end`, `width` pixels wide."""

    @abc.abstractmethod
    def polyline(
        self,
        points: Sequence[Point],
        color: ColorLike,
        *,
        width: int = 1,
        closed: bool = False,
    ) -> None:
        """Connected line segments through `points` (anti-aliased when
        `width` is 1)."""

    @abc.abstractmethod
    def polygon(
        self, points: Sequence[Point], color: ColorLike, *, filled: bool = True
    ) -> None:
        """An anti-aliased polygon through `points`, filled or outlined."""

    @abc.abstractmethod
    def rect(
        self,
        lower_left: Point,
        upper_right: Point,
        color: ColorLike,
        *,
        filled: bool = True,
    ) -> None:
        """An axis-aligned rectangle between two corners."""

    @abc.abstractmethod
    def circle(
        self, center: Point, radius: float, color: ColorLike, *, filled: bool = True
    ) -> None:
        """An anti-aliased circle of world `radius` around `center`."""

    @abc.abstractmethod
    def text(
        self,
        position: Point,
        text: str,
        color: ColorLike = (0, 0, 0),
        *,
        size: int = 16,
        anchor: str = "center",
    ) -> None:
        """A line of text `size` pixels high; `anchor` (``"center"``,
        ``"topleft"``, ``"bottomleft"``, ...) says which point of the text's
        box lies at `position`."""

    # The earlier lerax's drawing names, kept so that `render` methods written
    # for it draw here unchanged; each is one call of the primitive above.

    def draw_line(
        self, start: Point, end: Point, color: ColorLike, width: int = 1
    ) -> None:
        """The earlier lerax's name for `line`."""
        self.line(start, end, color, width=width)

    def draw_polyline(self, points: Sequence[Point], color: ColorLike) -> None:
        """The earlier lerax's name for `polyline` (open, one pixel wide)."""
        self.polyline(points, color)

    def draw_polygon(self, points: Sequence[Point], color: ColorLike) -> None:
        """The earlier lerax's name for a filled `polygon`."""
        self.polygon(points, color)

    def draw_circle(self, center: Point, radius: float, color: ColorLike) -> None:
        """The earlier lerax's name for a filled `circle`."""
        self.circle(center, radius, color)

    def draw_rect(self, center: Point, w: float, h: float, color: ColorLike) -> None:
        """A filled rectangle `w` by `h` world units around `center` (the
        earlier lerax's form of `rect`, which takes two corners)."""
        x, y = (float(v) for v in center)
        self.rect((x - w / 2, y - h / 2), (x + w / 2, y + h / 2), color)

    def draw_ellipse(self, center: Point, w: float, h: float, color: ColorLike) -> None:
        """A filled axis-aligned ellipse `w` by `h` world units around
        `center` (the earlier lerax's primitive; drawn as a 64-sided
        polygon)."""
        angles = np.linspace(0.0, 2.0 * np.pi, 64, endpoint=False)
        x, y = (float(v) for v in center)
        points = np.stack(
            [x + 0.5 * w * np.cos(angles), y + 0.5 * h * np.sin(angles)], axis=1
        )
        self.polygon(points.tolist(), color)

    def draw_text(
        self, center: Point, text: str, color: ColorLike, size: int = 12
    ) -> None:
        """The earlier lerax's name for `text` centred on `center` (its
        default size was 12 pixels)."""
        self.text(center, text, color, size=size)


class Abstract3DRenderer(AbstractRenderer):
    """A renderer of 3-D scenes (e.g. `lerax.env.mujoco.MujocoRenderer`):
    it draws a model's state from a camera rather than from 2-D primitives."""
