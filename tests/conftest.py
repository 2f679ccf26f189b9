"""Test configuration shared by the whole suite."""

import itertools

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    """Returns a function that gives a fresh, deterministic PRNG key per call."""
    counter = itertools.count()
    return lambda: jax.random.key(next(counter))
