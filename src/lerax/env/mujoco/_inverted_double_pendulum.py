"""InvertedDoublePendulum: balance two stacked poles on a cart (Gymnasium
`InvertedDoublePendulum-v5`).

Observation `[x, sin(angles), cos(angles), clip(qvel), clip(qfrc_constraint)[:1]]`
(9); reward `alive - distance - velocity penalties` with `info` terms
`reward_survive`, `distance_penalty`, `velocity_penalty`; ends when the tip
drops to height 1. `lerax.env.make("InvertedDoublePendulum-v5")` adds the
1000-step time limit.
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
    clip,
    load,
    unbounded_box,
    uniform,
)
from ._options import MujocoRenderKwargs, MujocoRenderOptions, make_render_options


@final
class InvertedDoublePendulum(AbstractMujocoEnv):
    """Gymnasium's `InvertedDoublePendulum-v5` on MJX, with every v5 option.

    Also takes Gymnasium's rendering keywords (see `AbstractMujocoEnv`),
    kept in `render_options`; `default_camera_config` defaults to None,
    as in Gymnasium v5 (no free-camera settings).

    Attributes:
        healthy_reward: Reward per step while the tip is above height 1.
        reset_noise_scale: `qpos += U(-s, s)`, `qvel += s N(0, 1)` at reset.
    """

    name: ClassVar[str] = "InvertedDoublePendulum"
    uses_contact_forces: ClassVar[bool] = False
    xml_file: str
    frame_skip: int
    model: Any
    render_options: MujocoRenderOptions = eqx.field(static=True)
    healthy_reward: float
    reset_noise_scale: float
    action_space: Box
    observation_space: Box

    def __init__(
        self,
        *,
        xml_file: str = "inverted_double_pendulum.xml",
        frame_skip: int = 5,
        default_camera_config: Mapping[str, Any] | None = None,
        healthy_reward: float = 10.0,
        reset_noise_scale: float = 0.1,
        **render_kwargs: Unpack[MujocoRenderKwargs],
    ):
        self.xml_file, mj_model, self.model = load("InvertedDoublePendulum", xml_file)
        self.render_options = make_render_options(
            "InvertedDoublePendulum", mj_model, default_camera_config, **render_kwargs
        )
        self.frame_skip = check_frame_skip("InvertedDoublePendulum", frame_skip)
        self.healthy_reward = healthy_reward
        check_nonnegative("InvertedDoublePendulum", reset_noise_scale=reset_noise_scale)
        self.reset_noise_scale = reset_noise_scale
        self.action_space = action_box(mj_model)
        self.observation_space = unbounded_box(9)

    def initial_qpos_qvel(self, *, key: Key[Array, ""]):
        pos_key, vel_key = jr.split(key)
        s = self.reset_noise_scale
        qpos = self.model.qpos0 + uniform(pos_key, self.model.qpos0.shape, s)
        return qpos, s * jr.normal(vel_key, (self.model.nv,))

    def observe(self, data: Any) -> Array:
        return jnp.concatenate(
            [
                data.qpos[:1],
                jnp.sin(data.qpos[1:]),
                jnp.cos(data.qpos[1:]),
                clip(data.qvel, -10.0, 10.0),
                clip(data.qfrc_constraint, -10.0, 10.0)[:1],
            ]
        )

    def task_terminal(self, data: Any) -> Array:
        return data.site_xpos[0, 2] <= 1

    def reward_terms(self, data: Any, action: Array, next_data: Any):
        del data, action
        x, y = next_data.site_xpos[0, 0], next_data.site_xpos[0, 2]
        v1, v2 = next_data.qvel[1], next_data.qvel[2]
        distance = 0.01 * x**2 + (y - 2) ** 2
        velocity = 1e-3 * v1**2 + 5e-3 * v2**2
        alive = jnp.where(self.task_terminal(next_data), 0.0, self.healthy_reward)
        terms = {
            "reward_survive": alive,
            "distance_penalty": -distance,
            "velocity_penalty": -velocity,
        }
        return alive - distance - velocity, terms

    def reset_info(self, data: Any) -> dict:
        del data
        return {}

    def step_info(self, data: Any, next_data: Any) -> dict:
        del data, next_data
        return {}
