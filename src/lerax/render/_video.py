"""`VideoRenderer`: records another renderer's frames to an MP4 (or GIF) file."""

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, final

import equinox as eqx
import numpy as np
from jaxtyping import UInt8

from .._extras import require
from ..utils import atomic_replace
from ..utils._serialization import check_writable_path
from ._base import AbstractRenderer, ColorLike

_SUFFIXES = (".mp4", ".gif")

DEFAULT_FPS = 30
"""The frame rate of a video when neither the caller nor the env gives one
(an env's `render_fps` is None) and of a `VideoRenderer` built without
`fps` (a renderer does not know the env): 30, Gymnasium's `RecordVideo`
default."""


class _Recording:
    """The mutable host-side state of a `VideoRenderer`."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.written: Path | None = None


@final
class VideoRenderer(AbstractRenderer):
    """Wraps a renderer and records every presented frame to a video file.

    Each `draw()` presents the frame on the wrapped renderer and keeps a copy
    of its image; `close()` closes the wrapped renderer and writes the file
    (see `write_video`: MP4 through imageio-ffmpeg, or a GIF if the path ends
    in ``.gif`` or ffmpeg is unavailable). Drawing calls and attributes the
    video renderer does not define itself (`line`, `polygon`, `transform`,
    ...) go to the wrapped renderer, so an env draws on it unchanged.

    A recording that fails writes nothing, so an existing file at `path` is
    kept: `abort()` closes the wrapped renderer without writing, and a
    ``with`` block whose body raises (`KeyboardInterrupt` included) and
    `env.render_states` after a failed frame call it instead of `close()`.
    `close()` itself always writes, also when called inside an ``except``
    handler or a ``finally:`` clause: call `abort()` there to drop an
    incomplete recording. The frames drawn so far stay in `frames` until the
    next `open()`; `save()` writes them anyway.

    The wrapped renderer does not know the env, so the frame rate is
    `DEFAULT_FPS` (30) unless given: pass ``fps=env.render_fps`` for a
    video that plays in real time (`record_video` does).

    Attributes:
        renderer: The wrapped renderer (often a `HeadlessPygameRenderer`).
        path: Where the video goes (``.mp4`` or ``.gif``).
        fps: Frames per second of the video.
        recording: Mutable host-side state (frames, path written).
    """

    renderer: AbstractRenderer
    path: Path = eqx.field(static=True)
    fps: float = eqx.field(static=True)
    recording: _Recording = eqx.field(static=True)

    def __init__(
        self,
        renderer: AbstractRenderer,
        path: str | Path | None = None,
        fps: float = DEFAULT_FPS,
        *,
        output_path: str | Path | None = None,
    ):
        """Args:
        renderer: See `renderer` above.
        path: See `path` above (no suffix: ``.mp4``).
        fps: Frames per second, a finite number > 0 (default `DEFAULT_FPS`,
            30; the earlier lerax's default was 60); third positionally, as
            in the earlier `VideoRenderer(inner, output_path, fps)`.
        output_path: The earlier lerax's name for `path`; give one of them.

        Raises:
            TypeError: If `renderer` is not a lerax renderer, or not exactly
                one of `path` and `output_path` is given.
            ValueError: If `path` has another suffix or `fps` is not a
                finite number > 0.
        """
        if (path is None) == (output_path is None):
            raise TypeError(
                "`VideoRenderer` needs the video's path: give `path=...` (or the "
                "earlier lerax's `output_path=...`), not "
                + ("both." if path is not None else "neither.")
            )
        if path is None:
            path = output_path
        if not isinstance(renderer, AbstractRenderer):
            raise TypeError(
                "`VideoRenderer(renderer=...)` must be a `lerax.render.AbstractRenderer`, "
                f"got {type(renderer).__name__}."
            )
        self.renderer = renderer
        self.path = video_path(path)
        self.fps = check_fps(fps, "VideoRenderer")
        self.recording = _Recording()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class lacks; private names never forward
        # (this also keeps half-built instances from recursing).
        if name.startswith("_") or name == "renderer":
            raise AttributeError(name)
        return getattr(self.renderer, name)

    @property
    def frames(self) -> list[np.ndarray]:
        """The frames recorded so far."""
        return self.recording.frames

    @property
    def written_path(self) -> Path | None:
        """The file the last `close()`/`save()` wrote (its suffix is ``.gif``
        after a GIF fallback), or None."""
        return self.recording.written

    def open(self) -> None:
        self.recording.frames.clear()
        self.recording.written = None
        self.renderer.open()

    def clear(self, color: ColorLike = (255, 255, 255)) -> None:
        self.renderer.clear(color)

    def draw(self) -> None:
        self.renderer.draw()
        frame = self.renderer.frame()
        check_frame(frame, f"{type(self.renderer).__name__}.frame()")
        self.recording.frames.append(np.array(frame))

    def frame(self) -> UInt8[np.ndarray, "height width 3"]:
        return self.renderer.frame()

    def close(self) -> None:
        """Closes the wrapped renderer and writes the recorded frames (if
        any) to `path`, wherever it is called from (an ``except`` handler
        included); after a failed recording call `abort` instead (a ``with``
        block does so when its body raises)."""
        self.renderer.close()
        if self.recording.frames:
            self.save()

    def abort(self) -> None:
        """Closes the wrapped renderer without writing anything: after a
        failed recording, the file at `path` (if any) stays as it was."""
        self.renderer.close()

    def save(self, path: str | Path | None = None) -> Path:
        """Writes the recorded frames now.

        Args:
            path: Where to write; defaults to `self.path`.

        Returns:
            The path written (a ``.gif`` after a fallback).
        """
        target = self.path if path is None else video_path(path)
        written = write_video(self.recording.frames, target, fps=self.fps)
        self.recording.written = written
        return written


def video_path(path: str | Path) -> Path:
    """Checks a video path's suffix (``.mp4`` or ``.gif``; none means ``.mp4``)."""
    path = Path(path)
    if path.suffix == "":
        return path.with_suffix(".mp4")
    if path.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"Video paths must end in .mp4 or .gif, got {str(path)!r}.")
    return path


