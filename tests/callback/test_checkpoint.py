"""Checkpoints: exact resume (also after SIGKILL), corruption and mismatch errors."""

import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import lerax.env
from lerax.algorithm import DQN, PPO
from lerax.callback import (
    CheckpointCallback,
    CheckpointError,
    EvalCallback,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from lerax.policy import MLPActorCriticPolicy, MLPQPolicy
from lerax.wrapper import NormalizeObservation

ALGO = PPO(num_envs=2, num_steps=32, num_batches=2, num_epochs=2)
TOTAL = ALGO.steps_per_iteration * 12
ROOT = Path(__file__).resolve().parents[2]


def setup(width=64):
    env = NormalizeObservation(lerax.env.make("CartPole-v1"))
    return env, MLPActorCriticPolicy(
        env, action_width=width, value_width=width, key=jr.key(0)
    )


def identical(a, b):
    a, b = eqx.filter(a, eqx.is_array), eqx.filter(b, eqx.is_array)
    same = jax.tree.map(lambda x, y: bool(jnp.array_equal(x, y)), a, b)
    return jax.tree.structure(a) == jax.tree.structure(b) and all(jax.tree.leaves(same))


@pytest.mark.slow(14)
def test_resume_after_sigkill_is_bitwise_identical(tmp_path):
    directory = tmp_path / "checkpoints"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.callback.checkpoint_run", str(directory)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = process.stdout
    try:
        deadline = time.monotonic() + 240
        while len(list_checkpoints(directory)) < 2:
            assert process.poll() is None, output.read().decode()
            assert time.monotonic() < deadline, "no checkpoint written in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        output.close()
    assert process.returncode == -signal.SIGKILL
    latest = list_checkpoints(directory)[-1]
    done = read_header(latest)["iteration"]
    assert 2 <= done < TOTAL // ALGO.steps_per_iteration  # killed part-way

    env, policy = setup()
    callback = CheckpointCallback(
        str(directory), save_freq=ALGO.steps_per_iteration, keep=2
    )
    resumed = ALGO.learn(
        env, policy, TOTAL, key=jr.key(7), callback=callback, resume_from=directory
    )
    uninterrupted = ALGO.learn(env, policy, TOTAL, key=jr.key(7))
    assert identical(resumed, uninterrupted)
    assert len(list_checkpoints(directory)) == 2  # keep=2


def test_checkpoints_hold_the_state_after_every_callback(tmp_path):
    # evaluations (which stop the run here) and logs of the checkpoint's own
    # iteration are in the checkpoint: the resumed run is the uninterrupted one
    env, policy = setup()
    spi = ALGO.steps_per_iteration
    evaluation = EvalCallback(
        env, eval_freq=2 * spi, num_episodes=2, stop_at_return=5.0
    )
    callbacks = [
        evaluation,
        CheckpointCallback(str(tmp_path), save_freq=2 * spi, keep=None),
    ]
    full = ALGO.init(
        env, policy, key=jr.key(1), total_timesteps=TOTAL, callback=callbacks
    )
    full, _ = ALGO.train(full, 6, callback=callbacks)
    assert bool(full.stopped)  # stopped by the evaluation at iteration 2
    first = list_checkpoints(tmp_path)[0]
    assert read_header(first)["iteration"] == 2
    like = eqx.filter_eval_shape(lambda: full)
    loaded = load_checkpoint(first, like)
    assert bool(loaded.stopped)
    assert identical(loaded.callback_state, full.callback_state)
    resumed, _ = ALGO.train(loaded, 4, callback=callbacks)
    assert identical(resumed, full)


def test_resuming_with_other_hyper_parameters_is_refused(tmp_path):
    env, policy = setup()
    callback = CheckpointCallback(str(tmp_path), save_freq=ALGO.steps_per_iteration)
    total = 2 * ALGO.steps_per_iteration
    ALGO.learn(env, policy, total, key=jr.key(0), callback=callback)
    header = read_header(latest_checkpoint(tmp_path))
    assert header["algorithm"]["class"] == "PPO"
    other = dataclasses.replace(ALGO, learning_rate=1e-3)
    with pytest.raises(
        CheckpointError,
        match=f"`learning_rate` was {ALGO.learning_rate} there and is 0.001 here",
    ):
        other.learn(env, policy, total, key=jr.key(0), resume_from=tmp_path)
    ALGO.learn(env, policy, total, key=jr.key(0), resume_from=tmp_path)  # the same
    # a schedule is compared by the values it captured, not only its name
    spi = ALGO.steps_per_iteration

    def scheduled(start):
        schedule = optax.linear_schedule(start, 0.0, 10)
        return dataclasses.replace(ALGO, learning_rate=schedule)

    folder = tmp_path / "scheduled"
    callback = CheckpointCallback(str(folder), save_freq=spi)
    scheduled(1e-3).learn(env, policy, total, key=jr.key(0), callback=callback)
    with pytest.raises(
        CheckpointError,
        match=r"`learning_rate:init_value` was 0\.001 there and is 5\.0 here",
    ):
        scheduled(5.0).learn(env, policy, total, key=jr.key(0), resume_from=folder)
    scheduled(1e-3).learn(env, policy, total, key=jr.key(0), resume_from=folder)

    # a hyper-parameter given as an array is compared by value (it was
    # recorded by shape only: any other learning rate of that shape resumed)
    folder = tmp_path / "array"
    callback = CheckpointCallback(str(folder), save_freq=spi)
    as_array = dataclasses.replace(ALGO, learning_rate=jnp.float32(1e-3))
    as_array.learn(env, policy, total, key=jr.key(0), callback=callback)
    other = dataclasses.replace(ALGO, learning_rate=jnp.float32(5e-4))
    with pytest.raises(
        CheckpointError,
        match=r"`learning_rate` was 0\.001 \(float32\[\]\) there and is 0\.0005 ",
    ):
        other.learn(env, policy, total, key=jr.key(0), resume_from=folder)
    as_array.learn(env, policy, total, key=jr.key(0), resume_from=folder)


def test_full_state_round_trip_with_replay_buffer(tmp_path, getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, key=getkey())
    algo = DQN(num_envs=2, num_steps=4, learning_starts=16, batch_size=8)
    state, _ = algo.train(algo.init(env, policy, key=getkey(), total_timesteps=72), 6)
    path = save_checkpoint(tmp_path / "dqn", state)
    assert path.suffix == ".ckpt"
    like = eqx.filter_eval_shape(
        algo.init, env, policy, key=getkey(), total_timesteps=72
    )
    loaded = load_checkpoint(path, like)
    assert identical(loaded, state)
    continued, _ = algo.train(state, 3)
    assert identical(algo.train(loaded, 3)[0], continued)


def test_checkpoint_without_buffer(tmp_path, getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPQPolicy(env, key=getkey())
    algo = DQN(num_envs=1, num_steps=4, learning_starts=8, batch_size=8)
    state, _ = algo.train(algo.init(env, policy, key=getkey(), total_timesteps=16), 4)
    full = save_checkpoint(tmp_path / "full", state)
    small = save_checkpoint(tmp_path / "small", state, include_buffer=False)
    assert small.stat().st_size < full.stat().st_size
    fresh = algo.init(env, policy, key=getkey(), total_timesteps=16)
    like = eqx.filter_eval_shape(lambda: fresh)
    with pytest.raises(CheckpointError, match="no replay buffer"):
        load_checkpoint(small, like)
    loaded = load_checkpoint(small, like, fill=fresh)
    assert identical(loaded.policy, state.policy)
    assert int(loaded.buffer.size) == 0
    # resumed without its buffer, training refills it to `learning_starts`
    # (8 transitions: two iterations) before the next gradient step
    once, metrics = algo.train(loaded, 1)
    assert identical(once.learner.policy, state.learner.policy)
    assert np.isnan(metrics["loss"]).all()
    twice, metrics = algo.train(once, 1)
    assert int(twice.buffer.size) == 8
    assert not identical(twice.learner.policy, state.learner.policy)
    assert np.isfinite(metrics["loss"]).all()


@pytest.fixture
def checkpoint(tmp_path):
    env, policy = setup()
    state = ALGO.init(env, policy, key=jr.key(0))
    return save_checkpoint(tmp_path / "state.ckpt", state, algorithm=ALGO), state


def test_corrupted_checkpoints_raise(checkpoint):
    path, state = checkpoint
    like = eqx.filter_eval_shape(lambda: state)
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(path, like)
    path.write_bytes(bytes(blob[: len(blob) // 2]))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(path, like)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a lerax checkpoint"):
        load_checkpoint(path, like)
    header = b"[1, 2]"  # valid JSON, but not a header record
    magic = _magic()
    path.write_bytes(magic + len(header).to_bytes(8, "little") + header)
    with pytest.raises(CheckpointError, match="header is not a record"):
        load_checkpoint(path, like)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(path.with_name("missing.ckpt"), like)


def test_mismatched_checkpoint_names_the_difference(checkpoint):
    path, _ = checkpoint
    env, policy = setup(width=32)
    like = eqx.filter_eval_shape(ALGO.init, env, policy, key=jr.key(0))
    with pytest.raises(CheckpointError, match=r"does not match this run.*actor"):
        load_checkpoint(path, like)
    other = PPO(num_envs=4, num_steps=32, num_batches=2, num_epochs=2)
    env, policy = setup()
    with pytest.raises(
        CheckpointError,
        match="other hyper-parameters: `num_envs` was 2 there and is 4 here",
    ):
        other.learn(env, policy, 4 * 32 * 2, key=jr.key(0), resume_from=path)


def test_records_from_before_captured_values_still_resume(checkpoint, tmp_path):
    # checkpoints written before records held what a schedule captures name
    # it only: they resume under a schedule of that name, not another rate
    from lerax.callback._checkpoint import check_algorithm
    from lerax.utils import describe

    _, state = checkpoint
    algo = dataclasses.replace(ALGO, learning_rate=optax.linear_schedule(1e-3, 0, 10))
    record = {"class": "PPO", "structure": describe(algo)}
    path = save_checkpoint(tmp_path / "old.ckpt", state, algorithm=record)
    check_algorithm(path, algo)
    with pytest.raises(CheckpointError, match="`learning_rate` was"):
        check_algorithm(path, ALGO)


def test_failed_write_keeps_the_previous_file(checkpoint, monkeypatch):
    path, state = checkpoint
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(eqx, "tree_serialise_leaves", broken)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, state)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def _magic() -> bytes:
    from lerax.callback._checkpoint import MAGIC

    return MAGIC


def test_vmapped_runs_are_refused_while_tracing(tmp_path):
    # a checkpoint holds one training state: seeds under `vmap` (even through
    # the algorithm's own nested `jit`s) are refused before compiling
    env, policy = setup()
    callback = CheckpointCallback(str(tmp_path), save_freq=64)
    learn = lambda key: ALGO.learn(env, policy, 256, key=key, callback=callback)
    with pytest.raises(ValueError, match="cannot checkpoint a run `vmap`-ed"):
        eqx.filter_eval_shape(eqx.filter_vmap(learn), jr.split(jr.key(0), 2))
    assert not any(tmp_path.iterdir())
    eqx.filter_eval_shape(learn, jr.key(0))  # one seed traces


def test_bad_arguments():
    with pytest.raises(ValueError, match="save_freq"):
        CheckpointCallback("dir", save_freq=0)
    with pytest.raises(ValueError, match="keep"):
        CheckpointCallback("dir", save_freq=10, keep=0)
    with pytest.raises(ValueError, match="keep"):
        CheckpointCallback("dir", save_freq=10, keep=True)


def test_a_directory_that_is_a_file_is_refused_before_training(tmp_path):
    # found when the first checkpoint was due: a JAX runtime error mid-run
    (tmp_path / "file").write_text("")
    for directory in (tmp_path / "file", tmp_path / "file" / "sub"):
        with pytest.raises(ValueError, match="is a file; choose another"):
            CheckpointCallback(str(directory), save_freq=10)


def test_resuming_on_another_env_or_policy_is_refused(checkpoint):
    # only array shapes were compared: a run resumed silently on an env with
    # other constants, or with a policy of another activation
    path, _ = checkpoint
    header = read_header(path)
    assert {"env", "policy"} <= set(header)
    budget = 4 * ALGO.steps_per_iteration
    heavier = NormalizeObservation(lerax.env.make("CartPole-v1", gravity=20.0))
    _, policy = setup()
    with pytest.raises(
        CheckpointError, match=r"another env: `env\..*gravity` was 9\.8"
    ):
        ALGO.learn(heavier, policy, budget, key=jr.key(0), resume_from=path)
    env, _ = setup()
    relu = MLPActorCriticPolicy(env, activation=jax.nn.relu, key=jr.key(0))
    with pytest.raises(CheckpointError, match=r"another policy: `policy\..*activation"):
        ALGO.learn(env, relu, budget, key=jr.key(0), resume_from=path)
    ALGO.learn(env, setup()[1], budget, key=jr.key(0), resume_from=path)  # the same


def test_a_checkpoint_without_an_algorithm_record_warns(tmp_path):
    env, policy = setup()
    state = ALGO.init(env, policy, key=jr.key(0))
    path = save_checkpoint(tmp_path / "bare", state)
    budget = 2 * ALGO.steps_per_iteration
    with pytest.warns(UserWarning, match="cannot be checked.*algorithm="):
        ALGO.learn(env, policy, budget, key=jr.key(0), resume_from=path)


def test_checkpoint_folders_of_one_run_only(tmp_path):
    env, policy = setup()
    budget = 4 * ALGO.steps_per_iteration
    # a custom prefix: the folder resumes (it looked for "checkpoint_*" only)
    run = CheckpointCallback(str(tmp_path / "a"), save_freq=64, prefix="run")
    ALGO.learn(env, policy, budget, key=jr.key(0), callback=run)
    ALGO.learn(
        env, policy, 2 * budget, key=jr.key(0), callback=run, resume_from=run.directory
    )
    # a fresh run into a folder holding another run's checkpoints is refused
    # (keeping the newest `keep` deleted this run's files or kept the other's)
    for fresh in (
        lambda: ALGO.learn(env, policy, budget, key=jr.key(1), callback=run),
        lambda: ALGO.train(
            ALGO.init(env, policy, key=jr.key(1), callback=run), 1, callback=run
        ),
    ):
        with pytest.raises(
            CheckpointError, match="holds checkpoints of an earlier run"
        ):
            fresh()
    # two prefixes in one folder: the file must be named
    save_checkpoint(
        tmp_path / "a" / "other_000000000064.ckpt",
        ALGO.init(env, policy, key=jr.key(2)),
        algorithm=ALGO,
    )
    with pytest.raises(FileNotFoundError, match="several runs.*'other', 'run'"):
        ALGO.learn(env, policy, budget, key=jr.key(0), resume_from=tmp_path / "a")
    with pytest.raises(ValueError, match="prefix=.*path separators"):
        CheckpointCallback(str(tmp_path), save_freq=64, prefix="sub/run")


def test_a_name_without_its_suffix_finds_the_checkpoint(checkpoint, tmp_path):
    # `save_checkpoint("x")` writes `x.ckpt`; loading "x" did not find it
    _, state = checkpoint
    written = save_checkpoint(tmp_path / "run", state, algorithm=ALGO)
    assert written.name == "run.ckpt"
    like = eqx.filter_eval_shape(lambda: state)
    assert identical(load_checkpoint(tmp_path / "run", like), state)
    assert read_header(str(tmp_path / "run"))["iteration"] == 0
    env, policy = setup()
    budget = 2 * ALGO.steps_per_iteration
    ALGO.learn(env, policy, budget, key=jr.key(0), resume_from=tmp_path / "run")
    missing = tmp_path / "nothing"
    with pytest.raises(FileNotFoundError) as info:
        load_checkpoint(missing, like)
    assert repr(str(missing)) in str(info.value)
    assert repr(str(missing) + ".ckpt") in str(info.value)


def test_an_unwritable_directory_is_refused_before_training(tmp_path, monkeypatch):
    # found when the first checkpoint was due: a JAX runtime error mid-run
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, **kw: (
            False if str(path).startswith(str(locked)) else access(path, mode, **kw)
        ),
    )
    for directory in (locked, locked / "runs" / "a"):
        with pytest.raises(PermissionError) as info:
            CheckpointCallback(str(directory), save_freq=10)
        assert repr(str(locked)) in str(info.value)
        assert "Choose a directory you can write to" in str(info.value)
    CheckpointCallback(str(tmp_path / "free"), save_freq=10)


def test_a_checkpoint_of_another_precision_names_jax_enable_x64(checkpoint):
    path, _ = checkpoint
    env, policy = setup()
    with jax.enable_x64(True):
        like = eqx.filter_eval_shape(ALGO.init, env, policy, key=jr.key(0))
    with pytest.raises(
        CheckpointError,
        match="written with `jax_enable_x64` off, and this run has it on",
    ):
        load_checkpoint(path, like)
    from lerax.callback._checkpoint import _mismatch

    found = [[".a", [2], "<f8"], [".b", [], "<i8"]]
    expected = [[".a", [2], "<f4"], [".b", [], "<i4"]]
    assert "written with `jax_enable_x64` on" in _mismatch(path, found, expected)
    other_shape = [[".a", [3], "<f8"], [".b", [], "<i8"]]
    assert "jax_enable_x64" not in _mismatch(path, other_shape, expected)


def test_numbers_equal_as_values_resume(tmp_path):
    # `PPO(gamma=1)` and `PPO(gamma=1.0)` were other hyper-parameters, and
    # `CartPole(gravity=10)` another env than `CartPole(gravity=10.0)`
    from lerax.callback._checkpoint import check_algorithm, check_structure
    from lerax.env.classic_control import CartPole

    algo = dataclasses.replace(ALGO, gamma=1)
    policy = MLPActorCriticPolicy(CartPole(), key=jr.key(0))
    state = algo.init(CartPole(gravity=10), policy, key=jr.key(0))
    path = save_checkpoint(tmp_path / "int", state, algorithm=algo)
    check_algorithm(path, dataclasses.replace(ALGO, gamma=1.0))
    check_structure(path, algo.init(CartPole(gravity=10.0), policy, key=jr.key(0)))
    with pytest.raises(CheckpointError, match="`gamma` was 1 there and is 0.5 here"):
        check_algorithm(path, dataclasses.replace(ALGO, gamma=0.5))
    with pytest.raises(CheckpointError, match="another env"):
        check_structure(path, algo.init(CartPole(gravity=10.5), policy, key=jr.key(0)))


def _header_span(blob: bytes) -> tuple[int, int]:
    start = len(_magic()) + 8
    return start, start + int.from_bytes(blob[len(_magic()) : start], "little")


def _flip(blob: bytes, needle: bytes, offset: int, bit: int = 1) -> bytes:
    """`blob` with one bit flipped at `offset` into the header's `needle`."""
    start, end = _header_span(blob)
    at = blob.index(needle, start, end) + offset
    return blob[:at] + bytes([blob[at] ^ bit]) + blob[at + 1 :]


def test_a_damaged_header_is_reported_as_corruption(checkpoint):
    # the checksum covered the payload only: a flipped bit in the header's
    # records was read as a run with another env or other hyper-parameters
    path, state = checkpoint
    blob = path.read_bytes()
    env, policy = setup()
    budget = 2 * ALGO.steps_per_iteration
    like = eqx.filter_eval_shape(lambda: state)
    damaged = {
        "gravity 9.8 -> 9.9": _flip(blob, b'"9.8"', len(b'"9.')),
        "array path .policy -> .policx": _flip(blob, b'".policy', len(b'".polic')),
        "gamma 0.99 -> 0.98": _flip(blob, b"0.99", 3),
    }
    for what, data in damaged.items():
        path.write_bytes(data)
        for load in (
            lambda: ALGO.learn(env, policy, budget, key=jr.key(0), resume_from=path),
            lambda: load_checkpoint(path, like),
            lambda: read_header(path),
        ):
            with pytest.raises(CheckpointError) as info:
                load()
            message = str(info.value)
            assert repr(str(path)) in message, what
            assert "is corrupted (header checksum mismatch" in message, what
            assert "use an older checkpoint" in message, what
            assert "another" not in message and "does not match" not in message
    path.write_bytes(blob)
    assert identical(load_checkpoint(path, like), state)


def test_checkpoints_without_a_header_digest_still_load(checkpoint, tmp_path):
    # files written before the header had its own digest (format 1)
    import json

    path, state = checkpoint
    blob = path.read_bytes()
    start, end = _header_span(blob)
    header = json.loads(blob[start:end])
    header.pop("header_sha256", None)
    header["format"] = 1
    encoded = json.dumps(header).encode()
    old = tmp_path / "old.ckpt"
    old.write_bytes(
        _magic() + len(encoded).to_bytes(8, "little") + encoded + blob[end:]
    )
    like = eqx.filter_eval_shape(lambda: state)
    assert identical(load_checkpoint(old, like), state)
    env, policy = setup()
    ALGO.learn(
        env, policy, 2 * ALGO.steps_per_iteration, key=jr.key(0), resume_from=old
    )
    # its payload is still checked
    damaged = bytearray(old.read_bytes())
    damaged[-10] ^= 0xFF
    old.write_bytes(bytes(damaged))
    with pytest.raises(CheckpointError, match="corrupted \\(checksum mismatch"):
        load_checkpoint(old, like)


def test_a_fresh_run_under_jit_does_not_overwrite_an_earlier_run(tmp_path):
    # the refusal ran only while `learn` was traced: a second fresh run
    # through the user's cached `jax.jit(learn)` overwrote the first run's files
    env, policy = setup()
    spi = ALGO.steps_per_iteration
    callback = CheckpointCallback(str(tmp_path / "run"), save_freq=spi, keep=2)
    learn = jax.jit(
        lambda key: ALGO.learn(env, policy, 3 * spi, key=key, callback=callback)
    )
    jax.block_until_ready(learn(jr.key(0)))  # the first run is not refused

    def files():
        return {p.name: p.read_bytes() for p in list_checkpoints(callback.directory)}

    first = files()
    assert len(first) == 2
    with pytest.raises(jax.errors.JaxRuntimeError) as info:
        jax.block_until_ready(learn(jr.key(1)))
    message = str(info.value)
    assert "CheckpointError" in message
    assert f"{callback.directory!r} holds checkpoints of an earlier run" in message
    assert "resume_from=directory" in message and "another folder" in message
    assert files() == first  # refused before its first checkpoint
    # `train` on a fresh state inside `jax.jit` (the state's iteration is
    # traced, so it is not checked while tracing) is refused too
    fresh = ALGO.init(env, policy, key=jr.key(2), callback=callback)
    train = eqx.filter_jit(lambda state: ALGO.train(state, 1, callback=callback)[0])
    with pytest.raises(jax.errors.JaxRuntimeError, match="holds checkpoints of an"):
        jax.block_until_ready(train(fresh))
    assert files() == first
    # a genuine resume, also through the jitted `train`, is not refused
    skeleton = eqx.filter_eval_shape(lambda: fresh)
    resumed = load_checkpoint(callback.directory, skeleton)
    assert int(resumed.iteration) == 3
    resumed = jax.block_until_ready(train(resumed))
    assert int(resumed.iteration) == 4
    ALGO.learn(
        env,
        policy,
        5 * spi,
        key=jr.key(0),
        callback=callback,
        resume_from=callback.directory,
    )
    assert [p.name for p in list_checkpoints(callback.directory)] == [
        "checkpoint_000000000256.ckpt",
        "checkpoint_000000000320.ckpt",
    ]


def test_only_a_checkpoint_callback_adds_the_start_check(tmp_path):
    # the run-time refusal is a host call of `CheckpointCallback` alone
    env, policy = setup()
    budget = 2 * ALGO.steps_per_iteration

    def program(callback):
        learn = lambda key: ALGO.learn(env, policy, budget, key=key, callback=callback)
        return str(jax.make_jaxpr(learn)(jr.key(0)))

    assert "callback" not in program(None)
    # the check: ordered, so it runs before the run's (unordered) writes
    checked = program(CheckpointCallback(str(tmp_path), save_freq=10**6))
    assert "effect=OrderedDebug" in checked
