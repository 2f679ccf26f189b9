"""`polyak_average`: shape, structure, rate and dtype checks."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.target import HardUpdate, SoftUpdate, polyak_average


def test_leaves_of_different_shapes_are_refused_not_broadcast():
    online = {"a": jnp.ones(()), "w": jnp.ones((2,))}
    target = {"a": jnp.zeros(()), "w": jnp.zeros((3, 1))}
    with pytest.raises(
        ValueError, match=r"`online\['w'\]` has \(2,\) and `target\['w'\]` has \(3, 1\)"
    ):
        polyak_average(online, target, 0.5)


def test_trees_of_different_structure_name_the_first_differing_leaf():
    with pytest.raises(ValueError, match=r"online\['b'\].*target\['c'\]"):
        polyak_average(
            {"a": jnp.ones(2), "b": jnp.ones(2)},
            {"a": jnp.ones(2), "c": jnp.ones(2)},
            0.5,
        )
    with pytest.raises(ValueError, match=r"online\[1\].*only in `online`"):
        polyak_average([jnp.ones(2), jnp.ones(2)], [jnp.ones(2)], 0.5)


@pytest.mark.parametrize("tau", [2.0, -0.1, float("nan")])
def test_a_concrete_tau_outside_the_unit_interval_is_refused(tau):
    with pytest.raises(ValueError, match=r"polyak_average\(tau=...\)"):
        polyak_average({"w": jnp.ones(2)}, {"w": jnp.zeros(2)}, tau)


def test_a_traced_tau_is_accepted():
    taus = jnp.array([0.0, 0.25, 1.0])
    out = jax.jit(jax.vmap(lambda t: polyak_average(jnp.ones(2), jnp.zeros(2), t)))(
        taus
    )
    np.testing.assert_allclose(out[:, 0], taus)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_each_leaf_keeps_the_target_dtype(dtype):
    online = {"w": jnp.ones(2, dtype), "n": jnp.array(3, jnp.int32)}
    target = {"w": jnp.zeros(2, dtype), "n": jnp.array(7, jnp.int32)}
    for tau in (jnp.float32(0.25), np.float64(0.25), 0.25):
        out = polyak_average(online, target, tau)
        assert out["w"].dtype == dtype
        np.testing.assert_allclose(out["w"].astype(jnp.float32), 0.25)
        assert int(out["n"]) == 3  # non-float leaves come from online


def test_updates_of_modules_under_jit():
    online = eqx.nn.MLP(2, 1, 4, 1, key=jax.random.key(0))
    target = eqx.nn.MLP(2, 1, 4, 1, key=jax.random.key(1))
    soft = eqx.filter_jit(SoftUpdate(tau=0.5))(online, target)
    np.testing.assert_allclose(
        soft.layers[0].weight,
        0.5 * (online.layers[0].weight + target.layers[0].weight),
        rtol=1e-6,
    )
    assert HardUpdate()(online, target) is online
    with pytest.raises(ValueError, match=r"layers\[0\]\.weight"):
        polyak_average(online, eqx.nn.MLP(3, 1, 4, 1, key=jax.random.key(1)), 0.5)


@pytest.mark.parametrize("tau", [0.0, np.float32(0.0), jnp.array(0.0)])
def test_soft_update_refuses_a_concrete_tau_of_zero(tau):
    # the target would never move; the algorithms refuse it the same way
    with pytest.raises(
        ValueError, match=r"`SoftUpdate\(tau=...\)` must be in \(0, 1\].*never move"
    ):
        SoftUpdate(tau=tau)


def test_tau_zero_stays_allowed_in_polyak_average_and_traced_soft_updates():
    # the pure function keeps the identity end of the interpolation
    out = polyak_average({"w": jnp.ones(2)}, {"w": jnp.zeros(2)}, 0.0)
    np.testing.assert_array_equal(out["w"], [0.0, 0.0])
    # a traced tau is not checked (under vmap, a sweep over rates)
    moved = jax.vmap(lambda t: SoftUpdate(tau=t)(jnp.ones(2), jnp.zeros(2)))(
        jnp.array([0.0, 1.0])
    )
    np.testing.assert_array_equal(moved[:, 0], [0.0, 1.0])
    assert SoftUpdate(tau=1.0)(jnp.ones(2), jnp.zeros(2))[0] == 1.0
