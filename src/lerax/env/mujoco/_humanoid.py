"""Humanoid: a 3-D humanoid rewarded for running forward without falling
(Gymnasium `Humanoid-v5`).

Observation `[qpos[2:], qvel, cinert[1:], cvel[1:], qfrc_actuator[6:],
cfrc_ext[1:]]` (348 by default); reward `forward + healthy - ctrl - contact`
with `info` terms `reward_survive`, `reward_forward`, `reward_ctrl`,
`reward_contact`; ends when the torso height leaves `healthy_z_range`.
Gymnasium's XML asks for the PGS solver, which MJX lacks: the model runs with
the Newton solver (same iteration count). `lerax.env.make("Humanoid-v5")`
adds the 1000-step time limit.
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
    clip,
    load,
    planar_velocity,
    unbounded_box,
    uniform,
)
from ._humanoid_common import (
    humanoid_observation,
    humanoid_observation_size,
    mass_center,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options

DEFAULT_CAMERA_CONFIG = MappingProxyType(
    {
        "trackbodyid": 1,
        "distance": 4.0,
        "lookat": (0.0, 0.0, 2.0),
        "elevation": -20.0,
    }
)
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class Humanoid(AbstractMujocoEnv):
    """Gymnasium's `Humanoid-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        forward_reward_weight: Weight of the centre-of-mass x velocity.
        ctrl_cost_weight: Weight of `sum(ctrl^2)`.
        contact_cost_weight: Weight of `sum(cfrc_ext^2)`.
        contact_cost_range: The contact cost is clipped into this range.
        healthy_reward: Reward per step while healthy.
        terminate_when_unhealthy: End the episode when unhealthy.
        healthy_z_range: Open range of the torso height when healthy.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += U(-s, s)` at reset.
        exclude_current_positions_from_observation: Drop the x-y position.
        include_cinert_in_observation: Append the bodies' `cinert`.
        include_cvel_in_observation: Append the bodies' `cvel`.
        include_qfrc_actuator_in_observation: Append `qfrc_actuator[6:]`.
        include_cfrc_ext_in_observation: Append the bodies' `cfrc_ext`.
    """

    name: ClassVar[str] = "Humanoid"
    uses_contact_forces: ClassVar[bool] = True
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    forward_reward_weight: float
    ctrl_cost_weight: float
    contact_cost_weight: float
    contact_cost_range: tuple[float, float]
    healthy_reward: float
    terminate_when_unhealthy: bool
    healthy_z_range: tuple[float, float]
    reset_noise_scale: float
    exclude_current_positions_from_observation: bool
    include_cinert_in_observation: bool
    include_cvel_in_observation: bool
    include_qfrc_actuator_in_observation: bool
    include_cfrc_ext_in_observation: bool
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "humanoid.xml",
        frame_skip: int = 5,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        forward_reward_weight: float = 1.25,
        ctrl_cost_weight: float = 0.1,
        contact_cost_weight: float = 5e-7,
        contact_cost_range: tuple[float, float] = (-float("inf"), 10.0),
        healthy_reward: float = 5.0,
        terminate_when_unhealthy: bool = True,
        healthy_z_range: tuple[float, float] = (1.0, 2.0),
        reset_noise_scale: float = 1e-2,
        exclude_current_positions_from_observation: bool = True,
        include_cinert_in_observation: bool = True,
        include_cvel_in_observation: bool = True,
        include_qfrc_actuator_in_observation: bool = True,
        include_cfrc_ext_in_observation: bool = True,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("Humanoid", xml_file)
        self.render_options = make_render_options(
            "Humanoid", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("Humanoid", frame_skip)
        self.forward_reward_weight = forward_reward_weight
        self.ctrl_cost_weight = ctrl_cost_weight
        self.contact_cost_weight = contact_cost_weight
        self.contact_cost_range = check_range(
            "Humanoid", "contact_cost_range", contact_cost_range
        )
        self.healthy_reward = healthy_reward
        self.terminate_when_unhealthy = check_switch(
            "Humanoid", "terminate_when_unhealthy", terminate_when_unhealthy
        )
        self.healthy_z_range = check_range(
            "Humanoid", "healthy_z_range", healthy_z_range
        )
        check_nonnegative("Humanoid", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.exclude_current_positions_from_observation = check_switch(
            "Humanoid",
            "exclude_current_positions_from_observation",
            exclude_current_positions_from_observation,
        )
        self.include_cinert_in_observation = check_switch(
            "Humanoid", "include_cinert_in_observation", include_cinert_in_observation
        )
        self.include_cvel_in_observation = check_switch(
            "Humanoid", "include_cvel_in_observation", include_cvel_in_observation
        )
        self.include_qfrc_actuator_in_observation = check_switch(
            "Humanoid",
            "include_qfrc_actuator_in_observation",
            include_qfrc_actuator_in_observation,
        )
        self.include_cfrc_ext_in_observation = check_switch(
            "Humanoid",
            "include_cfrc_ext_in_observation",
            include_cfrc_ext_in_observation,
        )
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(
            humanoid_observation_size(mj_model, self._flags)
        )

    @property
    def _flags(self) -> tuple[bool, ...]:
        return (
            self.exclude_current_positions_from_observation,
            self.include_cinert_in_observation,
            self.include_cvel_in_observation,
            self.include_qfrc_actuator_in_observation,
            self.include_cfrc_ext_in_observation,
        )

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, vel_key = jr.split(key)
        s = self.reset_noise_scale
        qpos = self.model.qpos0 + uniform(pos_key, self.model.qpos0.shape, s)
        return qpos, uniform(vel_key, (self.model.nv,), s)

    def observe(self, data: Any) -> Array:
        return humanoid_observation(data, self._flags)

    def _healthy(self, data: Any) -> Array:
        low, high = self.healthy_z_range
        return (low < data.qpos[2]) & (data.qpos[2] < high)

    def _velocity(self, data: Any, next_data: Any) -> Array:
        mass = self.model.body_mass
        return planar_velocity(
            mass_center(mass, data.xipos), mass_center(mass, next_data.xipos), self.dt
        )

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        del action  # Gymnasium's cost reads `data.ctrl`, the same numbers
        forward = self.forward_reward_weight * self._velocity(data, next_data)[0]
        healthy = self._healthy(next_data) * jnp.float32(self.healthy_reward)
        ctrl = self.ctrl_cost_weight * jnp.sum(jnp.square(next_data.ctrl))
        contact = self.contact_cost_weight * jnp.sum(
            jnp.square(next_data._impl.cfrc_ext)
        )
        contact = clip(contact, *self.contact_cost_range)
        terms = {
            "reward_survive": healthy,
            "reward_forward": forward,
            "reward_ctrl": -ctrl,
            "reward_contact": -contact,
        }
        return forward + healthy - ctrl - contact, terms

    def task_terminal(self, data: Any) -> Array:
        return ~self._healthy(data) & self.terminate_when_unhealthy

    def reset_info(self, data: Any) -> dict:
        return {
            "x_position": data.qpos[0],
            "y_position": data.qpos[1],
            "tendon_length": data.ten_length,
            "tendon_velocity": data._impl.ten_velocity,
            "distance_from_origin": jnp.linalg.norm(data.qpos[:2]),
        }

    def step_info(self, data: Any, next_data: Any) -> dict:
        velocity = self._velocity(data, next_data)
        info = self.reset_info(next_data)
        info["x_velocity"] = velocity[0]
        info["y_velocity"] = velocity[1]
        return info
