"""Pusher: push a cylinder to a goal with a 7-DoF arm (Gymnasium `Pusher-v5`).

Observation `[qpos[:7], qvel[:7], tips_arm, object, goal]` (23); reward
`-near - dist - ctrl` with `info` terms `reward_dist`, `reward_ctrl`,
`reward_near`; never terminates. `lerax.env.make("Pusher-v5")` adds the
100-step time limit.
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
    load,
    sample_until,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options

DEFAULT_CAMERA_CONFIG = MappingProxyType({"trackbodyid": -1, "distance": 4.0})
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class Pusher(AbstractMujocoEnv):
    """Gymnasium's `Pusher-v5` on MJX, with every v5 constructor option.

    The arm starts at rest in its reference pose (velocities `U(-0.005,
    0.005)`); the cylinder starts uniformly in `[-0.3, 0] x [-0.2, 0.2]` at
    least 0.17 from the goal at the origin.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        reward_near_weight: Weight of the fingertip-object distance.
        reward_dist_weight: Weight of the object-goal distance.
        reward_control_weight: Weight of `sum(action^2)`.
        tips_arm: Index of the fingertip body.
        object: Index of the object body.
        goal: Index of the goal body.
    """

    name: ClassVar[str] = "Pusher"
    uses_contact_forces: ClassVar[bool] = False
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    reward_near_weight: float
    reward_dist_weight: float
    reward_control_weight: float
    tips_arm: int
    object: int
    goal: int
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "pusher_v5.xml",
        frame_skip: int = 5,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        reward_near_weight: float = 0.5,
        reward_dist_weight: float = 1.0,
        reward_control_weight: float = 0.1,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("Pusher", xml_file)
        self.render_options = make_render_options(
            "Pusher", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("Pusher", frame_skip)
        self.reward_near_weight = reward_near_weight
        self.reward_dist_weight = reward_dist_weight
        self.reward_control_weight = reward_control_weight
        self.tips_arm = body_id("Pusher", mj_model, "tips_arm")
        self.object = body_id("Pusher", mj_model, "object")
        self.goal = body_id("Pusher", mj_model, "goal")
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(23)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        cylinder_key, vel_key = jr.split(key)
        low, high = jnp.array([-0.3, -0.2]), jnp.array([0.0, 0.2])
        cylinder = sample_until(
            cylinder_key,
            lambda k: jr.uniform(k, (2,), minval=low, maxval=high),
            lambda c: jnp.linalg.norm(c) > 0.17,
        )
        qpos = self.model.qpos0.at[-4:-2].set(cylinder).at[-2:].set(0.0)
        qvel = uniform(vel_key, (self.model.nv,), 0.005).at[-4:].set(0.0)
        return qpos, qvel

    def observe(self, data: Any) -> Array:
        return jnp.concatenate(
            [
                data.qpos[:7],
                data.qvel[:7],
                data.xpos[self.tips_arm],
                data.xpos[self.object],
                data.xpos[self.goal],
            ]
        )

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        del data
        xpos = next_data.xpos
        near = -jnp.linalg.norm(xpos[self.object] - xpos[self.tips_arm])
        dist = -jnp.linalg.norm(xpos[self.object] - xpos[self.goal])
        near = near * self.reward_near_weight
        dist = dist * self.reward_dist_weight
        ctrl = -jnp.sum(jnp.square(action)) * self.reward_control_weight
        terms = {"reward_dist": dist, "reward_ctrl": ctrl, "reward_near": near}
        return dist + ctrl + near, terms

    def task_terminal(self, data: Any) -> Array:
        del data
        return jnp.array(False)

    def reset_info(self, data: Any) -> dict:
        del data
        return {}

    def step_info(self, data: Any, next_data: Any) -> dict:
        del data, next_data
        return {}
