"""Gymnasium v5's rendering options of the MuJoCo envs, validated and frozen.

Gymnasium's `MujocoEnv.__init__` takes `render_mode`, `width`, `height`,
`camera_id`, `camera_name`, `default_camera_config`, `max_geom` and
`visual_options`; every lerax MuJoCo env takes them too. They configure the
host-side `MujocoRenderer` only: they are static, hashable values, never
traced, and leave the physics (`model`) and its compiled program untouched.
"""

import math
import numbers
from collections.abc import Mapping
from typing import Any, TypedDict, final

import equinox as eqx
import numpy as np

from .._checks import RENDER_MODES as RENDER_MODES
from .._checks import check_render_mode as _check_render_mode
from ._model import mujoco_modules

# `mujoco.MjvCamera` attributes, by the type Gymnasium's configs give them.
_CAMERA_INTS = ("fixedcamid", "orthographic", "trackbodyid", "type")
_CAMERA_FLOATS = ("azimuth", "distance", "elevation")
_CAMERA_KEYS = (*_CAMERA_INTS, *_CAMERA_FLOATS, "lookat")


class MujocoRenderKwargs(TypedDict, total=False):
    """The rendering keywords of Gymnasium's `MujocoEnv.__init__` that every
    lerax MuJoCo env takes besides its own `default_camera_config` (see
    `AbstractMujocoEnv` for what each does)."""

    render_mode: None
    width: int
    height: int
    camera_id: int | None
    camera_name: str | None
    max_geom: int
    visual_options: Mapping[int, bool] | None


@final
class MujocoRenderOptions(eqx.Module):
    """The rendering options of a MuJoCo env, as Gymnasium v5 names them.

    Static and hashable (no field is traced), so envs that differ only in
    them share the physics and its compiled program.

    Attributes:
        width: Default frame width in pixels.
        height: Default frame height in pixels.
        camera_id: The camera to render from: the index of one of the
            model's cameras, -1 for the free camera, None for Gymnasium's
            default (the camera named ``"track"`` if the model has one, else
            the free camera).
        camera_name: The camera to render from, by name (None: see
            `camera_id`).
        default_camera_config: Settings of the free camera (`distance`,
            `azimuth`, `elevation`, `lookat`, ...) as sorted `(key, value)`
            pairs, or None for none.
        max_geom: Most geoms drawn per frame (MuJoCo's `MjvScene` size).
        visual_options: `mujoco.mjtVisFlag` flags set on the scene, as
            sorted `(flag, on)` pairs.
    """

    width: int = eqx.field(static=True, default=480)
    height: int = eqx.field(static=True, default=480)
    camera_id: int | None = eqx.field(static=True, default=None)
    camera_name: str | None = eqx.field(static=True, default=None)
    default_camera_config: tuple[tuple[str, Any], ...] | None = eqx.field(
        static=True, default=None
    )
    max_geom: int = eqx.field(static=True, default=1000)
    visual_options: tuple[tuple[int, bool], ...] = eqx.field(static=True, default=())


def make_render_options(
    owner: str,
    mj_model: Any,
    default_camera_config: Mapping[str, Any] | None,
    **kwargs: Any,
) -> MujocoRenderOptions:
    """Validates an env's rendering keywords (`MujocoRenderKwargs`) against
    its model.

    Raises:
        TypeError: For a keyword Gymnasium's `MujocoEnv` does not take, or a
            `render_mode` other than None (see `check_render_mode`).
        ValueError: For a bad value (see the `check_*` helpers).
    """
    unknown = sorted(set(kwargs) - set(MujocoRenderKwargs.__annotations__))
    if unknown:
        raise TypeError(
            f"{owner}.__init__() got an unexpected keyword argument {unknown[0]!r}."
        )
    check_render_mode(owner, kwargs.get("render_mode"))
    camera_id = kwargs.get("camera_id")
    camera_name = kwargs.get("camera_name")
    camera_index(owner, mj_model, camera_id, camera_name)
    return MujocoRenderOptions(
        width=check_size(owner, "width", kwargs.get("width", 480)),
        height=check_size(owner, "height", kwargs.get("height", 480)),
        camera_id=None if camera_id is None else int(camera_id),
        camera_name=camera_name,
        default_camera_config=camera_config(owner, default_camera_config),
        max_geom=check_size(owner, "max_geom", kwargs.get("max_geom", 1000)),
        visual_options=visual_flags(owner, kwargs.get("visual_options")),
    )


def check_render_mode(owner: str, render_mode: Any) -> None:
    """Refuses every `render_mode` but None (see
    `lerax.env._checks.check_render_mode`), naming the MuJoCo options that set
    the frame size and camera.

    Raises:
        TypeError: If `render_mode` is not None.
    """
    _check_render_mode(
        owner,
        render_mode,
        " The frame size and camera are the env's `width`, `height`, "
        "`camera_id`/`camera_name` and `default_camera_config` options.",
    )


