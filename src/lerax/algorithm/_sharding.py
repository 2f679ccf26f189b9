"""Data-parallel training over several devices (and hosts) with JAX sharding.

Nothing here changes what is computed. The envs of a training state are split
over a device mesh (each device steps its share of `num_envs`) and everything
else (policy, critics, optimiser states, replay buffer, counters, keys) is
replicated. The same compiled program then runs partitioned by XLA: every
device collects its envs' experience, and whatever mixes envs (advantage
normalisation, minibatches, gradients, buffer writes) goes through the
collectives XLA inserts. A sharded run gives the same result as a run on one
device: bitwise for PPO and DQN with MLP policies on two CPU devices (tested);
where a reduction over the envs is summed in another order (e.g. a recurrent
policy behind `NormalizeObservation`), to float rounding (~1e-8).

On one host, `env_mesh()` spans every local device. On several hosts, start
each process with `jax.distributed.initialize()` first; `jax.devices()` and so
`env_mesh()` then span every host's devices, and `algo.learn(..., mesh=mesh)`
builds the sharded state inside the compiled program, the same on each host.

Seeds (and swept hyper-parameters) trained together with `jax.vmap` can
instead be spread over the devices with `shard_seeds`: each device then trains
its own seeds, with no communication at all. On a CPU-only machine, make one
CPU device per core first (`jax.config.update("jax_num_cpu_devices", n)` right
after `import jax`); the seeds then train on all the cores.
"""

from typing import Any, TypeVar

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

ENV_AXIS = "envs"
SEED_AXIS = "seeds"

_State = TypeVar("_State")


def env_mesh(devices: Any = None) -> Mesh:
    """A one-axis device mesh (axis `"envs"`) to split envs over.

    Args:
        devices: The devices to use (default: `jax.devices()`, every device
            of every process), each once.

    Raises:
        ValueError: If `devices` is empty or lists a device twice.
    """
    return _mesh(devices, ENV_AXIS, "env_mesh")


def seed_mesh(devices: Any = None) -> Mesh:
    """A one-axis device mesh (axis `"seeds"`) to spread seeds over.

    Args:
        devices: The devices to use (default: `jax.devices()`, every device
            of every process), each once.

    Raises:
        ValueError: If `devices` is empty or lists a device twice.
    """
    return _mesh(devices, SEED_AXIS, "seed_mesh")


def _mesh(devices: Any, axis: str, name: str) -> Mesh:
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError(f"`{name}(devices=...)` needs at least one device.")
    mesh = Mesh(np.asarray(devices), (axis,))
    _check_distinct(mesh, f"`{name}(devices=...)`")
    return mesh


def _check_distinct(mesh: Mesh, what: str) -> None:
    # JAX builds such a mesh; a run on it fails later, inside JAX, with an
    # error that does not name the mesh
    ids = [device.id for device in mesh.devices.flat]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"{what} lists a device more than once (device ids {ids}); give "
            "each device once, e.g. `jax.devices()[:n]`."
        )


def check_mesh(mesh: Any, num_envs: int) -> None:
    """Raises unless `mesh` is a seed mesh or a `Mesh` whose size divides
    `num_envs`."""
    if isinstance(mesh, Mesh) and SEED_AXIS in mesh.axis_names:
        if tuple(mesh.axis_names) != (SEED_AXIS,):
            raise ValueError(
                f"A mesh with a {SEED_AXIS!r} axis spreads seeds and must have no "
                f"other axis, got axes {tuple(mesh.axis_names)}; spread seeds "
                "(`seed_mesh()`) or split envs (`env_mesh()`), not both."
            )
        _check_distinct(mesh, "The mesh")
        return
    _check_split(mesh, num_envs, "envs", "`num_envs`", "env_mesh")


def splits_envs(mesh: Mesh | None) -> bool:
    """Whether training on `mesh` splits the envs (False: no mesh, or a seed
    mesh, whose seeds the caller spreads with `shard_seeds`)."""
    return mesh is not None and SEED_AXIS not in mesh.axis_names


