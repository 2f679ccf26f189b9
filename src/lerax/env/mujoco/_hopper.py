"""Hopper: a one-legged planar hopper rewarded for hopping forward (Gymnasium
`Hopper-v5`).

Observation `[qpos[1:], clip(qvel, -10, 10)]` (11); reward
`forward + healthy - ctrl` with `info` terms `reward_forward`, `reward_ctrl`,
`reward_survive`; ends when unhealthy (state, height or angle out of range).
`lerax.env.make("Hopper-v5")` adds the 1000-step time limit.
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
    check_range,
    check_switch,
    load,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options
from ._planar import forward_terms, runner_observation

DEFAULT_CAMERA_CONFIG = MappingProxyType(
    {
        "trackbodyid": 2,
        "distance": 3.0,
        "lookat": (0.0, 0.0, 1.15),
        "elevation": -20.0,
    }
)
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class Hopper(AbstractMujocoEnv):
    """Gymnasium's `Hopper-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        forward_reward_weight: Weight of the x velocity.
        ctrl_cost_weight: Weight of `sum(action^2)`.
        healthy_reward: Reward per step while healthy.
        terminate_when_unhealthy: End the episode when unhealthy.
        healthy_state_range: Open range of `[qpos[2:], qvel]` when healthy.
        healthy_z_range: Open range of the torso height when healthy.
        healthy_angle_range: Open range of the torso angle when healthy.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += U(-s, s)` at reset.
        exclude_current_positions_from_observation: Drop the x position.
    """

    name: ClassVar[str] = "Hopper"
    uses_contact_forces: ClassVar[bool] = False
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    forward_reward_weight: float
    ctrl_cost_weight: float
    healthy_reward: float
    terminate_when_unhealthy: bool
    healthy_state_range: tuple[float, float]
    healthy_z_range: tuple[float, float]
    healthy_angle_range: tuple[float, float]
    reset_noise_scale: float
    exclude_current_positions_from_observation: bool
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "hopper.xml",
        frame_skip: int = 4,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        forward_reward_weight: float = 1.0,
        ctrl_cost_weight: float = 1e-3,
        healthy_reward: float = 1.0,
        terminate_when_unhealthy: bool = True,
        healthy_state_range: tuple[float, float] = (-100.0, 100.0),
        healthy_z_range: tuple[float, float] = (0.7, float("inf")),
        healthy_angle_range: tuple[float, float] = (-0.2, 0.2),
        reset_noise_scale: float = 5e-3,
        exclude_current_positions_from_observation: bool = True,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("Hopper", xml_file)
        self.render_options = make_render_options(
            "Hopper", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("Hopper", frame_skip)
        self.forward_reward_weight = forward_reward_weight
        self.ctrl_cost_weight = ctrl_cost_weight
        self.healthy_reward = healthy_reward
        self.terminate_when_unhealthy = check_switch(
            "Hopper", "terminate_when_unhealthy", terminate_when_unhealthy
        )
        self.healthy_state_range = check_range(
            "Hopper", "healthy_state_range", healthy_state_range
        )
        self.healthy_z_range = check_range("Hopper", "healthy_z_range", healthy_z_range)
        self.healthy_angle_range = check_range(
            "Hopper", "healthy_angle_range", healthy_angle_range
        )
        check_nonnegative("Hopper", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.exclude_current_positions_from_observation = check_switch(
            "Hopper",
            "exclude_current_positions_from_observation",
            exclude_current_positions_from_observation,
        )
        size = (
            mj_model.nq + mj_model.nv - self.exclude_current_positions_from_observation
        )
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(size)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, vel_key = jr.split(key)
        s = self.reset_noise_scale
        qpos = self.model.qpos0 + uniform(pos_key, self.model.qpos0.shape, s)
        return qpos, uniform(vel_key, (self.model.nv,), s)

    def observe(self, data: Any) -> Array:
        return runner_observation(
            data, 1, self.exclude_current_positions_from_observation, 10.0
        )

    def _healthy(self, data: Any) -> Array:
        z, angle = data.qpos[1], data.qpos[2]
        state = jnp.concatenate([data.qpos, data.qvel])[2:]
        (s_low, s_high), (z_low, z_high), (a_low, a_high) = (
            self.healthy_state_range,
            self.healthy_z_range,
            self.healthy_angle_range,
        )
        return (
            jnp.all((s_low < state) & (state < s_high))
            & (z_low < z)
            & (z < z_high)
            & (a_low < angle)
            & (angle < a_high)
        )

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        _, forward, ctrl = forward_terms(
            data,
            next_data,
            action,
            self.dt,
            self.forward_reward_weight,
            self.ctrl_cost_weight,
        )
        healthy = self._healthy(next_data) * jnp.float32(self.healthy_reward)
        terms = {
            "reward_forward": forward,
            "reward_ctrl": -ctrl,
            "reward_survive": healthy,
        }
        return forward + healthy - ctrl, terms

    def task_terminal(self, data: Any) -> Array:
        return ~self._healthy(data) & self.terminate_when_unhealthy

    def reset_info(self, data: Any) -> dict:
        return {
            "x_position": data.qpos[0],
            "z_distance_from_origin": data.qpos[1] - self.model.qpos0[1],
        }

    def step_info(self, data: Any, next_data: Any) -> dict:
        info = self.reset_info(next_data)
        info["x_velocity"] = (next_data.qpos[0] - data.qpos[0]) / self.dt
        return info
