"""Shared pieces of the planar runners (HalfCheetah, Hopper, Walker2d, Swimmer)."""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array

from ._base import clip, planar_velocity


def runner_observation(
    data: Any, skip: int, exclude: bool, clip_velocity: float | None
) -> Array:
    """`[qpos[skip:], qvel]` (positions kept whole unless `exclude`), with the
    velocities clipped to `±clip_velocity` when given."""
    qpos = data.qpos[skip:] if exclude else data.qpos
    qvel = data.qvel
    if clip_velocity is not None:
        qvel = clip(qvel, -clip_velocity, clip_velocity)
    return jnp.concatenate([qpos, qvel])


def forward_terms(
    data: Any,
    next_data: Any,
    action: Array,
    dt: float,
    forward_weight: float,
    ctrl_weight: float,
) -> tuple[Array, Array, Array]:
    """`(x_velocity, forward_reward, ctrl_cost)` from `qpos[0]`."""
    velocity = planar_velocity(data.qpos[0], next_data.qpos[0], dt)
    ctrl = ctrl_weight * jnp.sum(jnp.square(action))
    return velocity, forward_weight * velocity, ctrl
