"""HumanoidStandup: a humanoid lying on the ground rewarded for standing up
(Gymnasium `HumanoidStandup-v5`).

Observation as `Humanoid` (348 by default); reward
`qpos[2] / timestep - ctrl - impact + 1` with `info` terms `reward_linup`,
`reward_quadctrl`, `reward_impact`; never terminates. Runs with the Newton
solver (MJX has no PGS). `lerax.env.make("HumanoidStandup-v5")` adds the
1000-step time limit.
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
    unbounded_box,
    uniform,
)
from ._humanoid_common import humanoid_observation, humanoid_observation_size
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options

DEFAULT_CAMERA_CONFIG = MappingProxyType(
    {
        "trackbodyid": 1,
        "distance": 4.0,
        "lookat": (0.0, 0.0, 0.8925),
        "elevation": -20.0,
    }
)
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class HumanoidStandup(AbstractMujocoEnv):
    """Gymnasium's `HumanoidStandup-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        uph_cost_weight: Kept for Gymnasium parity (v5 does not use it).
        ctrl_cost_weight: Weight of `sum(ctrl^2)`.
        impact_cost_weight: Weight of `sum(cfrc_ext^2)`.
        impact_cost_range: The impact cost is clipped into this range.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += U(-s, s)` at reset.
        exclude_current_positions_from_observation: Drop the x-y position.
        include_cinert_in_observation: Append the bodies' `cinert`.
        include_cvel_in_observation: Append the bodies' `cvel`.
        include_qfrc_actuator_in_observation: Append `qfrc_actuator[6:]`.
        include_cfrc_ext_in_observation: Append the bodies' `cfrc_ext`.
    """

    name: ClassVar[str] = "HumanoidStandup"
    uses_contact_forces: ClassVar[bool] = True
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    uph_cost_weight: float
    ctrl_cost_weight: float
    impact_cost_weight: float
    impact_cost_range: tuple[float, float]
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
        xml_file: str = "humanoidstandup.xml",
        frame_skip: int = 5,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        uph_cost_weight: float = 1.0,
        ctrl_cost_weight: float = 0.1,
        impact_cost_weight: float = 5e-7,
        impact_cost_range: tuple[float, float] = (-float("inf"), 10.0),
        reset_noise_scale: float = 1e-2,
        exclude_current_positions_from_observation: bool = True,
        include_cinert_in_observation: bool = True,
        include_cvel_in_observation: bool = True,
        include_qfrc_actuator_in_observation: bool = True,
        include_cfrc_ext_in_observation: bool = True,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("HumanoidStandup", xml_file)
        self.render_options = make_render_options(
            "HumanoidStandup", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("HumanoidStandup", frame_skip)
        self.uph_cost_weight = uph_cost_weight
        self.ctrl_cost_weight = ctrl_cost_weight
        self.impact_cost_weight = impact_cost_weight
        self.impact_cost_range = check_range(
            "HumanoidStandup", "impact_cost_range", impact_cost_range
        )
        check_nonnegative("HumanoidStandup", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.exclude_current_positions_from_observation = check_switch(
            "HumanoidStandup",
            "exclude_current_positions_from_observation",
            exclude_current_positions_from_observation,
        )
        self.include_cinert_in_observation = check_switch(
            "HumanoidStandup",
            "include_cinert_in_observation",
            include_cinert_in_observation,
        )
        self.include_cvel_in_observation = check_switch(
            "HumanoidStandup",
            "include_cvel_in_observation",
            include_cvel_in_observation,
        )
        self.include_qfrc_actuator_in_observation = check_switch(
            "HumanoidStandup",
            "include_qfrc_actuator_in_observation",
            include_qfrc_actuator_in_observation,
        )
        self.include_cfrc_ext_in_observation = check_switch(
            "HumanoidStandup",
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

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        del data, action
        timestep = float(self.mj_model.opt.timestep)
        uph = next_data.qpos[2] / timestep
        ctrl = self.ctrl_cost_weight * jnp.sum(jnp.square(next_data.ctrl))
        impact = self.impact_cost_weight * jnp.sum(jnp.square(next_data._impl.cfrc_ext))
        impact = clip(impact, *self.impact_cost_range)
        terms = {
            "reward_linup": uph,
            "reward_quadctrl": -ctrl,
            "reward_impact": -impact,
        }
        return uph - ctrl - impact + 1.0, terms

    def task_terminal(self, data: Any) -> Array:
        del data
        return jnp.array(False)

    def reset_info(self, data: Any) -> dict:
        return {
            "x_position": data.qpos[0],
            "y_position": data.qpos[1],
            "z_distance_from_origin": data.qpos[2] - self.model.qpos0[2],
            "tendon_length": data.ten_length,
            "tendon_velocity": data._impl.ten_velocity,
        }

    def step_info(self, data: Any, next_data: Any) -> dict:
        del data
        return self.reset_info(next_data)
