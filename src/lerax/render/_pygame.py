"""Pygame renderers: a window, and an off-screen image for headless machines."""

import abc
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, final

import equinox as eqx
import numpy as np
from jaxtyping import UInt8

from .._extras import require
from ._base import Abstract2DRenderer, ColorLike, Point
from ._color import Color
from ._transform import Transform

# gfxdraw takes 16-bit coordinates: shapes reaching further off-screen are
# clipped to the square [-_PIXEL_LIMIT, _PIXEL_LIMIT]^2 (cut, not squashed, so
# what lies on screen keeps its place and slope).
_PIXEL_LIMIT = 30_000.0
# Pixel coordinates are limited to +-_FAR first (infinities included).
_FAR = 1e12

_ANCHORS = (
    "center",
    "topleft",
    "topright",
    "bottomleft",
    "bottomright",
    "midtop",
    "midbottom",
    "midleft",
    "midright",
)


def import_pygame() -> Any:
    """Imports pygame quietly, or raises an `ImportError` naming the extra."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    pygame = require("pygame", "render")
    require("pygame.gfxdraw", "render")
    return pygame


def has_display() -> bool:
    """Whether a graphical display seems available (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# SDL video drivers that show nothing.
_HEADLESS_DRIVERS = ("offscreen", "dummy")
# The `SDL_VIDEODRIVER` value lerax set itself (see `HeadlessPygameRenderer`),
# so it is not mistaken for the user's request; None if lerax set none.
_driver_set_by_lerax: str | None = None


def _requested_driver() -> str | None:
    """The SDL video driver the user asked for with ``SDL_VIDEODRIVER``
    (None if none, or if lerax set it)."""
    requested = os.environ.get("SDL_VIDEODRIVER") or None
    if requested is not None and requested == _driver_set_by_lerax:
        return None
    return requested


def _headless_driver(pygame: Any) -> str | None:
    """The SDL video driver that shows nothing which a window would get, or
    None when a window can be shown (or the user chose the driver). Decided
    without starting pygame's display when it is not started yet: starting
    and stopping SDL's "offscreen" driver tears down EGL, which breaks
    MuJoCo's EGL rendering later in the same process."""
    if _requested_driver() is not None:
        return None
    if pygame.display.get_init():
        driver = pygame.display.get_driver()
        return driver if driver in _HEADLESS_DRIVERS else None
    if sys.platform in ("darwin", "win32", "cygwin") or has_display():
        return None
    # X11/Wayland systems without a display: SDL would pick "offscreen"
    return "offscreen"


class _Canvas:
    """The mutable host-side state behind a pygame renderer."""

    def __init__(self) -> None:
        self.surface: Any = None  # the y-up drawing surface
        self.screen: Any = None  # the window's display surface, if any
        self.fonts: dict[int, Any] = {}


class AbstractPygameRenderer(Abstract2DRenderer):
    """Draws with pygame on an off-screen surface in y-up pixel coordinates.

    Drawing happens as Gymnasium's classic-control renderers do it (pixel
    `y` grows upwards, anti-aliased outlines under filled shapes), and the
    rows are flipped when the image is shown or read, so frames agree with
    Gymnasium's `rgb_array` output pixel for pixel up to rounding. Subclasses
    say what happens when a frame is presented.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        transform: World-to-pixel mapping.
    """

    canvas: eqx.AbstractVar[_Canvas]

    @abc.abstractmethod
    def start_output(self) -> None:
        """Sets up where frames go (called by `open` after the surface exists)."""

    @abc.abstractmethod
    def show(self, image: Any) -> None:
        """Presents `image`, a pygame surface with rows top-down."""

    @abc.abstractmethod
    def stop_output(self) -> None:
        """Tears down what `start_output` set up."""

    def open(self) -> None:
        pygame = import_pygame()
        pygame.font.init()
        if self.canvas.surface is None:
            self.canvas.surface = pygame.Surface((self.width, self.height))
            self.canvas.surface.fill(Color(255, 255, 255))
            self.start_output()

    def close(self) -> None:
        if self.canvas.surface is not None:
            self.stop_output()
        self.canvas.surface = None
        self.canvas.screen = None
        self.canvas.fonts.clear()

    @property
    def is_open(self) -> bool:
        """Whether `open` has been called and `close` not yet."""
        return self.canvas.surface is not None

    def _surface(self) -> Any:
        if self.canvas.surface is None:
            raise RuntimeError(
                f"`{type(self).__name__}` is not open: call `open()` first (or use "
                "it as a context manager)."
            )
        return self.canvas.surface

    def clear(self, color: ColorLike = (255, 255, 255)) -> None:
        self._surface().fill(Color.of(color))

    def draw(self) -> None:
        pygame = import_pygame()
        self.show(pygame.transform.flip(self._surface(), False, True))

    def frame(self) -> UInt8[np.ndarray, "height width 3"]:
        pygame = import_pygame()
        columns = pygame.surfarray.array3d(self._surface())  # [width, height, 3]
        return np.ascontiguousarray(columns.transpose(1, 0, 2)[::-1], dtype=np.uint8)

    def _pixels(
        self, points: Sequence[Point], *, clamp: bool = False
    ) -> list[tuple[float, float]]:
        """`points` in pixels (y up); with `clamp`, each coordinate limited to
        `[-_PIXEL_LIMIT, _PIXEL_LIMIT]` (for single points only: lines and
        shapes are clipped by `_clip_segment` / `_clip_polygon` instead)."""
        pixels = np.round(self.transform.points(points), 6)
        # infinite coordinates become far but finite ones, which clip cleanly
        pixels = np.clip(pixels, -_FAR, _FAR)
        if clamp:
            pixels = np.clip(pixels, -_PIXEL_LIMIT, _PIXEL_LIMIT)
        return [(float(x), float(y)) for x, y in pixels]

    def line(
        self, start: Point, end: Point, color: ColorLike, *, width: int = 1
    ) -> None:
        pygame = import_pygame()
        segment = _clip_segment(*self._pixels([start, end]))
        if segment is not None:
            pygame.draw.line(self._surface(), Color.of(color), *segment, int(width))

    def polyline(
        self,
        points: Sequence[Point],
        color: ColorLike,
        *,
        width: int = 1,
        closed: bool = False,
    ) -> None:
        pygame = import_pygame()
        pixels = self._pixels(points)
        if len(pixels) < 2:
            raise ValueError(f"`polyline` needs at least 2 points, got {len(pixels)}.")
        surface, rgb = self._surface(), Color.of(color)
        if _in_range(pixels):
            runs, closed_run = [pixels], closed
        else:
            runs, closed_run = _clip_polyline(pixels, closed), False
        for run in runs:
            if width == 1:
                pygame.draw.aalines(surface, rgb, closed_run, run)
            else:
                pygame.draw.lines(surface, rgb, closed_run, run, int(width))

    def polygon(
        self, points: Sequence[Point], color: ColorLike, *, filled: bool = True
    ) -> None:
        pygame = import_pygame()
        pixels = self._pixels(points)
        if len(pixels) < 3:
            raise ValueError(f"`polygon` needs at least 3 points, got {len(pixels)}.")
        if not _in_range(pixels):
            pixels = _clip_polygon(pixels)
            if len(pixels) < 3:  # nothing of it lies near the image
                return
        surface, rgb = self._surface(), Color.of(color)
        pygame.gfxdraw.aapolygon(surface, pixels, rgb)
        if filled:
            pygame.gfxdraw.filled_polygon(surface, pixels, rgb)

    def rect(
        self,
        lower_left: Point,
        upper_right: Point,
        color: ColorLike,
        *,
        filled: bool = True,
    ) -> None:
        (x0, y0), (x1, y1) = lower_left, upper_right
        corners = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
        self.polygon(corners, color, filled=filled)

    def circle(
        self, center: Point, radius: float, color: ColorLike, *, filled: bool = True
    ) -> None:
        pygame = import_pygame()
        ((x, y),) = self._pixels([center])
        # Integer centre and radius, truncated towards zero like Gymnasium's
        # `int(...)` (a negative centre too), after a nudge of 1e-6 away from
        # zero so that rounding error below a whole pixel does not lose it.
        cx, cy = _truncate(x), _truncate(y)
        r = max(_truncate(self.transform.length(radius)), 0)
        surface, rgb = self._surface(), Color.of(color)
        if abs(cx) + r <= _PIXEL_LIMIT and abs(cy) + r <= _PIXEL_LIMIT:
            pygame.gfxdraw.aacircle(surface, cx, cy, r, rgb)
            if filled:
                pygame.gfxdraw.filled_circle(surface, cx, cy, r, rgb)
            return
        # beyond gfxdraw's 16-bit coordinates (it would draw nothing or fail):
        # a polygon close to the circle, clipped like other shapes
        outline = _clip_polygon(_circle_points(cx, cy, r))
        if len(outline) >= 3:
            pygame.gfxdraw.aapolygon(surface, outline, rgb)
            if filled:
                pygame.gfxdraw.filled_polygon(surface, outline, rgb)

    def text(
        self,
        position: Point,
        text: str,
        color: ColorLike = (0, 0, 0),
        *,
        size: int = 16,
        anchor: str = "center",
    ) -> None:
        pygame = import_pygame()
        if anchor not in _ANCHORS:
            raise ValueError(
                f"`text(anchor=...)` must be one of {_ANCHORS}, got {anchor!r}."
            )
        surface = self._surface()
        font = self.canvas.fonts.get(size)
        if font is None:
            font = self.canvas.fonts[size] = pygame.font.Font(None, int(size))
        label = font.render(str(text), True, Color.of(color))
        ((x, y),) = self._pixels([position], clamp=True)
        # The canvas is flipped when shown: work in the shown (top-down) image,
        # then flip the label and its box back into the canvas.
        box = label.get_rect()
        setattr(box, anchor, (round(x), round(self.height - y)))
        flipped_top = self.height - box.bottom
        surface.blit(pygame.transform.flip(label, False, True), (box.left, flipped_top))


@final
class PygameRenderer(AbstractPygameRenderer):
    """Shows frames in a pygame window.

    Attributes:
        width: Window width in pixels.
        height: Window height in pixels.
        transform: World-to-pixel mapping.
        title: The window caption.
        canvas: Mutable host-side state (surfaces, fonts).
    """

    width: int = eqx.field(static=True)
    height: int = eqx.field(static=True)
    transform: Transform
    title: str = eqx.field(static=True)
    canvas: _Canvas = eqx.field(static=True)

    def __init__(
        self,
        width: int = 600,
        height: int = 400,
        transform: Transform | None = None,
        *,
        title: str = "lerax",
    ):
        import_pygame()  # fail early, naming the extra, if pygame is missing
        self.width, self.height = _check_size(width, height, "PygameRenderer")
        self.transform = Transform() if transform is None else transform
        self.title = title
        self.canvas = _Canvas()

    def open(self) -> None:
        """Opens the window.

        Raises:
            RuntimeError: If no window can be shown: there is no display
                (SDL would fall back to its "offscreen" or "dummy" driver,
                which shows nothing, unless ``SDL_VIDEODRIVER`` asks for it)
                or pygame cannot open one.
        """
        pygame = import_pygame()
        if not self.is_open:
            driver = _headless_driver(pygame)
            if driver is not None:
                raise RuntimeError(
                    _no_window(
                        f"there is no display: SDL's video driver would be "
                        f"{driver!r}, which shows nothing; if there is one, name "
                        "its driver in `SDL_VIDEODRIVER`"
                    )
                )
        super().open()

    def start_output(self) -> None:
        pygame = import_pygame()
        try:
            pygame.display.init()
            driver = pygame.display.get_driver()
            if driver in _HEADLESS_DRIVERS and _requested_driver() is None:
                # the display named by DISPLAY/WAYLAND_DISPLAY did not open
                pygame.display.quit()
                raise pygame.error(
                    f"no display could be opened: SDL fell back to {driver!r}, "
                    "which shows nothing"
                )
            self.canvas.screen = pygame.display.set_mode((self.width, self.height))
        except pygame.error as error:
            self.canvas.surface = None
            raise RuntimeError(_no_window(str(error))) from error
        pygame.display.set_caption(self.title)

    def show(self, image: Any) -> None:
        pygame = import_pygame()
        self.canvas.screen.blit(image, (0, 0))
        pygame.event.pump()
        pygame.display.flip()

    def stop_output(self) -> None:
        import_pygame().display.quit()


@final
class HeadlessPygameRenderer(AbstractPygameRenderer):
    """Draws off-screen: frames are only read back with `frame()`.

    Needs no display; on a machine without one it sets
    ``SDL_VIDEODRIVER=dummy`` (unless already set) before pygame starts.

    Attributes:
        width: Image width in pixels.
        height: Image height in pixels.
        transform: World-to-pixel mapping.
        canvas: Mutable host-side state (surfaces, fonts).
    """

    width: int = eqx.field(static=True)
    height: int = eqx.field(static=True)
    transform: Transform
    canvas: _Canvas = eqx.field(static=True)

    def __init__(
        self, width: int = 600, height: int = 400, transform: Transform | None = None
    ):
        global _driver_set_by_lerax
        if not has_display() and "SDL_VIDEODRIVER" not in os.environ:
            os.environ["SDL_VIDEODRIVER"] = _driver_set_by_lerax = "dummy"
        import_pygame()  # fail early, naming the extra, if pygame is missing
        self.width, self.height = _check_size(width, height, "HeadlessPygameRenderer")
        self.transform = Transform() if transform is None else transform
        self.canvas = _Canvas()

    def start_output(self) -> None:
        pass

    def show(self, image: Any) -> None:
        del image

    def stop_output(self) -> None:
        pass


Pixel = tuple[float, float]


def _in_range(pixels: Sequence[Pixel]) -> bool:
    """Whether every coordinate lies in `[-_PIXEL_LIMIT, _PIXEL_LIMIT]`."""
    return all(abs(x) <= _PIXEL_LIMIT and abs(y) <= _PIXEL_LIMIT for x, y in pixels)


def _clip_segment(a: Pixel, b: Pixel) -> tuple[Pixel, Pixel] | None:
    """The part of the segment `a`-`b` inside the square
    `[-_PIXEL_LIMIT, _PIXEL_LIMIT]^2` (Liang-Barsky), or None if none is.
    A segment inside the square is returned unchanged."""
    if _in_range((a, b)):
        return a, b
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in (
        (-dx, x0 + _PIXEL_LIMIT),
        (dx, _PIXEL_LIMIT - x0),
        (-dy, y0 + _PIXEL_LIMIT),
        (dy, _PIXEL_LIMIT - y0),
    ):
        if p == 0:
            if q < 0:  # parallel to this edge and outside it
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None

    def at(t: float, corner: Pixel) -> Pixel:
        if t in (0.0, 1.0):
            return corner
        x, y = x0 + t * dx, y0 + t * dy
        return (
            min(max(x, -_PIXEL_LIMIT), _PIXEL_LIMIT),
            min(max(y, -_PIXEL_LIMIT), _PIXEL_LIMIT),
        )

    return at(t0, a), at(t1, b)


def _clip_polyline(pixels: Sequence[Pixel], closed: bool) -> list[list[Pixel]]:
    """The parts of a polyline inside the square, as runs of connected
    points (a run breaks where the line leaves the square)."""
    points = list(pixels)
    if closed:
        points.append(points[0])
    runs: list[list[Pixel]] = []
    for a, b in zip(points, points[1:]):
        segment = _clip_segment(a, b)
        if segment is None:
            continue
        start, end = segment
        if runs and runs[-1][-1] == start:
            runs[-1].append(end)
        else:
            runs.append([start, end])
    return runs


def _clip_polygon(pixels: Sequence[Pixel]) -> list[Pixel]:
    """The polygon cut to the square `[-_PIXEL_LIMIT, _PIXEL_LIMIT]^2`
    (Sutherland-Hodgman): what lies inside keeps its shape, new vertices
    lie on the square's edges, far outside the image."""
    limit = _PIXEL_LIMIT
    edges = (
        (lambda p: p[0] >= -limit, 0, -limit),
        (lambda p: p[0] <= limit, 0, limit),
        (lambda p: p[1] >= -limit, 1, -limit),
        (lambda p: p[1] <= limit, 1, limit),
    )
    polygon = list(pixels)
    for inside, axis, bound in edges:
        if not polygon:
            break
        clipped: list[Pixel] = []
        for i, current in enumerate(polygon):
            previous = polygon[i - 1]
            if inside(current) != inside(previous):
                t = (bound - previous[axis]) / (current[axis] - previous[axis])
                crossing = [
                    previous[k] + t * (current[k] - previous[k]) for k in (0, 1)
                ]
                crossing[axis] = bound
                clipped.append((crossing[0], crossing[1]))
            if inside(current):
                clipped.append(current)
        polygon = clipped
    return polygon


def _circle_points(x: float, y: float, radius: float) -> list[Pixel]:
    """Vertices of a polygon within half a pixel of the circle (at most
    100 000 of them)."""
    # a chord of angle a lies radius * (1 - cos(a / 2)) ~ radius * a^2 / 8
    # inside the circle: a = sqrt(4 / radius) keeps that at half a pixel
    count = min(
        max(math.ceil(2 * math.pi / math.sqrt(4 / max(radius, 1))), 64), 100_000
    )
    angles = np.linspace(0.0, 2 * math.pi, count, endpoint=False)
    return [
        (x + radius * math.cos(a), y + radius * math.sin(a)) for a in angles.tolist()
    ]


def _truncate(value: float) -> int:
    """`int(value)` (towards zero) after a nudge of 1e-6 away from zero."""
    return int(value + math.copysign(1e-6, value))


def _no_window(reason: str) -> str:
    return (
        f"Could not open a pygame window ({reason}). On a machine without a "
        "display use `HeadlessPygameRenderer` (or "
        "`env.default_renderer(headless=True)`; `lerax.render.render_rgb` and "
        "`record_video` draw off-screen)."
    )


def _check_size(width: Any, height: Any, owner: str) -> tuple[int, int]:
    for name, value in (("width", width), ("height", height)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < 1
        ):
            raise ValueError(
                f"`{owner}({name}=...)` must be a positive int, got {value!r}."
            )
    return int(width), int(height)