def reporting_device(mesh: Mesh | None) -> Any:
    """The device callbacks report from on `mesh` (None: one device)."""
    return None if mesh is None or mesh.size == 1 else mesh.devices.flat[0]


def _check_split(mesh: Any, count: int, what: str, knob: str, maker: str) -> None:
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"`mesh` must be a `jax.sharding.Mesh` (e.g. `lerax.algorithm."
            f"{maker}()`), got {type(mesh).__name__}."
        )
    _check_distinct(mesh, "The mesh")
    if count % mesh.size:
        raise ValueError(
            f"{count} {what} cannot be split evenly over the {mesh.size} devices "
            f"of the mesh; use a multiple of {mesh.size} for {knob} (or a mesh "
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
            devices in `mesh`, or `mesh` lists a device twice.
    """
    leaves = jax.tree.leaves(eqx.filter(state.actors, eqx.is_array))  # type: ignore[attr-defined]
    num_envs = leaves[0].shape[0]
    check_mesh(mesh, num_envs)
    if not splits_envs(mesh):
        raise ValueError(
            "`shard_training_state` splits envs, but this is a seed mesh; spread "
            "a vmapped state's seeds with `shard_seeds(state, mesh)` instead."
        )
    split = NamedSharding(mesh, PartitionSpec(tuple(mesh.axis_names)))
    replicated = NamedSharding(mesh, PartitionSpec())
    actors = _place(state.actors, split)  # type: ignore[attr-defined]
    rest = _place(eqx.tree_at(lambda s: s.actors, state, None), replicated)
    return eqx.tree_at(lambda s: s.actors, rest, actors, is_leaf=lambda x: x is None)


def shard_seeds(tree: _State, mesh: Mesh) -> _State:
    """Spreads a batch of seeds over the devices of `mesh`.

    Every array in `tree` has the seed axis first, as `jax.vmap` takes it:
    keys from `jr.split(key, n)`, arrays of swept hyper-parameters, or a
    vmapped training state. That axis is split over all axes of `mesh`, so
    `eqx.filter_jit(eqx.filter_vmap(...))` (or `jax.jit(jax.vmap(...))`) of
    the result trains each device's seeds there, independently (no
    collectives), and keeps them there. The results are those of the same
    `vmap` on one device, up to float rounding (a device computes a smaller
    batch of seeds). Works on concrete arrays (moves them) and inside
    `jax.jit` (constrains them), outside the `vmap`.

    Example:
        ```python
        keys = shard_seeds(jr.split(jr.key(0), 8), seed_mesh())
        learn = lambda k: algo.learn(env, policy, T, key=k, mesh=seed_mesh())
        policies = eqx.filter_jit(eqx.filter_vmap(learn))(keys)
        ```

    Args:
        tree: Arrays (any PyTree) with a leading seed axis of one size.
        mesh: The devices, e.g. `seed_mesh()`.

    Raises:
        TypeError: If `mesh` is not a `jax.sharding.Mesh`.
        ValueError: If an array has no leading axis, the leading sizes
            differ, the number of seeds is not a multiple of the number
            of devices in `mesh`, or `mesh` lists a device twice.
    """
    leaves = jax.tree.leaves(eqx.filter(tree, eqx.is_array))
    sizes = {leaf.shape[0] if leaf.ndim else None for leaf in leaves}
    if None in sizes:
        raise ValueError(
            "`shard_seeds` needs the seed axis first in every array, but one is "
            "a scalar; pass only what `jax.vmap` maps over."
        )
    if len(sizes) > 1:
        raise ValueError(
            f"`shard_seeds` needs one number of seeds, but the arrays' leading "
            f"axes have sizes {sorted(sizes)}."
        )
    if not sizes:
        return tree
    _check_split(mesh, sizes.pop(), "seeds", "the number of seeds", "seed_mesh")
    return _place(tree, NamedSharding(mesh, PartitionSpec(tuple(mesh.axis_names))))
