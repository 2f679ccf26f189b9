"""Run by `test_sharding.py` in a fresh process with two CPU devices (XLA's
device count is fixed when JAX starts). Its argument: a folder for the
checkpoints it writes."""

import os
import sys
from pathlib import Path

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
)

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import lerax.env  # noqa: E402
from lerax.algorithm import (  # noqa: E402
    DQN,
    PPO,
    env_mesh,
    seed_mesh,
    shard_seeds,
    shard_training_state,
)
from lerax.callback import (  # noqa: E402
    AbstractLoggingBackend,
    CheckpointCallback,
    EvalCallback,
    LoggingCallback,
    ProgressBarCallback,
)
from lerax.policy import MLPActorCriticPolicy, MLPQPolicy  # noqa: E402


def arrays(tree):
    return jax.tree.leaves(eqx.filter(tree, eqx.is_array))


def numpy(x):
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jr.key_data(x)
    return np.asarray(x)


def assert_equal(a, b, what, tolerance=0.0):
    for x, y in zip(arrays(a), arrays(b), strict=True):
        np.testing.assert_allclose(
            numpy(x), numpy(y), rtol=tolerance, atol=tolerance, err_msg=what
        )


assert len(jax.devices()) == 2, jax.devices()
mesh = env_mesh()
env = lerax.env.make("CartPole-v1")

ppo = PPO(num_envs=4, num_steps=32, num_epochs=2, num_batches=2)
policy = MLPActorCriticPolicy(env, key=jr.key(0))


# learn(mesh=...) gives the policy of a one-device run. With callbacks,
# whose host calls cannot be JAX-ordered over several devices: each still
# reports once per due iteration, in order, the same
class Recorder(AbstractLoggingBackend):
    def __init__(self):
        self.scalars, self.name = [], None

    @property
    def is_open(self):
        return self.name is not None

    def open(self, name):
        self.name = name

    def log_hparams(self, hparams):
        pass

    def log_scalars(self, scalars, step):
        self.scalars.append((int(step), dict(scalars)))

    def log_video(self, tag, frames, step, fps):
        pass

    def flush(self):
        pass

    def close(self):
        self.name = None


# (checkpoints too: one program for both checks, see below)
folders = [Path(sys.argv[1]) / name for name in ("plain", "sharded", "resumed")]
for folder in folders:
    folder.mkdir()


def train_with_callbacks(folder, **kwargs):
    recorder = Recorder()
    callbacks = [
        ProgressBarCallback(),
        LoggingCallback(recorder, log_interval=1),
        EvalCallback(
            env, eval_freq=256, num_episodes=2, max_steps=50, backend=recorder
        ),
        CheckpointCallback(str(folder), save_freq=256, keep=5),
    ]
    policy_out = ppo.learn(
        env, policy, 512, key=jr.key(1), callback=callbacks, **kwargs
    )
    return policy_out, recorder.scalars


plain, plain_logs = train_with_callbacks(folders[0])
sharded, sharded_logs = train_with_callbacks(folders[1], mesh=mesh)
assert_equal(sharded, plain, "PPO learn(mesh=..., callback=...)")


# each callback's reports in order; two callbacks' reports of one iteration
# may interleave differently (their host calls are not JAX-ordered)
def by_source(logs):
    sources = {}
    for step, values in logs:
        sources.setdefault(min(values)[:4], []).append((step, values))
    return sources


assert (
    by_source(plain_logs).keys() == by_source(sharded_logs).keys() == {"epis", "eval"}
)
for source, logs in by_source(plain_logs).items():
    theirs = logs
    ours = by_source(sharded_logs)[source]
    assert [step for step, _ in ours] == [step for step, _ in theirs]
    assert [step for step, _ in ours] == (
        [128, 256, 384, 512] if source == "epis" else [256, 512]
    )
    for (_, mine), (_, other) in zip(ours, theirs):
        assert set(mine) == set(other)
        for name in mine:
            assert name.startswith("time/") or np.isclose(
                mine[name], other[name], rtol=1e-4, atol=1e-6
            ), (name, mine[name], other[name])

# checkpoints gather the envs from both devices: the same files, and a
# one-device checkpoint resumes on two devices to the uninterrupted result
names = sorted(path.name for path in folders[0].iterdir())
assert names == sorted(path.name for path in folders[1].iterdir()) and len(names) == 2
for name in names:
    assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
resumed, resumed_logs = train_with_callbacks(
    folders[2], mesh=mesh, resume_from=str(folders[0] / names[0])
)
assert_equal(resumed, plain, "resumed on two devices")
assert [step for step, _ in resumed_logs] == [
    step for step, _ in sharded_logs if step > 256
]

# seeds vmapped over a sharded run: each seed's envs split over the devices
# (the same up to float rounding: a few values differ in the last bit)
keys = jr.split(jr.key(4), 4)
learn_seeds = eqx.filter_jit(
    eqx.filter_vmap(lambda k: ppo.learn(env, policy, 256, key=k))
)
reference = learn_seeds(keys)  # one device; also the reference further down
many = eqx.filter_jit(
    eqx.filter_vmap(lambda k: ppo.learn(env, policy, 256, key=k, mesh=mesh))
)(keys)
assert_equal(many, reference, "vmapped seeds", tolerance=1e-6)

