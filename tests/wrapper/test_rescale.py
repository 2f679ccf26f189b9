"""The affine helpers behind `RescaleAction` and `RescaleObservation`."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.space import Box
from lerax.wrapper import RescaleAction, RescaleObservation
from lerax.wrapper._rescale import affine, rescaled_box, static_bound

from .toy_envs import BoxActionEnv

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


@pytest.mark.parametrize("dtype", ["float16", "float64"])
@pytest.mark.parametrize("kind", ["action", "observation"])
def test_rescaled_spaces_keep_the_inner_float_dtype(kind, dtype):
    # Gymnasium's RescaleAction/RescaleObservation give the new space the
    # inner box's dtype; lerax's were always float32, so a float64 env under
    # x64 had its values rescaled in float32 (about 1e-7 off).
    gymnasium = pytest.importorskip("gymnasium")
    low = np.array([-3.0, 1.0, -2.0], dtype)
    high = np.array([2.0, 1.0 + 1e-3, 2.0], dtype)
    space = f"{kind}_space"
    other = "observation_space" if kind == "action" else "action_space"
    gym_wrapper, ours = {
        "action": (gymnasium.wrappers.RescaleAction, RescaleAction),
        "observation": (gymnasium.wrappers.RescaleObservation, RescaleObservation),
    }[kind]
    GymEnv = type(
        "GymEnv",
        (gymnasium.Env,),
        {
            space: gymnasium.spaces.Box(low, high, dtype=dtype),
            other: gymnasium.spaces.Box(-1.0, 1.0, (1,)),
        },
    )
    with warnings.catch_warnings():  # Gymnasium's about float16 bounds
        warnings.simplefilter("ignore", UserWarning)
        oracle = gym_wrapper(GymEnv(), -1.0, 1.0)
    assert getattr(oracle, space).dtype == np.dtype(dtype)
    with jax.enable_x64(True):
        inner = eqx.tree_at(
            lambda e: getattr(e, space), BoxActionEnv(), Box(low, high, dtype=dtype)
        )
        env = ours(inner, -1.0, 1.0)
        assert getattr(env, space).dtype == np.dtype(dtype)
        if dtype == "float64":
            value = np.array([0.123456789012345, -0.987654321098765, 0.5])
            if kind == "action":  # from [-1, 1] onto the inner box
                got, expected = env.map_action(jnp.asarray(value)), oracle.action(value)
            else:  # from the inner box onto [-1, 1]
                value[1] = 1.000987654321098
                got = env.map_observation(jnp.asarray(value))
                expected = oracle.observation(value)
            assert got.dtype == jnp.float64
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    # integer inner boxes still get a float32 space
    int_env = eqx.tree_at(
        lambda e: getattr(e, space), BoxActionEnv(), Box(0, 10, (3,), dtype=jnp.int32)
    )
    assert getattr(ours(int_env), space).dtype == np.float32
