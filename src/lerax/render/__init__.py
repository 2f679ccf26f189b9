"""Rendering: 2-D drawing with pygame, and videos of rollouts.

Needs the ``render`` extra (``pip install "lerax[render]"``: pygame, imageio,
imageio-ffmpeg); importing this package does not, only drawing does.

Quick use::

    frame = lerax.render.render_rgb(env, state)           # one RGB image
    lerax.render.record_video(env, stacked_states, "out/run.mp4")
    env.render_stacked(stacked_states)                    # a window

Videos play at the env's `render_fps` (real time, Gymnasium's rate for the
same env) unless `fps=...` says otherwise.
"""

from ._base import Abstract2DRenderer as Abstract2DRenderer
from ._base import Abstract3DRenderer as Abstract3DRenderer
from ._base import AbstractRenderer as AbstractRenderer
from ._color import BLACK as BLACK
from ._color import BLUE as BLUE
from ._color import GRAY as GRAY
from ._color import GREEN as GREEN
from ._color import RED as RED
from ._color import WHITE as WHITE
from ._color import Color as Color
from ._functions import record_video as record_video
from ._functions import render_rgb as render_rgb
from ._pygame import AbstractPygameRenderer as AbstractPygameRenderer
from ._pygame import HeadlessPygameRenderer as HeadlessPygameRenderer
from ._pygame import PygameRenderer as PygameRenderer
from ._transform import Transform as Transform
from ._video import DEFAULT_FPS as DEFAULT_FPS
from ._video import VideoRenderer as VideoRenderer
from ._video import write_video as write_video