def check_fps(fps: Any, owner: str, name: str = "fps") -> float:
    """Checks a frame rate: a finite real number > 0 of any numeric type
    (Python, NumPy or a 0-d JAX array; not a bool), returned as a float.

    Args:
        fps: The frame rate to check.
        owner: Who takes it, for the error (e.g. ``"VideoRenderer"``).
        name: The argument's name there.

    Raises:
        ValueError: If `fps` is not such a number.
    """
    try:
        value = np.asarray(fps)
    except Exception:  # noqa: BLE001 (anything unconvertible is refused below)
        value = np.asarray(None)
    if (
        value.ndim != 0
        or value.dtype.kind not in "iuf"
        or not (math.isfinite(float(value)) and float(value) > 0)
    ):
        raise ValueError(
            f"`{owner}({name}=...)` must be a finite number > 0 (frames per "
            f"second), got {fps!r}."
        )
    return float(value)


def resolve_fps(env: Any, fps: Any, owner: str, name: str = "fps") -> float:
    """The frame rate of a video of `env`: `fps` when given (checked as
    `check_fps` does), else the env's `render_fps` (real time), else
    `DEFAULT_FPS` when the env gives none (`render_fps` None or missing).

    Args:
        env: The env (or wrapper) the video shows.
        fps: The frame rate asked for, or None for the env's.
        owner: Who takes it, for the error (e.g. ``"record_video"``).
        name: The argument's name there.

    Raises:
        ValueError: If `fps` is given and is not a finite number > 0, or it
            is None and the env's `render_fps` is neither None nor such a
            number.
    """
    if fps is not None:
        return check_fps(fps, owner, name)
    rate = getattr(env, "render_fps", None)
    if rate is None:
        return float(DEFAULT_FPS)
    try:
        return check_fps(rate, owner, name)
    except ValueError:
        label = getattr(env, "name", type(env).__name__)
        raise ValueError(
            f"`{owner}({name}=None)` plays the video at the env's `render_fps`, "
            f"but {label!r} ({type(env).__name__}) has render_fps={rate!r}, not a "
            "finite number > 0 (frames per second). Fix the env's `render_fps` "
            f"(None means {DEFAULT_FPS}) or pass `{name}=...`."
        ) from None


