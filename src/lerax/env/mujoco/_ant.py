"""Ant: a four-legged robot rewarded for running along +x (Gymnasium `Ant-v5`).

Observation `[qpos[2:], qvel, clip(cfrc_ext[1:])]` (27 + 78 entries by
default); reward `forward + healthy - ctrl - contact` with `info` terms
`reward_forward`, `reward_ctrl`, `reward_contact`, `reward_survive`; the
episode ends when the torso height leaves `healthy_z_range` (or the state is
not finite). `lerax.env.make("Ant-v5")` adds the 1000-step time limit.
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
    body_id,
    check_frame_skip,
    check_nonnegative,
    check_range,
    check_switch,
    clip,
    load,
    planar_velocity,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options

DEFAULT_CAMERA_CONFIG = MappingProxyType({"distance": 4.0})
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class Ant(AbstractMujocoEnv):
    """Gymnasium's `Ant-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        forward_reward_weight: Weight of the x velocity of `main_body`.
        ctrl_cost_weight: Weight of `sum(action^2)`.
        contact_cost_weight: Weight of `sum(clip(cfrc_ext)^2)`.
        healthy_reward: Reward per step while healthy.
        main_body: Index of the body whose x-y velocity is rewarded.
        terminate_when_unhealthy: End the episode when unhealthy.
        healthy_z_range: Healthy torso heights `(min, max)` (inclusive).
        contact_force_range: `cfrc_ext` is clipped into this range.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += s N(0, 1)` at reset.
        exclude_current_positions_from_observation: Drop the x-y position.
        include_cfrc_ext_in_observation: Append the clipped contact forces.
    """

    name: ClassVar[str] = "Ant"
    uses_contact_forces: ClassVar[bool] = True
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    forward_reward_weight: float
    ctrl_cost_weight: float
    contact_cost_weight: float
    healthy_reward: float
    main_body: int
    terminate_when_unhealthy: bool
    healthy_z_range: tuple[float, float]
    contact_force_range: tuple[float, float]
    reset_noise_scale: float
    exclude_current_positions_from_observation: bool
    include_cfrc_ext_in_observation: bool
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "ant.xml",
        frame_skip: int = 5,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        forward_reward_weight: float = 1.0,
        ctrl_cost_weight: float = 0.5,
        contact_cost_weight: float = 5e-4,
        healthy_reward: float = 1.0,
        main_body: int | str = 1,
        terminate_when_unhealthy: bool = True,
        healthy_z_range: tuple[float, float] = (0.2, 1.0),
        contact_force_range: tuple[float, float] = (-1.0, 1.0),
        reset_noise_scale: float = 0.1,
        exclude_current_positions_from_observation: bool = True,
        include_cfrc_ext_in_observation: bool = True,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("Ant", xml_file)
        self.render_options = make_render_options(
            "Ant", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("Ant", frame_skip)
        self.forward_reward_weight = forward_reward_weight
        self.ctrl_cost_weight = ctrl_cost_weight
        self.contact_cost_weight = contact_cost_weight
        self.healthy_reward = healthy_reward
        self.main_body = body_id("Ant", mj_model, main_body, "main_body")
        self.terminate_when_unhealthy = check_switch(
            "Ant", "terminate_when_unhealthy", terminate_when_unhealthy
        )
        self.healthy_z_range = check_range("Ant", "healthy_z_range", healthy_z_range)
        self.contact_force_range = check_range(
            "Ant", "contact_force_range", contact_force_range
        )
        check_nonnegative("Ant", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.exclude_current_positions_from_observation = check_switch(
            "Ant",
            "exclude_current_positions_from_observation",
            exclude_current_positions_from_observation,
        )
        self.include_cfrc_ext_in_observation = check_switch(
            "Ant", "include_cfrc_ext_in_observation", include_cfrc_ext_in_observation
        )
        size = mj_model.nq + mj_model.nv
        size -= 2 * self.exclude_current_positions_from_observation
        size += 6 * (mj_model.nbody - 1) * self.include_cfrc_ext_in_observation
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(size)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, vel_key = jr.split(key)
        s = self.reset_noise_scale
        qpos = self.model.qpos0 + uniform(pos_key, self.model.qpos0.shape, s)
        qvel = s * jr.normal(vel_key, (self.model.nv,))
        return qpos, qvel

    def _contact_forces(self, data: Any) -> Array:
        return clip(data._impl.cfrc_ext, *self.contact_force_range)

    def observe(self, data: Any) -> Array:
        qpos = (
            data.qpos[2:]
            if self.exclude_current_positions_from_observation
            else data.qpos
        )
        parts = [qpos, data.qvel]
        if self.include_cfrc_ext_in_observation:
            parts.append(self._contact_forces(data)[1:].ravel())
        return jnp.concatenate(parts)

    def _healthy(self, data: Any) -> Array:
        low, high = self.healthy_z_range
        finite = jnp.all(jnp.isfinite(data.qpos)) & jnp.all(jnp.isfinite(data.qvel))
        return finite & (data.qpos[2] >= low) & (data.qpos[2] <= high)

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        velocity = planar_velocity(
            data.xpos[self.main_body, :2], next_data.xpos[self.main_body, :2], self.dt
        )
        forward = self.forward_reward_weight * velocity[0]
        healthy = self._healthy(next_data) * jnp.float32(self.healthy_reward)
        ctrl = self.ctrl_cost_weight * jnp.sum(jnp.square(action))
        contact = self.contact_cost_weight * jnp.sum(
            jnp.square(self._contact_forces(next_data))
        )
        reward = forward + healthy - ctrl - contact
        terms = {
            "reward_forward": forward,
            "reward_ctrl": -ctrl,
            "reward_contact": -contact,
            "reward_survive": healthy,
        }
        return reward, terms

    def task_terminal(self, data: Any) -> Array:
        return ~self._healthy(data) & self.terminate_when_unhealthy

    def reset_info(self, data: Any) -> dict:
        return {
            "x_position": data.qpos[0],
            "y_position": data.qpos[1],
            "distance_from_origin": jnp.linalg.norm(data.qpos[:2]),
        }

    def step_info(self, data: Any, next_data: Any) -> dict:
        velocity = planar_velocity(
            data.xpos[self.main_body, :2], next_data.xpos[self.main_body, :2], self.dt
        )
        info = self.reset_info(next_data)
        info["x_velocity"] = velocity[0]
        info["y_velocity"] = velocity[1]
        return info
