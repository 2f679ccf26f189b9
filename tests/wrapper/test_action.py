"""`TransformAction`, `ClipAction`, `RescaleAction`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.space import Box, Discrete
from lerax.wrapper import ClipAction, RescaleAction, TransformAction

from .toy_envs import BoxActionEnv, MaskedDiscreteEnv, reset_and_run

F32_MAX = float(np.finfo(np.float32).max)


def inner_actions(env, actions, key):
    """The actions the innermost env received, via its `transition_info`."""
    _, _, out = reset_and_run(env, jnp.asarray(actions), key)
    return np.asarray(out["info"]["action"]), out


def odd_action(a):
    return 2 * a + 1


def odd_mask(mask):
    return mask[1::2]


# --- TransformAction ---------------------------------------------------------


def test_transform_action_maps_actions(getkey):
    env = TransformAction(MaskedDiscreteEnv(length=100), odd_action, Discrete(2))
    assert env.action_space == Discrete(2)
    assert env.observation_space == env.env.observation_space
    received, out = inner_actions(env, jnp.array([0, 1, 1, 0], jnp.int32), getkey())
    np.testing.assert_array_equal(received, [1, 3, 3, 1])
    np.testing.assert_array_equal(out["reward"], [1.0, 3.0, 3.0, 1.0])
    np.testing.assert_array_equal(out["obs"][:, 1], [1.0, 3.0, 3.0, 1.0])


def test_transform_action_checks_the_outer_space(getkey):
    env = TransformAction(MaskedDiscreteEnv(), odd_action, Discrete(2))
    state, _, _ = env.reset(key=getkey())
    # 2 is a valid inner action but not an outer one.
    with pytest.raises(eqx.EquinoxRuntimeError):
        jax.block_until_ready(env.step(state, 2, key=getkey()))


def test_transform_action_mask_func(getkey):
    env = TransformAction(
        MaskedDiscreteEnv(length=100), odd_action, Discrete(2), mask_func=odd_mask
    )
    state, _, _ = env.reset(key=getkey())
    masks = []
    for _ in range(5):
        masks.append(np.asarray(env.action_mask(state, key=getkey())))
        state, *_ = env.step(state, 0, key=getkey())
    # Inner mask at t: actions <= t % 4; outer action a is inner 2a + 1.
    np.testing.assert_array_equal(masks, [[0, 0], [1, 0], [1, 0], [1, 1], [0, 0]])


def test_transform_action_default_mask_is_unchanged(getkey):
    env = TransformAction(MaskedDiscreteEnv(), lambda a: a, Discrete(4))
    state, _, _ = env.reset(key=getkey())
    state, *_ = env.step(state, 0, key=getkey())
    np.testing.assert_array_equal(env.action_mask(state, key=getkey()), [1, 1, 0, 0])
    box = TransformAction(BoxActionEnv(), lambda a: a, BoxActionEnv().action_space)
    bstate, _, _ = box.reset(key=getkey())
    assert box.action_mask(bstate, key=getkey()) is None


@pytest.mark.parametrize(
    "func, got",
    [
        (lambda a: jnp.stack([a, a]), r"\(2,\) int32"),  # wrong shape
        (lambda a: (2 * a + 1).astype(jnp.float32), r"\(\) float32"),  # float
    ],
)
def test_transform_action_names_a_func_that_misses_the_inner_space(func, got, getkey):
    # a float action reached the Discrete env silently, a wrong shape failed
    # deep inside the env's step
    env = TransformAction(MaskedDiscreteEnv(), func, Discrete(2))
    state, _, _ = env.reset(key=getkey())
    message = f"`func` maps an action to {got}, but the wrapped env takes \\(\\) int32"
    with pytest.raises(ValueError, match=message):
        env.step(state, jnp.int32(0), key=getkey())
    with pytest.raises(TypeError, match="must be a lerax space"):
        TransformAction(MaskedDiscreteEnv(), odd_action, "discrete")
    with pytest.raises(TypeError, match="must be callable"):
        TransformAction(MaskedDiscreteEnv(), None, Discrete(2))


# --- ClipAction --------------------------------------------------------------


def test_clip_action_clips(getkey):
    env = ClipAction(BoxActionEnv())
    assert env.action_space == Box(-np.inf, np.inf, (3,))
    assert env.observation_space == env.env.observation_space
    actions = jnp.array([[5.0, -3.0, 100.0], [-9.0, 20.0, -1e6], [1.5, 2.5, 0.0]])
    received, out = inner_actions(env, actions, getkey())
    np.testing.assert_array_equal(
        received, [[2.0, 0.0, 100.0], [-2.0, 10.0, -1e6], [1.5, 2.5, 0.0]]
    )
    np.testing.assert_allclose(out["reward"], [102.0, 8.0 - 1e6, 4.0])


def test_clip_action_accepts_any_finite_or_infinite_value_but_not_nan(getkey):
    env = ClipAction(BoxActionEnv())
    state, _, _ = env.reset(key=getkey())
    _, obs, *_ = env.step(state, jnp.array([jnp.inf, -jnp.inf, 0.0]), key=getkey())
    np.testing.assert_array_equal(obs, [2.0, 0.0, 0.0])
    with pytest.raises(eqx.EquinoxRuntimeError):
        jax.block_until_ready(
            env.step(state, jnp.array([jnp.nan, 0.0, 0.0]), key=getkey())
        )


# --- RescaleAction -----------------------------------------------------------


def test_rescale_action_space():
    env = RescaleAction(BoxActionEnv())
    space = env.action_space
    np.testing.assert_array_equal(space.low, [-1.0, -1.0, -np.inf])
    np.testing.assert_array_equal(space.high, [1.0, 1.0, np.inf])
    assert env.observation_space == env.env.observation_space


def test_rescale_action_maps_bounds_and_passes_infinite_dims(getkey):
    env = RescaleAction(BoxActionEnv())
    actions = jnp.array(
        [[-1.0, -1.0, 7.0], [1.0, 1.0, -3.0], [0.0, 0.5, 0.0], [0.25, -0.5, 1e20]]
    )
    received, _ = inner_actions(env, actions, getkey())
    np.testing.assert_allclose(
        received,
        [[-2.0, 0.0, 7.0], [2.0, 10.0, -3.0], [0.0, 7.5, 0.0], [0.5, 2.5, 1e20]],
        rtol=1e-6,
    )
    # The endpoints are hit exactly.
    np.testing.assert_array_equal(received[:2, :2], [[-2.0, 0.0], [2.0, 10.0]])


def test_rescale_action_custom_and_per_dim_bounds(getkey):
    env = RescaleAction(BoxActionEnv(), 0.0, 4.0)
    received, _ = inner_actions(env, jnp.array([[0.0, 4.0, 1.0]]), getkey())
    np.testing.assert_allclose(received, [[-2.0, 10.0, 1.0]])
    env = RescaleAction(BoxActionEnv(), min=[0.0, -1.0, 0.0], max=[1.0, 0.0, 1.0])
    np.testing.assert_array_equal(env.action_space.low, [0.0, -1.0, -np.inf])
    np.testing.assert_array_equal(env.action_space.high, [1.0, 0.0, np.inf])
    received, _ = inner_actions(env, jnp.array([[0.5, -0.5, 3.0]]), getkey())
    np.testing.assert_allclose(received, [[0.0, 5.0, 3.0]])


def test_rescale_action_rejects_actions_outside_the_new_bounds(getkey):
    env = RescaleAction(BoxActionEnv())
    state, _, _ = env.reset(key=getkey())
    with pytest.raises(eqx.EquinoxRuntimeError):
        jax.block_until_ready(env.step(state, jnp.array([1.5, 0.0, 0.0]), key=getkey()))


def test_rescale_action_with_float32_max_bounds(getkey):
    base = BoxActionEnv(action_space=Box(-F32_MAX, F32_MAX, (3,)))
    env = RescaleAction(base)
    received, _ = inner_actions(
        env, jnp.array([[0.0, 0.5, -0.25], [1.0, -1.0, 1e-30]]), getkey()
    )
    np.testing.assert_allclose(
        received,
        [[0.0, F32_MAX / 2, -F32_MAX / 4], [F32_MAX, -F32_MAX, 1e-30 * F32_MAX]],
        rtol=1e-6,
    )
    assert np.isfinite(received).all()


def test_rescale_action_integer_inner_box_rounds(getkey):
    base = BoxActionEnv(action_space=Box(0, 10, (3,), dtype=jnp.int32))
    env = RescaleAction(base)
    received, _ = inner_actions(
        env, jnp.array([[-1.0, 1.0, 0.0], [-0.79, 0.79, 0.11]]), getkey()
    )
    np.testing.assert_array_equal(received, [[0, 10, 5], [1, 9, 6]])


# --- bad input ---------------------------------------------------------------


@pytest.mark.parametrize("wrapper", [ClipAction, RescaleAction])
def test_discrete_action_space_raises_type_error(wrapper):
    name = wrapper.__name__
    with pytest.raises(TypeError, match=rf"`{name}`.*action space.*Discrete\(4\)"):
        wrapper(MaskedDiscreteEnv())


@pytest.mark.parametrize(
    "bounds", [(1.0, 1.0), (2.0, -2.0), ([0.0, 1.0, 0.0], [1.0, 1.0, 1.0])]
)
def test_rescale_action_min_not_below_max_raises(bounds):
    with pytest.raises(ValueError, match="min < max"):
        RescaleAction(BoxActionEnv(), *bounds)


def test_rescale_action_bad_bounds_raise():
    with pytest.raises(ValueError, match="finite"):
        RescaleAction(BoxActionEnv(), -np.inf, 1.0)
    with pytest.raises(ValueError, match="broadcast"):
        RescaleAction(BoxActionEnv(), [0.0, 0.0], [1.0, 1.0])
