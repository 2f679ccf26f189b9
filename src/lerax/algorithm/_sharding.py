"""Data-parallel training over several devices (and hosts) with JAX sharding.

Nothing here changes what is computed. The envs of a training state are split
over a device mesh (each device steps its share of `num_envs`) and everything
else (policy, critics, optimiser states, replay buffer, counters, keys) is
replicated. The same compiled program then runs partitioned by XLA: every
device collects its envs' experience, and whatever mixes envs (advantage
normalisation, minibatches, gradients, buffer writes) goes through the
collectives XLA inserts. A sharded run gives the same result as a run on one
device (tested bitwise on CPU devices).

On one host, `env_mesh()` spans every local device. On several hosts, start
each process with `jax.distributed.initialize()` first; `jax.devices()` and so
`env_mesh()` then span every host's devices, and `algo.learn(..., mesh=mesh)`
builds the sharded state inside the compiled program, the same on each host.
"""

from typing import Any, TypeVar

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

ENV_AXIS = "envs"

_State = TypeVar("_State")


def env_mesh(devices: Any = None) -> Mesh:
    """A one-axis device mesh (axis `"envs"`) to split envs over.

    Args:
        devices: The devices to use (default: `jax.devices()`, every device
            of every process).
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("`env_mesh(devices=...)` needs at least one device.")
    return Mesh(np.asarray(devices), (ENV_AXIS,))


def check_mesh(mesh: Any, num_envs: int) -> None:
    """Raises unless `mesh` is a `Mesh` whose size divides `num_envs`."""
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"`mesh` must be a `jax.sharding.Mesh` (e.g. `lerax.algorithm."
            f"env_mesh()`), got {type(mesh).__name__}."
        )
    if num_envs % mesh.size:
        raise ValueError(
            f"{num_envs} envs cannot be split evenly over the {mesh.size} devices "
            f"of the mesh; use a multiple of {mesh.size} for `num_envs` (or a mesh "
            "with fewer devices)."
        )


def _place(tree: Any, sharding: NamedSharding) -> Any:
    def place(x):
        if not eqx.is_array(x):
            return x
        if isinstance(x, jax.core.Tracer):
            return jax.lax.with_sharding_constraint(x, sharding)
        return jax.device_put(x, sharding)

    return jax.tree.map(place, tree)


def shard_training_state(state: _State, mesh: Mesh) -> _State:
    """Splits a training state's envs over `mesh`; replicates the rest.

    The leading (env) axis of every leaf of `state.actors` is split over all
    axes of `mesh`; every other array is replicated on all its devices.
    `algo.train` on the result runs data-parallel and keeps that placement.
    Works on a concrete state (moves it) and inside `jax.jit` (constrains
    it), where `algo.learn(..., mesh=mesh)` uses it.

    Args:
        state: A training state (from `init` or `train`).
        mesh: The devices, e.g. `env_mesh()`.

    Raises:
        TypeError: If `mesh` is not a `jax.sharding.Mesh`.
        ValueError: If the number of envs is not a multiple of the number of
            devices in `mesh`.
    """
    leaves = jax.tree.leaves(eqx.filter(state.actors, eqx.is_array))  # type: ignore[attr-defined]
    num_envs = leaves[0].shape[0]
    check_mesh(mesh, num_envs)
    split = NamedSharding(mesh, PartitionSpec(tuple(mesh.axis_names)))
    replicated = NamedSharding(mesh, PartitionSpec())
    actors = _place(state.actors, split)  # type: ignore[attr-defined]
    rest = _place(eqx.tree_at(lambda s: s.actors, state, None), replicated)
    return eqx.tree_at(lambda s: s.actors, rest, actors, is_leaf=lambda x: x is None)
