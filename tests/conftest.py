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


@pytest.fixture
def getkey():
    """Returns a function that gives a fresh, deterministic PRNG key per call."""
    counter = itertools.count()
    return lambda: jax.random.key(next(counter))
