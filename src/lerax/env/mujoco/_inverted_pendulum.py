"""InvertedPendulum: balance a pole on a cart (Gymnasium `InvertedPendulum-v5`).

Observation `[qpos, qvel]` (4); reward 1 per step while the pole is within
0.2 rad of upright (`info["reward_survive"]`); ends when it leaves that range.
`lerax.env.make("InvertedPendulum-v5")` adds the 1000-step time limit.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Unpack, final

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Key

from ...space import Box
from ._base import (
    AbstractMujocoEnv,
    action_box,
    check_frame_skip,
    check_nonnegative,
    load,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options

DEFAULT_CAMERA_CONFIG = MappingProxyType({"trackbodyid": 0, "distance": 2.04})
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class InvertedPendulum(AbstractMujocoEnv):
    """Gymnasium's `InvertedPendulum-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += U(-s, s)` at reset.
    """

    name: ClassVar[str] = "InvertedPendulum"
    uses_contact_forces: ClassVar[bool] = False
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    reset_noise_scale: float
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "inverted_pendulum.xml",
        frame_skip: int = 2,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        reset_noise_scale: float = 0.01,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("InvertedPendulum", xml_file)
        self.render_options = make_render_options(
            "InvertedPendulum", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("InvertedPendulum", frame_skip)
        check_nonnegative("InvertedPendulum", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(4)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, vel_key = jr.split(key)
        s = self.reset_noise_scale
        qpos = self.model.qpos0 + uniform(pos_key, self.model.qpos0.shape, s)
        return qpos, uniform(vel_key, (self.model.nv,), s)

    def observe(self, data: Any) -> Array:
        return jnp.concatenate([data.qpos, data.qvel])

    def task_terminal(self, data: Any) -> Array:
        obs = self.observe(data)
        return ~jnp.all(jnp.isfinite(obs)) | (jnp.abs(obs[1]) > 0.2)

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        del data, action
        alive = jnp.where(self.task_terminal(next_data), 0.0, 1.0)
        return alive, {"reward_survive": alive}

    def reset_info(self, data: Any) -> dict:
        del data
        return {}

    def step_info(self, data: Any, next_data: Any) -> dict:
        del data, next_data
        return {}
