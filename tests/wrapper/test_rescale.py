"""The affine helpers behind `RescaleAction` and `RescaleObservation`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.space import Box
from lerax.wrapper._rescale import affine, rescaled_box, static_bound

BIG = float(np.finfo(np.float32).max)


def test_rescaled_box_keeps_unbounded_dims():
    inner = Box(np.array([0.0, -np.inf, 0.0]), np.array([4.0, 1.0, np.inf]))
    box = rescaled_box(inner, -1.0, 1.0, "Test")
    np.testing.assert_array_equal(box.low, [-1.0, -np.inf, 0.0])
    np.testing.assert_array_equal(box.high, [1.0, 1.0, np.inf])


def test_affine_is_exact_at_the_bounds_and_linear_inside():
    source = Box(np.array([-0.1, 3.0]), np.array([0.3, 7.0]))
    target = Box(0.0, 1.0, (2,))
    x = jnp.array([[-0.1, 3.0], [0.3, 7.0], [0.1, 4.0]])
    out = jax.jit(jax.vmap(lambda v: affine(v, source, target)))(x)
    np.testing.assert_array_equal(out[0], [0.0, 0.0])
    np.testing.assert_array_equal(out[1], [1.0, 1.0])
    np.testing.assert_allclose(out[2], [0.5, 0.25], rtol=1e-6)
    # And the inverse map brings values back.
    back = jax.jit(jax.vmap(lambda v: affine(v, target, source)))(out)
    np.testing.assert_allclose(back, x, rtol=1e-6)


def test_affine_outside_the_source_extrapolates():
    source = Box(0.0, 2.0, (1,))
    target = Box(-1.0, 1.0, (1,))
    out = jax.jit(lambda v: affine(v, source, target))(jnp.array([4.0]))
    np.testing.assert_allclose(out, [3.0])


def test_affine_degenerate_source_dim_maps_to_the_midpoint():
    source = Box(np.array([2.0, 0.0]), np.array([2.0, 1.0]))
    target = Box(-1.0, 3.0, (2,))
    out = jax.jit(lambda v: affine(v, source, target))(jnp.array([2.0, 0.5]))
    np.testing.assert_allclose(out, [1.0, 1.0])


@pytest.mark.parametrize("jit", [False, True])
def test_affine_huge_and_tiny_scales(jit):
    huge = Box(-BIG, BIG, (3,))
    unit = Box(-1.0, 1.0, (3,))
    down = lambda v: affine(v, huge, unit)
    up = lambda v: affine(v, unit, huge)
    if jit:
        down, up = jax.jit(down), jax.jit(up)
    np.testing.assert_allclose(
        down(jnp.array([BIG / 2, -BIG, 1e30])), [0.5, -1.0, 1e30 / BIG], rtol=1e-6
    )
    np.testing.assert_allclose(
        up(jnp.array([0.5, -1.0, 1e-30])), [BIG / 2, -BIG, 1e-30 * BIG], rtol=1e-6
    )
    tiny = Box(-1e-30, 1e-30, (1,))
    wide = Box(-1e30, 1e30, (1,))
    f = lambda v: affine(v, tiny, wide)
    np.testing.assert_allclose((jax.jit(f) if jit else f)(jnp.array([5e-31])), [5e29])


def test_static_bound_is_hashable():
    assert static_bound(1) == 1.0
    assert static_bound([1, 2]) == (1.0, 2.0)
    assert static_bound(np.array([[1, 2], [3, 4]])) == ((1.0, 2.0), (3.0, 4.0))
    hash(static_bound(np.ones((2, 2))))
