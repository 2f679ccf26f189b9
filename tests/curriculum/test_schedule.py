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


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: linear_schedule(True, 1.0, total=3), "linear_schedule(start"),
        (lambda: linear_schedule(np.True_, 1.0, total=3), "linear_schedule(start"),
        (lambda: cosine_schedule(0.0, np.bool_(False), total=3), "cosine_schedule(end"),
        (lambda: linear_schedule(jnp.array(True), 1.0, total=3), "linear_schedule"),
        (lambda: step_schedule([True, False], [1]), "step_schedule(values"),
        (lambda: step_schedule([[0.5, 1.0], [True, 0.0]], [1]), "step_schedule"),
        (lambda: step_schedule((1.0, np.False_), [1]), "step_schedule(values"),
        (lambda: step_schedule(np.array([True, False]), [1]), "step_schedule"),
    ],
)
def test_booleans_are_refused_in_every_form(build, name):
    with pytest.raises(TypeError, match="holds booleans") as info:
        build()
    message = str(info.value)
    assert f"`{name}" in message and "Pass numbers" in message


def test_numbers_of_any_type_are_accepted():
    schedule = step_schedule([np.float32(1.0), 0, jnp.array(2.0)], [1, 2])
    assert values(schedule, [0, 1, 2]) == [1.0, 0.0, 2.0]
    assert values(linear_schedule(np.int64(0), 2, total=2), [1]) == [1.0]


def test_jax_integer_totals_and_boundaries_are_accepted():
    """A concrete JAX integer counts as an int (as NumPy's do); JAX floats,
    booleans and traced values are still refused."""
    assert values(linear_schedule(0.0, 1.0, total=jnp.int32(4)), [2]) == [0.5]
    assert values(cosine_schedule(0.0, 1.0, total=jnp.asarray(4)), [4]) == [1.0]
    schedule = step_schedule([1.0, 2.0, 3.0], jnp.array([2, 5]))
    assert values(schedule, [1, 2, 5]) == [1.0, 2.0, 3.0]
    assert values(step_schedule([1.0, 2.0], [jnp.uint8(3)]), [2, 3]) == [1.0, 2.0]
    for bad in (jnp.float32(3.0), jnp.asarray(True), jnp.array([1, 2])):
        with pytest.raises(TypeError, match="must be an int"):
            linear_schedule(0.0, 1.0, total=bad)
    with pytest.raises(TypeError, match="must hold ints"):
        step_schedule([1.0, 2.0], [jnp.float32(3.0)])
    with pytest.raises(TypeError, match="must be an int"):
        jax.jit(lambda total: linear_schedule(0.0, 1.0, total=total))(jnp.int32(3))
