"""Range checks of hyper-parameters and the comparison of descriptions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.utils import describe
from lerax.utils._checks import (
    check_finite,
    check_finite_or_off,
    check_positive,
    check_step_size,
    check_unit_interval,
)
from lerax.utils._fingerprint import equivalent


@pytest.mark.parametrize("value", [[0.5], (0.5, 0.9), []])
def test_lists_and_tuples_are_refused(value):
    for check in (check_positive, check_unit_interval, check_finite):
        with pytest.raises(
            TypeError, match=r"`Algo\(rate=\.\.\.\)` must be one number"
        ):
            check("Algo", rate=value)


@pytest.mark.parametrize(
    "value", [False, True, np.False_, np.array(True), jnp.array([True, False])]
)
def test_booleans_are_refused(value):
    with pytest.raises(TypeError, match="got the boolean"):
        check_positive("Algo", rate=value)


def test_numbers_arrays_traced_values_and_schedules_pass():
    for value in (0.5, 1, np.float32(0.5), jnp.asarray([0.1, 0.9]), None, abs):
        check_unit_interval("Algo", rate=value)
    jax.jit(lambda v: check_positive("Algo", rate=v) or v)(0.5)


def test_infinity_off_and_step_size():
    with pytest.raises(ValueError, match="pass `limit=None`"):
        check_finite_or_off("Algo", limit=float("inf"))
    check_finite_or_off("Algo", limit=None)
    for bad in (0.0, -0.1, 1.5, jnp.asarray([0.5, 0.0])):
        with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
            check_step_size("Algo", tau=bad)
    check_step_size("Algo", tau=1.0)


@pytest.mark.parametrize(
    "a, b, same",
    [
        (0, 0.0, True),
        (10, 10.0, True),
        (np.float32(0.1), 0.1, True),
        (0.1, 0.2, False),
        (1, 2, False),
        (2**40, 2**40 + 1, False),
        (True, 1, False),
        (float("nan"), float("nan"), True),
        ([1, (2, 0.5)], [1.0, (2.0, np.float32(0.5))], True),
        ({"a": 1}, {"a": 1.5}, False),
    ],
)
def test_equivalent_compares_numbers_by_value(a, b, same):
    assert equivalent(describe(a), describe(b)) is same
