"""Swimmer: a three-link swimmer in viscous fluid rewarded for moving along +x
(Gymnasium `Swimmer-v5`).

Observation `[qpos[2:], qvel]` (8); reward `forward - ctrl` with `info` terms
`reward_forward`, `reward_ctrl`; never terminates.
`lerax.env.make("Swimmer-v5")` adds the 1000-step time limit.
"""

from collections.abc import Mapping
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
    planar_velocity,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options
from ._planar import runner_observation


@final
class Swimmer(AbstractMujocoEnv):
    """Gymnasium's `Swimmer-v5` on MJX, with every v5 constructor option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to None,
    as in Gymnasium v5 (no free-camera settings).

    Attributes:
        forward_reward_weight: Weight of the x velocity.
        ctrl_cost_weight: Weight of `sum(action^2)`.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += U(-s, s)` at reset.
        exclude_current_positions_from_observation: Drop the x-y position.
    """

    name: ClassVar[str] = "Swimmer"
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
        xml_file: str = "swimmer.xml",
        frame_skip: int = 4,
        default_camera_config: Mapping[str, Any] | None = None,
        forward_reward_weight: float = 1.0,
        ctrl_cost_weight: float = 1e-4,
        reset_noise_scale: float = 0.1,
        exclude_current_positions_from_observation: bool = True,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("Swimmer", xml_file)
        self.render_options = make_render_options(
            "Swimmer", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("Swimmer", frame_skip)
        self.forward_reward_weight = forward_reward_weight
        self.ctrl_cost_weight = ctrl_cost_weight
        check_nonnegative("Swimmer", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.exclude_current_positions_from_observation = check_switch(
            "Swimmer",
            "exclude_current_positions_from_observation",
            exclude_current_positions_from_observation,
        )
        size = mj_model.nq + mj_model.nv
        size -= 2 * self.exclude_current_positions_from_observation
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(size)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, vel_key = jr.split(key)
        s = self.reset_noise_scale
        qpos = self.model.qpos0 + uniform(pos_key, self.model.qpos0.shape, s)
        return qpos, uniform(vel_key, (self.model.nv,), s)

    def observe(self, data: Any) -> Array:
        return runner_observation(
            data, 2, self.exclude_current_positions_from_observation, None
        )

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        velocity = planar_velocity(data.qpos[0], next_data.qpos[0], self.dt)
        forward = self.forward_reward_weight * velocity
        ctrl = self.ctrl_cost_weight * jnp.sum(jnp.square(action))
        return forward - ctrl, {"reward_forward": forward, "reward_ctrl": -ctrl}

    def task_terminal(self, data: Any) -> Array:
        del data
        return jnp.array(False)

    def reset_info(self, data: Any) -> dict:
        return {
            "x_position": data.qpos[0],
            "y_position": data.qpos[1],
            "distance_from_origin": jnp.linalg.norm(data.qpos[:2]),
        }

    def step_info(self, data: Any, next_data: Any) -> dict:
        velocity = planar_velocity(data.qpos[:2], next_data.qpos[:2], self.dt)
        info = self.reset_info(next_data)
        info["x_velocity"] = velocity[0]
        info["y_velocity"] = velocity[1]
        return info
