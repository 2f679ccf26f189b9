"""Off-screen MuJoCo rendering needs a GL backend chosen before `mujoco` is
first imported: EGL when there is no display (as `lerax.env.mujoco` does)."""

import os

if "MUJOCO_GL" not in os.environ and not (
    os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
):
    os.environ["MUJOCO_GL"] = "egl"