# seeds spread over the devices (`shard_seeds`): each device trains its own
# seeds with no communication; the results are the one-device ones up to float
# rounding (a vmap over 2 seeds per device instead of 4: a few last bits)
spread = shard_seeds(keys, seed_mesh())
compiled = learn_seeds.lower(spread).compile()
many = compiled(spread)
assert_equal(many, reference, "seeds spread over devices", tolerance=1e-6)
for leaf in arrays(many):
    assert leaf.sharding.spec == jax.sharding.PartitionSpec(("seeds",)), leaf.sharding
    assert [s.data.shape[0] for s in leaf.addressable_shards] == [2, 2]
text = compiled.compiled.as_text()
for collective in ("all-reduce", "all-gather", "all-to-all", "collective-permute"):
    assert collective not in text, f"seeds communicate: {collective}"
assert "f32[2,4]" in text, "not partitioned over seeds"

# learn(mesh=seed_mesh()) under a vmap over spread seeds: the envs are not
# split, and callbacks report once per iteration
recorder = Recorder()
logged = LoggingCallback(recorder, log_interval=1)
learn_logged = eqx.filter_jit(
    eqx.filter_vmap(
        lambda k: ppo.learn(env, policy, 256, key=k, callback=logged, mesh=seed_mesh())
    )
)
assert_equal(learn_logged(spread), many, "learn(mesh=seed_mesh())", tolerance=1e-6)
assert [step for step, _ in recorder.scalars] == [128, 256], recorder.scalars

# a vmapped training state spread over the devices and trained with
# callbacks (`train(mesh=seed_mesh())`): the same policies as `learn`, each
# callback reporting once per iteration, the seeds still two per device
init_seeds = eqx.filter_jit(eqx.filter_vmap(lambda k: ppo.init(env, policy, key=k)))
state_seeds = shard_seeds(init_seeds(keys), seed_mesh())
recorder = Recorder()
callbacks = [ProgressBarCallback(), LoggingCallback(recorder, log_interval=1)]
trained_seeds, _ = eqx.filter_jit(
    eqx.filter_vmap(lambda s: ppo.train(s, 2, callback=callbacks, mesh=seed_mesh()))
)(state_seeds)
assert_equal(trained_seeds.policy, many, "train(mesh=seed_mesh())", tolerance=1e-6)
assert [step for step, _ in recorder.scalars] == [128, 256], recorder.scalars
for leaf in arrays(trained_seeds.actors):
    assert [s.data.shape[0] for s in leaf.addressable_shards] == [2, 2]

# without `mesh=`, the vmapped program cannot see its devices: a clear error
try:
    eqx.filter_vmap(lambda s: ppo.train(s, 1, callback=ProgressBarCallback()))(
        state_seeds
    )
except ValueError as error:
    assert "pass them as `mesh=`" in str(error), str(error)
else:
    raise AssertionError("callbacks over unseen devices were accepted")

# bad input: the seeds must divide evenly and lead every array
for tree, message in [
    (jr.split(jr.key(0), 3), "3 seeds cannot be split evenly over the 2 devices"),
    ((keys, jnp.zeros(())), "one is a scalar"),
    ((keys, jnp.zeros(2)), "sizes [2, 4]"),
]:
    try:
        shard_seeds(tree, seed_mesh())
    except ValueError as error:
        assert message in str(error), str(error)
    else:
        raise AssertionError(f"shard_seeds accepted {tree}")

# init/train: the envs stay split over the two devices, two per device, and
# the compiled iteration is partitioned (collectives between the devices)
state = shard_training_state(ppo.init(env, policy, key=jr.key(1)), mesh)
trained, _ = ppo.train(state, 3)
for leaf in arrays(trained.actors):
    assert leaf.sharding.spec == jax.sharding.PartitionSpec(("envs",)), leaf.sharding
    assert [s.data.shape[0] for s in leaf.addressable_shards] == [2, 2]
for leaf in arrays(trained.policy):
    assert leaf.sharding.is_fully_replicated, leaf.sharding
reference, _ = ppo.train(ppo.init(env, policy, key=jr.key(1)), 3)
assert_equal(trained, reference, "PPO train on a sharded state")
compiled = eqx.filter_jit(lambda s: ppo.train(s, 1)).lower(state).compile()
text = compiled.compiled.as_text()
assert "all-reduce" in text and "f32[2,4]" in text, "not partitioned over envs"

# off-policy: the replay buffer is replicated, the result the same
dqn = DQN(num_envs=2, buffer_size=1000, learning_starts=100, batch_size=32)
q_policy = MLPQPolicy(env, key=jr.key(0))
plain = dqn.learn(env, q_policy, 400, key=jr.key(2))
sharded = dqn.learn(env, q_policy, 400, key=jr.key(2), mesh=mesh)
assert_equal(sharded, plain, "DQN learn(mesh=...)")

# bad input: a clear error before compilation
try:
    algo = PPO(num_envs=3, num_steps=8, num_batches=3)
    algo.learn(env, policy, 24, key=jr.key(0), mesh=mesh)
except ValueError as error:
    assert "3 envs cannot be split evenly over the 2 devices" in str(error)
else:
    raise AssertionError("3 envs on 2 devices were accepted")
try:
    shard_training_state(state, jax.devices())
except TypeError as error:
    assert "jax.sharding.Mesh" in str(error)
else:
    raise AssertionError("a list of devices was accepted as a mesh")
print("sharded runs match", float(jnp.sum(arrays(trained.policy)[0])))
