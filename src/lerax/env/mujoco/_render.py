"""`MujocoRenderer`: MuJoCo's own OpenGL renderer for MJX states.

Off-screen rendering uses the GL backend in `MUJOCO_GL` (``egl``, ``osmesa``
or ``glfw``), read by MuJoCo when it is first imported; when it is unset and
there is no display, lerax sets ``egl`` before importing MuJoCo. A window
(`headless=False`) shows the frames through pygame.
"""

import dataclasses
import os
from typing import Any, final

import equinox as eqx
import numpy as np
from jaxtyping import UInt8

from ...render import Abstract3DRenderer
from ._model import load_model, mujoco_modules


@dataclasses.dataclass
class _Live:
    """Host-side resources of an open renderer (mutable)."""

    renderer: Any = None
    data: Any = None
    camera: Any = None
    image: Any = None
    window: Any = None


@final
class MujocoRenderer(Abstract3DRenderer):
    """Renders the MuJoCo model of an env to RGB frames.

    `env.render(state, renderer)` copies the state's positions into a host
    `MjData`, runs the forward kinematics and renders the scene from the
    env's default camera (Gymnasium's `default_camera_config`); `frame()`
    returns the image and `draw()` shows it when a window is open.

    Attributes:
        xml_file: The resolved model path (as the env's `xml_file`).
        width: Image width in pixels.
        height: Image height in pixels.
        camera: Free-camera settings (`distance`, `elevation`, `azimuth`,
            `lookat`, `trackbodyid`), applied as Gymnasium does after aiming
            at the first frame's median geom position. Models with a camera
            named ``"track"`` are seen through it instead (as Gymnasium).
        headless: Render off-screen only; otherwise frames are also shown in
            a pygame window.
    """

    xml_file: str = eqx.field(static=True)
    width: int = eqx.field(static=True)
    height: int = eqx.field(static=True)
    camera: tuple = eqx.field(static=True)
    headless: bool = eqx.field(static=True)
    live: _Live = eqx.field(static=True)

    def __init__(
        self,
        xml_file: str,
        *,
        width: int = 480,
        height: int = 480,
        camera: dict | None = None,
        headless: bool = True,
    ):
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`MujocoRenderer({name}=...)` must be a positive int, got {value!r}."
                )
        self.xml_file = xml_file
        self.width = width
        self.height = height
        self.camera = tuple(sorted((camera or {}).items()))
        self.headless = bool(headless)
        self.live = _Live()

    def open(self) -> None:
        if self.live.renderer is not None:
            return
        mujoco, _ = mujoco_modules()
        model = load_model(self.xml_file)
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        try:
            self.live.renderer = mujoco.Renderer(model, self.height, self.width)
        except Exception as error:
            raise RuntimeError(
                "MuJoCo could not create an OpenGL context for rendering "
                f"(MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}): {error}. Headless "
                "machines need EGL (`MUJOCO_GL=egl`, GPU or Mesa) or OSMesa "
                "(`MUJOCO_GL=osmesa`), set before `mujoco` is first imported."
            ) from error
        self.live.data = mujoco.MjData(model)
        self.live.camera = None  # set up on the first frame, as Gymnasium
        self.live.image = np.zeros((self.height, self.width, 3), np.uint8)
        if not self.headless:
            pygame = _pygame()
            pygame.display.init()
            self.live.window = pygame.display.set_mode((self.width, self.height))

    def close(self) -> None:
        if self.live.renderer is not None:
            self.live.renderer.close()
        if self.live.window is not None:
            _pygame().display.quit()
        self.live.renderer = self.live.data = self.live.window = None

    def clear(self, color: Any = (255, 255, 255)) -> None:
        """Ignored: every frame renders the whole scene."""
        del color

    def show(self, qpos: Any, qvel: Any) -> None:
        """Renders the model at positions `qpos` (velocities `qvel`)."""
        if self.live.renderer is None:
            raise RuntimeError("Call `MujocoRenderer.open()` before rendering.")
        mujoco, _ = mujoco_modules()
        model, data = self.live.renderer.model, self.live.data
        data.qpos[:] = np.asarray(qpos, np.float64)
        data.qvel[:] = np.asarray(qvel, np.float64)
        mujoco.mj_forward(model, data)
        if self.live.camera is None:
            self.live.camera = self._camera(model, data)
        self.live.renderer.update_scene(data, camera=self.live.camera)
        self.live.image = self.live.renderer.render().copy()

    def _camera(self, model: Any, data: Any) -> Any:
        # Gymnasium's viewer: a free camera looking at the median geom
        # position of the first frame from `stat.extent` away, then the
        # env's camera settings; but the model's camera "track" if it has one.
        mujoco, _ = mujoco_modules()
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.fixedcamid = -1
        camera.lookat[:] = np.median(data.geom_xpos, axis=0)
        camera.distance = model.stat.extent
        for key, value in self.camera:
            if key == "lookat":
                camera.lookat[:] = value
            else:
                setattr(camera, key, value)
        track = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
        if track >= 0:
            camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
            camera.fixedcamid = track
        return camera

    def draw(self) -> None:
        if self.live.window is not None:
            pygame = _pygame()
            surface = pygame.surfarray.make_surface(self.live.image.swapaxes(0, 1))
            self.live.window.blit(surface, (0, 0))
            pygame.display.flip()
            pygame.event.pump()

    def frame(self) -> UInt8[np.ndarray, "height width 3"]:
        if self.live.image is None:
            raise RuntimeError("Call `MujocoRenderer.open()` before `frame()`.")
        return self.live.image.copy()


def _pygame() -> Any:
    from ..._extras import require

    return require("pygame", "render")