def check_size(owner: str, name: str, value: Any) -> int:
    """Raises `ValueError` unless `value` is a positive int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"`{owner}({name}=...)` must be a positive int, got {value!r}."
        )
    return int(value)


def camera_config(
    owner: str, config: Mapping[str, Any] | None
) -> tuple[tuple[str, Any], ...] | None:
    """Gymnasium's `default_camera_config` as sorted, hashable pairs.

    Keys are `mujoco.MjvCamera` attributes; `lookat` is a 3-vector (tuple,
    list or array), the others numbers.

    Raises:
        ValueError: For something other than None or a mapping, an unknown
            key or a bad value.
    """
    if config is None:
        return None
    where = f"`{owner}(default_camera_config=...)`"
    if not isinstance(config, Mapping):
        raise ValueError(
            f"{where} must be None or a dict of camera settings, got {config!r}."
        )
    pairs = []
    for key, value in config.items():
        if key not in _CAMERA_KEYS:
            raise ValueError(
                f"{where}: unknown camera setting {key!r}; the settings are "
                f"{', '.join(sorted(_CAMERA_KEYS))}."
            )
        if key == "lookat":
            try:
                point = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                point = None
            if point is None or point.shape != (3,) or not np.all(np.isfinite(point)):
                raise ValueError(
                    f"{where}: 'lookat' must be 3 finite numbers, got {value!r}."
                )
            pairs.append((key, tuple(float(x) for x in point)))
        elif key in _CAMERA_INTS:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{where}: {key!r} must be an int, got {value!r}.")
            pairs.append((key, int(value)))
        else:
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
            ):
                raise ValueError(
                    f"{where}: {key!r} must be a finite number, got {value!r}."
                )
            pairs.append((key, float(value)))
    return tuple(sorted(pairs))


def camera_index(owner: str, mj_model: Any, camera_id: Any, camera_name: Any) -> int:
    """The camera to render from, as Gymnasium's `MujocoRenderer` picks it:
    `camera_id`, or the camera named `camera_name`, or (neither given) the
    camera named ``"track"`` if the model has one; -1 is the free camera.

    Raises:
        ValueError: If both are given (as Gymnasium), if `camera_id` is not
            -1 or the index of one of the model's cameras, or if the model
            has no camera `camera_name` (Gymnasium would silently use the
            free camera).
    """
    mujoco, _ = mujoco_modules()
    if camera_id is not None and camera_name is not None:
        raise ValueError(
            f"`{owner}`: give `camera_id` or `camera_name`, not both (got "
            f"camera_id={camera_id!r}, camera_name={camera_name!r})."
        )
    names = [mj_model.camera(i).name for i in range(mj_model.ncam)]
    if camera_id is not None:
        if (
            isinstance(camera_id, bool)
            or not isinstance(camera_id, numbers.Integral)
            or not -1 <= camera_id < mj_model.ncam
        ):
            raise ValueError(
                f"`{owner}(camera_id=...)` must be -1 (the free camera) or the "
                f"index of one of the model's {mj_model.ncam} cameras {names}, got "
                f"{camera_id!r}."
            )
        return int(camera_id)
    if camera_name is None:
        return int(mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_CAMERA, "track"))
    if not isinstance(camera_name, str):
        raise ValueError(
            f"`{owner}(camera_name=...)` must be a str, got {camera_name!r}."
        )
    index = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_CAMERA, camera_name)
    if index < 0:
        raise ValueError(
            f"`{owner}(camera_name={camera_name!r})`: the model has no such camera; "
            f"its cameras are {[n for n in names if n]} (or pass `camera_id`, -1 "
            "for the free camera)."
        )
    return int(index)


def visual_flags(
    owner: str, options: Mapping[Any, Any] | None
) -> tuple[tuple[int, bool], ...]:
    """Gymnasium's `visual_options` (`{mujoco.mjtVisFlag: bool}`) as sorted,
    hashable pairs.

    Raises:
        ValueError: For something other than None or a mapping, a key that
            is not a `mujoco.mjtVisFlag` index, or a value that is not a bool.
    """
    if options is None:
        return ()
    where = f"`{owner}(visual_options=...)`"
    if not isinstance(options, Mapping):
        raise ValueError(
            f"{where} must be None or a dict {{mujoco.mjtVisFlag: bool}}, got "
            f"{options!r}."
        )
    mujoco, _ = mujoco_modules()
    count = len(mujoco.MjvOption().flags)
    pairs = {}
    for flag, on in options.items():
        if isinstance(flag, mujoco.mjtVisFlag) or (
            isinstance(flag, numbers.Integral) and not isinstance(flag, bool)
        ):
            index = int(flag)
        else:
            index = -1
        if not 0 <= index < count:
            raise ValueError(
                f"{where}: keys must be `mujoco.mjtVisFlag` flags (0 to "
                f"{count - 1}), got {flag!r}."
            )
        if not isinstance(on, (bool, np.bool_)) and not (
            isinstance(on, numbers.Integral) and on in (0, 1)
        ):
            raise ValueError(f"{where}: values must be bools, got {on!r} for {flag!r}.")
        pairs[index] = bool(on)
    return tuple(sorted(pairs.items()))
