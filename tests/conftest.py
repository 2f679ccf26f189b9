"""Test configuration shared by the whole suite."""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

# A persistent compilation cache shared by the xdist workers and by the
# subprocesses some tests start (CLI, examples, checkpoint kill test): the
# same training programs are compiled once per run instead of once per
# process. Set before JAX is imported; subprocesses inherit it.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".jax-cache")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
# A size limit turns on JAX's file lock around cache reads and writes; without
# it an entry is written in place, and a worker reading it while another is
# still writing it can load a truncated executable (seen once as a worker
# segfault in CI).
os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(4 * 2**30))


def _compile_with_the_older_cpu_emitters() -> None:
    """Makes XLA compile this suite's programs about a third faster on CPU.

    Compilation is most of the suite's time: a test runs a training program
    for a few iterations, then compiles the next one. XLA's older CPU kernel
    emitters (``--xla_cpu_use_fusion_emitters=false``) compile a PPO, SAC or
    DQN ``learn`` in about 1.1-2.2 s instead of 1.7-3.1 s, and run it about
    as fast, except PPO's rollouts (up to ~1.5x slower, which only the long
    learning tests notice). Measured on 2 cores: tests/algorithm/test_on_policy.py
    takes 60 s instead of 95 s. Results may differ from the default emitters'
    in the last bits; the whole suite passed with either.

    XLA aborts the process on a flag it does not know, so the flag is first
    tried in a subprocess (once: xdist workers and the subprocesses tests start
    inherit the result). An ``XLA_FLAGS`` that already names the flag is kept.
    """
    name = "xla_cpu_use_fusion_emitters"
    flags = os.environ.get("XLA_FLAGS", "")
    if name in flags or os.environ.get("LERAX_TESTS_XLA_FLAGS_PROBED"):
        return
    os.environ["LERAX_TESTS_XLA_FLAGS_PROBED"] = "1"
    wanted = f"{flags} --{name}=false".strip()
    probe = subprocess.run(
        [sys.executable, "-c", "import jax; jax.devices('cpu')"],
        env={**os.environ, "XLA_FLAGS": wanted, "JAX_PLATFORMS": "cpu"},
        capture_output=True,
    )
    if probe.returncode == 0:
        os.environ["XLA_FLAGS"] = wanted


_compile_with_the_older_cpu_emitters()

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(scope="session", autouse=True)
def sb3_log_folder(tmp_path_factory):
    """Stable-Baselines3 makes an (empty) log folder in the system temp folder
    for every model it builds, logging on or off; the suite's go under
    pytest's own temporary folders (subprocesses inherit the variable)."""
    os.environ.setdefault("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3-logs")))


@pytest.fixture
def getkey():
    """Returns a function that gives a fresh, deterministic PRNG key per call."""
    counter = itertools.count()
    return lambda: jax.random.key(next(counter))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow(seconds): a test that takes about `seconds` in the suite (2 workers "
        "on 2 cores); slow tests run first, longest first",
    )
    # pytest-xdist's default hands each worker a chunk of consecutive tests
    # up front: with the slow tests first, one worker would get all of them.
    # One test at a time makes the schedule longest-first on demand.
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items):
    """Runs the slow tests first, longest first (stable otherwise).

    Handed out one at a time to whichever worker is free, long tests at the
    front share out evenly over the workers and the run ends on short ones;
    in collection order, one worker was left running a long test alone near
    the end (about a fifth of the CPU time sat idle)."""

    def seconds(item) -> float:
        mark = item.get_closest_marker("slow")
        return float(mark.args[0]) if mark is not None else 0.0

    items.sort(key=seconds, reverse=True)
