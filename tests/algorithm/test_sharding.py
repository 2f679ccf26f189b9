"""Data-parallel training over devices and hosts (`mesh=`, `shard_training_state`).

XLA's device count is fixed when JAX starts, so the multi-device checks run
in fresh processes: `sharded_run.py` with two CPU devices, and
`multihost_run.py` twice, as two hosts joined by `jax.distributed`."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import lerax.env
from lerax.algorithm import (
    PPO,
    env_mesh,
    seed_mesh,
    shard_seeds,
    shard_training_state,
)
from lerax.policy import MLPActorCriticPolicy

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"


def python(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


@pytest.mark.slow(50)
def test_two_devices_train_the_same_policy_as_one(tmp_path):
    # PPO and DQN, `learn(mesh=...)` and `train` on a sharded state: bitwise
    # the one-device result, envs split two per device, collectives in the
    # compiled program; callbacks report as on one device; checkpoints are
    # the same files and resume; vmapped seeds, their envs split or the seeds
    # themselves spread over the devices (`shard_seeds`, no collectives);
    # bad input (sharded_run.py)
    process = python("sharded_run.py", str(tmp_path))
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    assert "sharded runs match" in output


@pytest.mark.slow(20)
def test_two_hosts_train_the_same_policy_as_one():
    with socket.socket() as probe:  # a free port for the coordinator
        probe.bind(("localhost", 0))
        port = str(probe.getsockname()[1])
    hosts = [python("multihost_run.py", port, str(rank)) for rank in (0, 1)]
    try:
        outputs = [host.communicate(timeout=300)[0] for host in hosts]
    finally:
        for host in hosts:
            if host.poll() is None:
                host.kill()
    for rank, (host, output) in enumerate(zip(hosts, outputs)):
        assert host.returncode == 0, output
        assert f"process {rank}: two-host run matches" in output


def test_bad_meshes_are_refused_before_compiling():
    env = lerax.env.make("CartPole-v1")
    algo = PPO(num_envs=2, num_steps=8, num_batches=2)
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    with pytest.raises(TypeError, match=r"must be a `jax.sharding.Mesh`"):
        algo.learn(env, policy, 16, key=jr.key(0), mesh=jax.devices())
    with pytest.raises(ValueError, match="at least one device"):
        env_mesh([])
    state = algo.init(env, policy, key=jr.key(0))
    with pytest.raises(TypeError, match=r"got list"):
        shard_training_state(state, jax.devices())
    # a device listed twice: JAX builds the mesh and fails only once the
    # trained results are put together, after compiling and training
    twice = [jax.devices()[0]] * 2
    for make in (env_mesh, seed_mesh):
        with pytest.raises(ValueError, match=r"more than once \(device ids \[0, 0\]\)"):
            make(twice)
    for axis in ("envs", "seeds"):
        mesh = jax.sharding.Mesh(np.asarray(twice), (axis,))
        with pytest.raises(ValueError, match="more than once"):
            algo.learn(env, policy, 16, key=jr.key(0), mesh=mesh)
    with pytest.raises(ValueError, match="more than once"):
        shard_seeds(
            jr.split(jr.key(0), 2), jax.sharding.Mesh(np.asarray(twice), ("seeds",))
        )


def test_one_device_mesh_places_the_state_on_it():
    env = lerax.env.make("CartPole-v1")
    algo = PPO(num_envs=2, num_steps=8, num_batches=2)
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    state = shard_training_state(algo.init(env, policy, key=jr.key(0)), env_mesh())
    leaf = jax.tree.leaves(state.actors.observation)[0]
    assert leaf.sharding.mesh.axis_names == ("envs",)
    assert leaf.sharding.spec == jax.sharding.PartitionSpec(("envs",))


def test_seed_meshes_spread_seeds_and_refuse_what_they_cannot():
    env = lerax.env.make("CartPole-v1")
    algo = PPO(num_envs=2, num_steps=8, num_batches=2)
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    keys = shard_seeds(jr.split(jr.key(0), 3), seed_mesh())
    assert keys.sharding.spec == jax.sharding.PartitionSpec(("seeds",))
    learn = eqx.filter_jit(
        eqx.filter_vmap(lambda k: algo.learn(env, policy, 16, key=k, mesh=seed_mesh()))
    )
    reference = eqx.filter_jit(
        eqx.filter_vmap(lambda k: algo.learn(env, policy, 16, key=k))
    )
    ours, theirs = (eqx.filter(f(keys), eqx.is_array) for f in (learn, reference))
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match=r"seed_mesh\(\)`\), got list"):
        shard_seeds(keys, jax.devices())
    with pytest.raises(ValueError, match="one is a scalar"):
        shard_seeds({"keys": keys, "lr": jnp.float32(3e-4)}, seed_mesh())
    with pytest.raises(ValueError, match=r"sizes \[2, 3\]"):
        shard_seeds({"keys": keys, "lr": jnp.zeros(2)}, seed_mesh())
    state = algo.init(env, policy, key=jr.key(0))
    with pytest.raises(ValueError, match="with `shard_seeds"):
        shard_training_state(state, seed_mesh())
    both = jax.sharding.Mesh(np.asarray(jax.devices()).reshape(1, 1), ("seeds", "envs"))
    with pytest.raises(ValueError, match="not both"):
        algo.learn(env, policy, 16, key=jr.key(0), mesh=both)
