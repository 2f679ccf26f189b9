"""Reacher: move a two-link arm's fingertip to a random target (Gymnasium
`Reacher-v5`).

Observation `[cos(angles), sin(angles), target, joint velocities,
fingertip - target (x, y)]` (10); reward `-distance - ctrl` with `info` terms
`reward_dist`, `reward_ctrl`; never terminates. `lerax.env.make("Reacher-v5")`
adds the 50-step time limit.
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

DEFAULT_CAMERA_CONFIG = MappingProxyType({"trackbodyid": 0})
"""Gymnasium v5's `default_camera_config` of this env."""


@final
class Reacher(AbstractMujocoEnv):
    """Gymnasium's `Reacher-v5` on MJX, with every v5 constructor option.

    The target is drawn uniformly in the disc of radius 0.2 (rejection
    sampling from the square, as Gymnasium).

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to
    Gymnasium v5's (`DEFAULT_CAMERA_CONFIG`).

    Attributes:
        reward_dist_weight: Weight of the fingertip-target distance.
        reward_control_weight: Weight of `sum(action^2)`.
        fingertip: Index of the fingertip body.
        target: Index of the target body.
    """

    name: ClassVar[str] = "Reacher"
    uses_contact_forces: ClassVar[bool] = False
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    reward_dist_weight: float
    reward_control_weight: float
    fingertip: int
    target: int
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "reacher.xml",
        frame_skip: int = 2,
        default_camera_config: Mapping[str, Any] | None = DEFAULT_CAMERA_CONFIG,
        reward_dist_weight: float = 1.0,
        reward_control_weight: float = 1.0,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("Reacher", xml_file)
        self.render_options = make_render_options(
            "Reacher", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("Reacher", frame_skip)
        self.reward_dist_weight = reward_dist_weight
        self.reward_control_weight = reward_control_weight
        self.fingertip = body_id("Reacher", mj_model, "fingertip")
        self.target = body_id("Reacher", mj_model, "target")
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(10)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, goal_key, vel_key = jr.split(key, 3)
        nq, nv = self.model.nq, self.model.nv
        qpos = self.model.qpos0 + uniform(pos_key, (nq,), 0.1)
        goal = sample_until(
            goal_key,
            lambda k: uniform(k, (2,), 0.2),
            lambda g: jnp.linalg.norm(g) < 0.2,
        )
        qpos = qpos.at[-2:].set(goal)
        qvel = uniform(vel_key, (nv,), 0.005).at[-2:].set(0.0)
        return qpos, qvel

    def _to_target(self, data: Any) -> Array:
        return data.xpos[self.fingertip] - data.xpos[self.target]

    def observe(self, data: Any) -> Array:
        theta = data.qpos[:2]
        return jnp.concatenate(
            [
                jnp.cos(theta),
                jnp.sin(theta),
                data.qpos[2:],
                data.qvel[:2],
                self._to_target(data)[:2],
            ]
        )

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        del data
        dist = -jnp.linalg.norm(self._to_target(next_data)) * self.reward_dist_weight
        ctrl = -jnp.sum(jnp.square(action)) * self.reward_control_weight
        return dist + ctrl, {"reward_dist": dist, "reward_ctrl": ctrl}

    def task_terminal(self, data: Any) -> Array:
        del data
        return jnp.array(False)

    def reset_info(self, data: Any) -> dict:
        del data
        return {}

    def step_info(self, data: Any, next_data: Any) -> dict:
        del data, next_data
        return {}