class _FfmpegUnavailable(Exception):
    """ffmpeg is missing or did not run: the caller falls back to a GIF."""


def write_video(
    frames: Sequence[UInt8[np.ndarray, "height width 3"]],
    path: str | Path,
    *,
    fps: float = DEFAULT_FPS,
) -> Path:
    """Writes RGB frames to a video file, atomically.

    An ``.mp4`` path is encoded with H.264 through imageio-ffmpeg (odd sizes
    are padded by one pixel). If ffmpeg is missing or does not run, a GIF is
    written next to it instead (same name, ``.gif``) with a warning. A
    ``.gif`` path is written as an animated GIF with imageio (Pillow merges
    pixel-identical consecutive frames into one longer frame); GIF delays
    are whole centiseconds and players slow ones under 2 cs down, so above
    `GIF_MAX_FPS` (50) a GIF keeps every k-th frame to play in real time
    (`gif_timing`). The file
    appears complete or not at all: frames go to a temporary file that
    replaces `path` at the end, so on any error an existing file is kept.

    Args:
        frames: Frames of equal shape `[height, width, 3]`, dtype uint8
            (NumPy or JAX arrays; other dtypes are refused rather than
            wrapped around).
        path: The output path (``.mp4`` or ``.gif``).
        fps: Frames per second (a finite number > 0; default `DEFAULT_FPS`).

    Returns:
        The path written.

    Raises:
        ValueError: If there are no frames, their shapes differ, a frame is
            not uint8, or `fps` is not a finite number > 0.
        ImportError: If imageio (extra ``render``) is not installed.
        OSError: If the file cannot be written there (`path` is a folder,
            its folder cannot be created or written, the disk is full, ...);
            the error names `path`.
    """
    path = video_path(path)
    fps = check_fps(fps, "write_video")
    stack = _stack(frames)
    check_writable_path(path, "the video ", "video.mp4")
    target = path
    try:
        if path.suffix.lower() == ".gif":
            _write_gif(stack, path, fps)
            return path
        try:
            _write_mp4(stack, path, fps)
            return path
        except _FfmpegUnavailable as error:
            target = path.with_suffix(".gif")
            warnings.warn(
                f"Could not write the MP4 {str(path)!r} ({error}); writing the GIF "
                f"{str(target)!r} instead.",
                RuntimeWarning,
                stacklevel=2,
            )
            _write_gif(stack, target, fps)
            return target
    except OSError as error:
        raise _file_error(error, path, target) from error


def _file_error(error: OSError, path: Path, target: Path) -> OSError:
    """`error` (of the same type) with a message naming the requested `path`
    rather than a temporary file."""
    what = f"the video {str(path)!r}"
    if target != path:
        what += f" (its GIF fallback {str(target)!r})"
    reason = error.strerror or str(error)
    message = (
        f"Could not write {what}: {reason}. Check that its folder can be created "
        "and written to, and that there is space left."
    )
    try:
        if error.errno is not None:
            return type(error)(error.errno, message)
        return type(error)(message)
    except TypeError:  # a subclass with another signature
        return OSError(error.errno, message)


def _stack(frames: Sequence[np.ndarray]) -> np.ndarray:
    if len(frames) == 0:
        raise ValueError("There are no frames to write (draw at least one frame).")
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"All frames must have the same shape, got {sorted(shapes)}.")
    (shape,) = shapes
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"Frames must have shape [height, width, 3], got {shape}.")
    for index, frame in enumerate(frames):
        check_frame(frame, f"frames[{index}]")
    return np.stack([np.asarray(frame) for frame in frames])


def check_frame(frame: Any, what: str) -> None:
    """Checks that `frame` is an array of dtype uint8 (values 0-255).

    Casting other dtypes would wrap values around (300 -> 44, -1 -> 255) or
    turn 0-1 floats black, so they are refused with the conversion to use.

    Args:
        frame: The frame (a NumPy or JAX array).
        what: What it is, for the error (e.g. ``"frames[3]"``).

    Raises:
        ValueError: If `frame` has another dtype (or none).
    """
    dtype = getattr(frame, "dtype", None)
    if dtype is not None and np.dtype(dtype) == np.uint8:
        return
    described = (
        f"dtype {np.dtype(dtype)}" if dtype is not None else type(frame).__name__
    )
    raise ValueError(
        f"{what} must be an RGB image of dtype uint8 with values in [0, 255], got "
        f"{described}. Convert it first: `(frame * 255).round().astype(np.uint8)` "
        "for floats in [0, 1], `np.clip(frame, 0, 255).astype(np.uint8)` for "
        "other numbers."
    )


