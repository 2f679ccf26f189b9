"""Run by `test_sharding.py` as two processes on this machine, each with one
CPU device, joined by `jax.distributed` (gloo collectives): a two-host run.

Usage: multihost_run.py PORT PROCESS_ID
"""

import sys

import jax

port, process_id = sys.argv[1], int(sys.argv[2])
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(
    coordinator_address=f"localhost:{port}", num_processes=2, process_id=process_id
)

import equinox as eqx  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import lerax.env  # noqa: E402
from lerax.algorithm import PPO, env_mesh  # noqa: E402
from lerax.policy import MLPActorCriticPolicy  # noqa: E402

assert jax.process_count() == 2 and len(jax.devices()) == 2, jax.devices()
assert len(jax.local_devices()) == 1
env = lerax.env.make("CartPole-v1")
ppo = PPO(num_envs=4, num_steps=32, num_epochs=2, num_batches=2)
policy = MLPActorCriticPolicy(env, key=jr.key(0))
# two envs on each host's device, the policy replicated on both hosts
sharded = ppo.learn(env, policy, 512, key=jr.key(1), mesh=env_mesh())
local = ppo.learn(env, policy, 512, key=jr.key(1))  # this host alone
for x, y in zip(
    jax.tree.leaves(eqx.filter(sharded, eqx.is_array)),
    jax.tree.leaves(eqx.filter(local, eqx.is_array)),
    strict=True,
):
    assert x.sharding.is_fully_replicated and len(x.sharding.device_set) == 2
    np.testing.assert_array_equal(np.asarray(x.addressable_data(0)), np.asarray(y))
print(f"process {process_id}: two-host run matches", flush=True)
jax.distributed.shutdown()
