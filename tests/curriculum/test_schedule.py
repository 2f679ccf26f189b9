"""Schedules: values at the boundaries, traceability, argument errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.curriculum import cosine_schedule, linear_schedule, step_schedule


def values(schedule, iterations):
    return [float(schedule(jnp.asarray(i))) for i in iterations]


def test_linear_schedule_ramps_then_clamps():
    schedule = linear_schedule(0.5, 1.5, total=4)
    assert values(schedule, [0, 1, 2, 4, 5, 100]) == pytest.approx(
        [0.5, 0.75, 1.0, 1.5, 1.5, 1.5]
    )


def test_cosine_schedule_endpoints_and_midpoint():
    schedule = cosine_schedule(2.0, 0.0, total=10)
    assert values(schedule, [0, 5, 10, 11]) == pytest.approx([2.0, 1.0, 0.0, 0.0])
    # Flat at the ends, steepest in the middle.
    v = np.array(values(schedule, range(11)))
    steps = -np.diff(v)
    assert steps[0] < steps[4] and steps[-1] < steps[5]


def test_step_schedule_switches_at_boundaries():
    schedule = step_schedule([1.0, 2.0, 3.0], boundaries=[2, 5])
    assert values(schedule, [0, 1, 2, 4, 5, 50]) == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


def test_schedules_trace_and_vmap():
    its = jnp.arange(6)
    schedule = linear_schedule(0.0, 1.0, total=5)
    assert jnp.allclose(jax.jit(jax.vmap(schedule))(its), jnp.minimum(its / 5, 1.0))
    # vmap over the end value: several schedules in one program.
    ends = jnp.array([1.0, 3.0])
    out = jax.vmap(lambda e: linear_schedule(1.0, e, total=2)(jnp.asarray(2)))(ends)
    assert jnp.allclose(out, ends)
    vector = step_schedule(jnp.array([[0.0, 1.0], [2.0, 3.0]]), [3])
    assert vector(jnp.asarray(3)).tolist() == [2.0, 3.0]


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: linear_schedule(0.0, 1.0, total=0), ValueError, "total"),
        (lambda: linear_schedule(0.0, 1.0, total=2.5), TypeError, "steps_per_iter"),
        (lambda: cosine_schedule(0.0, 1.0, total=True), TypeError, "total"),
        (lambda: linear_schedule(float("nan"), 1.0, total=3), ValueError, "finite"),
        (lambda: linear_schedule("a", 1.0, total=3), TypeError, "start"),
        (lambda: linear_schedule(0.0, [1.0, 2.0], total=3), ValueError, "shape"),
        (lambda: step_schedule([1.0, 2.0], [1, 2]), ValueError, r"len\(values\)"),
        (lambda: step_schedule([1.0, 2.0, 3.0], [3, 2]), ValueError, "increasing"),
        (lambda: step_schedule([1.0, 2.0], [0]), ValueError, ">= 1"),
        (lambda: step_schedule([1.0, 2.0], [1.5]), TypeError, "ints"),
        (lambda: step_schedule([1.0, 2.0], 3), TypeError, "sequence"),
        (lambda: step_schedule(1.0, []), ValueError, r"len\(values\)"),
    ],
)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()
