"""`MujocoRenderer`: MuJoCo's own OpenGL renderer for MJX states.

Off-screen rendering uses the GL backend in `MUJOCO_GL` (``egl``, ``osmesa``
or ``glfw``), read by MuJoCo when it is first imported; when it is unset and
there is no display, lerax sets ``egl`` before importing MuJoCo. A window
(`headless=False`) shows the frames through pygame.
"""

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, final

import equinox as eqx
import numpy as np
from jaxtyping import UInt8

from ...render import Abstract3DRenderer
from ._model import load_model, mujoco_modules
from ._options import camera_config, camera_index, check_size, visual_flags


@dataclasses.dataclass
class _Live:
    """Host-side resources of an open renderer (mutable)."""

    renderer: Any = None
    data: Any = None
    camera: Any = None
    scene_option: Any = None
    image: Any = None
    window: Any = None


@final
class MujocoRenderer(Abstract3DRenderer):
    """Renders the MuJoCo model of an env to RGB frames.

    `env.render(state, renderer)` copies the state's positions into a host
    `MjData`, runs the forward kinematics and renders the scene from the
    camera Gymnasium would use; `frame()` returns the image and `draw()`
    shows it when a window is open. An env's `default_renderer` passes its
    rendering options (Gymnasium's `MujocoEnv` keywords of the same names).

    Attributes:
        xml_file: The resolved model path (as the env's `xml_file`).
        width: Image width in pixels.
        height: Image height in pixels.
        camera: Free-camera settings (Gymnasium's `default_camera_config`:
            `distance`, `elevation`, `azimuth`, `lookat`, ...) as sorted
            pairs, applied as Gymnasium does after aiming at the first
            frame's median geom position.
        camera_id: The camera rendered from: -1 the free camera, otherwise
            the index of one of the model's cameras. By default (neither
            `camera_id` nor `camera_name` given) the camera named
            ``"track"`` if the model has one, as Gymnasium.
        max_geom: Most geoms drawn per frame (MuJoCo's `MjvScene` size).
        visual_options: `mujoco.mjtVisFlag` flags set on the scene, as
            sorted `(flag, on)` pairs.
        headless: Render off-screen only; otherwise frames are also shown in
            a pygame window.
    """

    xml_file: str = eqx.field(static=True)
    width: int = eqx.field(static=True)
    height: int = eqx.field(static=True)
    camera: tuple = eqx.field(static=True)
    camera_id: int = eqx.field(static=True)
    max_geom: int = eqx.field(static=True)
    visual_options: tuple[tuple[int, bool], ...] = eqx.field(static=True)
    headless: bool = eqx.field(static=True)
    live: _Live = eqx.field(static=True)

    def __init__(
        self,
        xml_file: str,
        *,
        width: int = 480,
        height: int = 480,
        camera: Mapping[str, Any] | None = None,
        camera_id: int | None = None,
        camera_name: str | None = None,
        max_geom: int = 1000,
        visual_options: Mapping[int, bool] | None = None,
        headless: bool = True,
    ):
        """
        Args:
            xml_file: The resolved model path.
            width: Image width in pixels.
            height: Image height in pixels.
            camera: Gymnasium's `default_camera_config` (None: none).
            camera_id: The camera to render from (-1: the free camera).
            camera_name: The camera to render from, by name (not with
                `camera_id`).
            max_geom: Most geoms drawn per frame.
            visual_options: `{mujoco.mjtVisFlag: bool}` scene flags.
            headless: Render off-screen only.

        Raises:
            ValueError: For a bad option (a size that is not a positive int,
                both `camera_id` and `camera_name`, a camera the model does
                not have, an unknown camera setting or visual flag).
        """
        owner = "MujocoRenderer"
        self.xml_file = xml_file
        self.width = check_size(owner, "width", width)
        self.height = check_size(owner, "height", height)
        self.camera = camera_config(owner, camera) or ()
        self.camera_id = camera_index(
            owner, load_model(xml_file), camera_id, camera_name
        )
        self.max_geom = check_size(owner, "max_geom", max_geom)
        self.visual_options = visual_flags(owner, visual_options)
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
            self.live.renderer = mujoco.Renderer(
                model, self.height, self.width, max_geom=self.max_geom
            )
        except Exception as error:
            raise RuntimeError(
                "MuJoCo could not create an OpenGL context for rendering "
                f"(MUJOCO_GL={os.environ.get('MUJOCO_GL')!r}): {error}. Headless "
                "machines need EGL (`MUJOCO_GL=egl`, GPU or Mesa) or OSMesa "
                "(`MUJOCO_GL=osmesa`), set before `mujoco` is first imported."
            ) from error
        self.live.data = mujoco.MjData(model)
        self.live.camera = None  # set up on the first frame, as Gymnasium
        self.live.scene_option = mujoco.MjvOption()
        for flag, on in self.visual_options:
            self.live.scene_option.flags[flag] = on
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
        self.live.camera = self.live.scene_option = None

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
        self.live.renderer.update_scene(
            data, camera=self.live.camera, scene_option=self.live.scene_option
        )
        self.live.image = self.live.renderer.render().copy()

    def _camera(self, model: Any, data: Any) -> Any:
        # Gymnasium's viewer: a free camera looking at the median geom
        # position of the first frame from `stat.extent` away, then the
        # env's camera settings; then the chosen camera (-1: that free one).
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
        if self.camera_id == -1:
            camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        else:
            camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        camera.fixedcamid = self.camera_id
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
