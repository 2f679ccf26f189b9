"""Test configuration shared by the whole suite."""

import itertools
import os
from pathlib import Path

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

import jax  # noqa: E402
import pytest

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
