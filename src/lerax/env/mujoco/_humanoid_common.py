"""Observation shared by Humanoid and HumanoidStandup."""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array


def humanoid_observation_size(mj_model: Any, flags: tuple[bool, ...]) -> int:
    """The v5 observation size for the flags `(exclude_positions, cinert, cvel,
    qfrc_actuator, cfrc_ext)`."""
    exclude, cinert, cvel, qfrc, cfrc = flags
    size = mj_model.nq + mj_model.nv - 2 * exclude
    bodies = mj_model.nbody - 1
    size += 10 * bodies * cinert + 6 * bodies * cvel
    size += (mj_model.nv - 6) * qfrc + 6 * bodies * cfrc
    return size


def humanoid_observation(data: Any, flags: tuple[bool, ...]) -> Array:
    """`[qpos, qvel, cinert[1:], cvel[1:], qfrc_actuator[6:], cfrc_ext[1:]]`
    with the optional parts selected by `flags` (as in `humanoid_observation_size`)."""
    exclude, cinert, cvel, qfrc, cfrc = flags
    parts = [data.qpos[2:] if exclude else data.qpos, data.qvel]
    if cinert:
        parts.append(data._impl.cinert[1:].ravel())
    if cvel:
        parts.append(data.cvel[1:].ravel())
    if qfrc:
        parts.append(data.qfrc_actuator[6:])
    if cfrc:
        parts.append(data._impl.cfrc_ext[1:].ravel())
    return jnp.concatenate(parts)


def mass_center(body_mass: Array, xipos: Array) -> Array:
    """The x-y position of the centre of mass (Gymnasium's `mass_center`)."""
    return (jnp.sum(body_mass[:, None] * xipos, axis=0) / jnp.sum(body_mass))[:2]
