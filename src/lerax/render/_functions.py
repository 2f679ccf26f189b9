"""One-call helpers: a frame of one state, a video of a rollout."""

from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import UInt8

from ._video import VideoRenderer, resolve_fps


def _check_sizes(width: Any, height: Any, owner: str) -> None:
    """Checks optional image sizes: None or an int >= 1."""
    for name, value in (("width", width), ("height", height)):
        if value is None:
            continue
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer))
            or value < 1
        ):
            raise ValueError(
                f"`{owner}({name}=...)` must be a positive int (pixels) or None "
                f"for the env's default, got {value!r}."
            )


def render_rgb(
    env: Any, state: Any, *, width: int | None = None, height: int | None = None
) -> UInt8[np.ndarray, "height width 3"]:
    """Draws one (unbatched) state off-screen and returns the image.

    Args:
        env: An env (or wrapper) that can render itself.
        state: One state of `env`, without a batch or time axis.
        width: Image width in pixels (None: the env's default).
        height: Image height in pixels (None: the env's default).

    Returns:
        The RGB image, shape `[height, width, 3]`, dtype uint8.

    Raises:
        ValueError: If `width` or `height` is not None or a positive int.
        NotImplementedError: If `env` cannot render itself.
    """
    _check_sizes(width, height, "render_rgb")
    renderer = env.default_renderer(headless=True, width=width, height=height)
    renderer.open()
    try:
        env.render(state, renderer)
        renderer.draw()
        return renderer.frame()
    finally:
        renderer.close()


def record_video(
    env: Any,
    states: Any,
    path: str | Path,
    *,
    fps: float | None = None,
    width: int | None = None,
    height: int | None = None,
) -> Path:
    """Renders a stacked rollout off-screen into a video file.

    If drawing or writing fails (or is interrupted), nothing is written: an
    existing file at `path` is kept.

    Args:
        env: An env (or wrapper) that can render itself.
        states: States stacked along a leading time axis (e.g. the output of
            `jax.lax.scan`); one frame per entry.
        path: Output file, ``.mp4`` (H.264 via imageio-ffmpeg) or ``.gif``.
        fps: Frames per second; None (the default) for the env's
            `render_fps`, so that the video plays in real time (Gymnasium's
            rate for the same env, e.g. 50 for CartPole, 20 for
            HalfCheetah), or `lerax.render.DEFAULT_FPS` (30) when the env
            gives none.
        width: Frame width in pixels (None: the env's default).
        height: Frame height in pixels (None: the env's default).

    Returns:
        The path written: `path`, or the same name with ``.gif`` if MP4
        encoding was unavailable (a warning says so).

    Raises:
        ValueError: If `states` has no time axis or no entries, `fps` (or,
            when it is None, the env's `render_fps`) is not a finite
            number > 0, or `width`/`height` is not None or a positive int.
        NotImplementedError: If `env` cannot render itself.
        OSError: If the file cannot be written at `path` (see `write_video`).
    """
    _check_sizes(width, height, "record_video")
    fps = resolve_fps(env, fps, "record_video")
    inner = env.default_renderer(headless=True, width=width, height=height)
    video = VideoRenderer(inner, path, fps=fps)
    env.render_stacked(states, renderer=video)
    written = video.written_path
    if written is None:
        raise ValueError(
            "`record_video` got an empty rollout: there is nothing to record."
        )
    return written
