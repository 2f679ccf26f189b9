"""Reading videos back in tests."""

import re
import subprocess
from pathlib import Path


def mp4_fps(path: str | Path) -> float:
    """The frame rate an MP4 file declares (what players play it at).

    Read from `ffmpeg -i`'s description of the file: nothing is decoded, so
    no pipe is left open (imageio's reader leaks two when ffmpeg has already
    finished a short video before it is closed, a `ResourceWarning`).
    """
    import imageio_ffmpeg

    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Video: .*?, ([\d.]+) fps", result.stderr)
    assert match is not None, result.stderr
    return float(match.group(1))


def mp4_frame_count(path: str | Path) -> int:
    """The number of frames in an MP4 file (ffmpeg decodes it once)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]
