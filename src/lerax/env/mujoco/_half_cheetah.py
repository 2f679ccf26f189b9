"""HalfCheetah: a planar cheetah rewarded for running forward (Gymnasium
`HalfCheetah-v5`).

Observation `[qpos[1:], qvel]` (17); reward `forward - ctrl` with `info`
terms `reward_forward`, `reward_ctrl`; never terminates.
`lerax.env.make("HalfCheetah-v5")` adds the 1000-step time limit.
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
    check_switch,
    load,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options
from ._planar import forward_terms, runner_observation

DEFAULT_CAMERA_CONFIG = MappingProxyType({"distance": 4.0})
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class HalfCheetah(AbstractMujocoEnv):
    """Gymnasium's `HalfCheetah-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        forward_reward_weight: Weight of the x velocity.
        ctrl_cost_weight: Weight of `sum(action^2)`.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += s N(0, 1)` at reset.
        exclude_current_positions_from_observation: Drop the x position.
    """

    name: ClassVar[str] = "HalfCheetah"
    uses_contact_forces: ClassVar[bool] = False
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    forward_reward_weight: float
    ctrl_cost_weight: float
    reset_noise_scale: float
    exclude_current_positions_from_observation: bool
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "half_cheetah.xml",
        frame_skip: int = 5,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        forward_reward_weight: float = 1.0,
        ctrl_cost_weight: float = 0.1,
        reset_noise_scale: float = 0.1,
        exclude_current_positions_from_observation: bool = True,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("HalfCheetah", xml_file)
        self.render_options = make_render_options(
            "HalfCheetah", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("HalfCheetah", frame_skip)
        self.forward_reward_weight = forward_reward_weight
        self.ctrl_cost_weight = ctrl_cost_weight
        check_nonnegative("HalfCheetah", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.exclude_current_positions_from_observation = check_switch(
            "HalfCheetah",
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
        return qpos, s * jr.normal(vel_key, (self.model.nv,))

    def observe(self, data: Any) -> Array:
        return runner_observation(
            data, 1, self.exclude_current_positions_from_observation, None
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
        return forward - ctrl, {"reward_forward": forward, "reward_ctrl": -ctrl}

    def task_terminal(self, data: Any) -> Array:
        del data
        return jnp.array(False)

    def reset_info(self, data: Any) -> dict:
        return {"x_position": data.qpos[0]}

    def step_info(self, data: Any, next_data: Any) -> dict:
        velocity = (next_data.qpos[0] - data.qpos[0]) / self.dt
        return {"x_position": next_data.qpos[0], "x_velocity": velocity}