def _write_mp4(stack: np.ndarray, path: Path, fps: float) -> None:
    """Encodes `stack` to `path` with ffmpeg; raises `_FfmpegUnavailable` if
    ffmpeg is missing or fails, `OSError` for the file system's errors."""
    try:
        imageio_ffmpeg = require("imageio_ffmpeg", "render")
    except ImportError as error:
        raise _FfmpegUnavailable(str(error)) from error
    # H.264 in yuv420p needs even sizes: pad the last row/column if odd.
    _, height, width, _ = stack.shape
    pad = ((0, 0), (0, height % 2), (0, width % 2), (0, 0))
    stack = np.pad(stack, pad, mode="edge") if any(p[1] for p in pad) else stack

    def encode(temporary: str) -> None:
        writer = imageio_ffmpeg.write_frames(
            temporary,
            (stack.shape[2], stack.shape[1]),
            fps=fps,
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            ffmpeg_log_level="error",
        )
        with warnings.catch_warnings():
            # ffmpeg is started with a `preexec_fn`, so JAX's fork hook warns
            # of a deadlock; the child only runs `exec`, which cannot deadlock
            warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)
            writer.send(None)  # finds and starts ffmpeg
        try:
            for frame in stack:
                writer.send(np.ascontiguousarray(frame))
        finally:
            writer.close()

    def write(temporary: str) -> None:
        # the temporary file exists, so its folder is writable: what fails
        # here is ffmpeg (not found, not runnable, or it quit)
        try:
            encode(temporary)
        except Exception as error:  # noqa: BLE001
            raise _FfmpegUnavailable(f"ffmpeg failed: {error}") from error
        if Path(temporary).stat().st_size == 0:
            raise _FfmpegUnavailable("ffmpeg wrote nothing")

    atomic_replace(path, write, keep_suffix=True)


GIF_MAX_FPS = 50
"""The fastest frame rate a GIF plays at: its frame delays are whole
centiseconds, and browsers and most viewers play delays under 2 cs (0 or 1)
as 10 cs. Faster videos (an env's `render_fps` such as Hopper's 125) keep
every k-th frame so that they still play in real time."""


def gif_timing(count: int, fps: float) -> tuple[list[int], list[int]]:
    """The frames a GIF of `count` frames at `fps` keeps and their delays.

    Every `ceil(fps / GIF_MAX_FPS)`-th frame is kept (all of them up to 50
    fps), and each kept frame lasts until the next one starts, rounded to
    whole centiseconds on the video's own clock (so the rounding does not
    add up: the GIF lasts `count / fps` seconds, to 1 cs, the last kept
    frame showing for a whole step). Every delay is at least 2 cs, which
    players honour.

    Args:
        count: The number of frames (>= 1).
        fps: The frame rate (a finite number > 0).

    Returns:
        The indices of the kept frames and their delays in milliseconds
        (multiples of 10).
    """
    step = max(1, math.ceil(fps / GIF_MAX_FPS - 1e-9))
    kept = list(range(0, count, step))
    ends = [*kept[1:], kept[-1] + step]
    clock = [round(100 * i / fps) for i in (kept[0], *ends)]
    delays = [10 * (end - start) for start, end in zip(clock, clock[1:])]
    return kept, delays


def _write_gif(stack: np.ndarray, path: Path, fps: float) -> None:
    iio = require("imageio.v3", "render")
    kept, delays = gif_timing(len(stack), fps)
    # Pillow takes a list of delays only for an animation (several frames)
    duration = delays if len(delays) > 1 else delays[0]
    atomic_replace(
        path,
        lambda temporary: iio.imwrite(
            temporary, stack[kept], extension=".gif", duration=duration, loop=0
        ),
        keep_suffix=True,
    )
