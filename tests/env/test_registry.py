"""The environment registry: `make`, `register`, `registered`."""

import jax.numpy as jnp
import numpy as np
import pytest

from lerax.env import make, register, registered
from lerax.env._registry import _REGISTRY
from lerax.env.classic_control import CartPole
from lerax.wrapper import TimeLimit

BUILTINS = (
    "Acrobot-v1",
    "CartPole-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
)


@pytest.fixture
def scratch_ids():
    """Ids registered by a test; removed from the registry afterwards."""
    ids: list[str] = []
    yield ids
    for id in ids:
        _REGISTRY.pop(id, None)


def test_registered_lists_builtins_sorted():
    ids = registered()
    assert ids == tuple(sorted(ids))
    for id in BUILTINS:
        assert id in ids


def test_make_cartpole_has_standard_time_limit():
    env = make("CartPole-v1")
    assert isinstance(env, TimeLimit)
    assert env.max_episode_steps == 500
    assert isinstance(env.unwrapped, CartPole)
    assert env.name == "CartPole"


def test_make_max_episode_steps_override(getkey):
    env = make("CartPole-v1", max_episode_steps=7)
    assert isinstance(env, TimeLimit) and env.max_episode_steps == 7
    # Balance-friendly actions never terminate this early; the 7th step truncates.
    state, _, _ = env.reset(key=getkey())
    truncations = []
    for i in range(7):
        state, _, _, terminated, truncated, _ = env.step(state, i % 2, key=getkey())
        assert not terminated
        truncations.append(bool(truncated))
    assert truncations == [False] * 6 + [True]
    assert int(state.step_count) == 0


def test_make_passes_kwargs_to_the_constructor():
    env = make("CartPole-v1", gravity=3.0, force_mag=5.0)
    assert env.unwrapped.gravity == 3.0 and env.unwrapped.force_mag == 5.0
    with pytest.raises(ValueError, match="cart_mass"):
        make("CartPole-v1", cart_mass=-1.0)


def test_make_invalid_override_raises():
    with pytest.raises(ValueError, match="max_episode_steps"):
        make("CartPole-v1", max_episode_steps=0)


def test_unknown_id_raises_key_error_with_known_ids_and_hint():
    with pytest.raises(KeyError) as info:
        make("CartPole-v0")
    message = str(info.value)
    assert "Unknown environment id 'CartPole-v0'" in message
    assert "Did you mean 'CartPole-v1'?" in message
    for id in BUILTINS:
        assert id in message


def test_unknown_id_without_close_match():
    with pytest.raises(KeyError) as info:
        make("Zzzzzzzzzzzzzzzzzzzz")
    message = str(info.value)
    assert "Did you mean" not in message
    assert "CartPole-v1" in message
    with pytest.raises(KeyError, match="Unknown environment id"):
        make(None)  # type: ignore[arg-type]


def test_register_and_make_custom_env(scratch_ids, getkey):
    calls = []

    def factory(**kwargs):
        calls.append(kwargs)
        return CartPole(**kwargs)

    scratch_ids.append("TestCustomCartPole-v0")
    register("TestCustomCartPole-v0", factory)
    assert "TestCustomCartPole-v0" in registered()
    env = make("TestCustomCartPole-v0", gravity=1.0)
    assert isinstance(env, CartPole)  # no time limit registered
    assert calls == [{"gravity": 1.0}]
    # With a limit given at `make` only.
    env = make("TestCustomCartPole-v0", max_episode_steps=3)
    assert isinstance(env, TimeLimit) and env.max_episode_steps == 3

    scratch_ids.append("TestLimitedCartPole-v0")
    register("TestLimitedCartPole-v0", CartPole, max_episode_steps=11)
    env = make("TestLimitedCartPole-v0")
    assert isinstance(env, TimeLimit) and env.max_episode_steps == 11
    state, obs, _ = env.reset(key=getkey())
    assert obs.shape == (4,)
    env.step(state, jnp.array(1), key=getkey())


def test_duplicate_register_raises(scratch_ids):
    scratch_ids.append("TestDuplicate-v0")
    register("TestDuplicate-v0", CartPole)
    with pytest.raises(ValueError, match="already registered.*overwrite=True"):
        register("TestDuplicate-v0", CartPole)
    with pytest.raises(ValueError, match="already registered"):
        register("CartPole-v1", CartPole)
    # Overwriting is allowed when asked for.
    register("TestDuplicate-v0", CartPole, max_episode_steps=4, overwrite=True)
    assert make("TestDuplicate-v0").max_episode_steps == 4
    # a NumPy integer is an int here, as `TimeLimit` takes it
    register(
        "TestDuplicate-v0", CartPole, max_episode_steps=np.int64(5), overwrite=True
    )
    assert make("TestDuplicate-v0").max_episode_steps == 5


@pytest.mark.parametrize("limit", [0, -3, 2.5, True, "10"])
def test_register_rejects_bad_limits(scratch_ids, limit):
    scratch_ids.append("TestBadLimit-v0")
    with pytest.raises(ValueError, match="max_episode_steps"):
        register("TestBadLimit-v0", CartPole, max_episode_steps=limit)
    assert "TestBadLimit-v0" not in registered()


def test_register_rejects_bad_id_or_factory(scratch_ids):
    scratch_ids.append("TestNotCallable-v0")
    with pytest.raises(TypeError, match="callable"):
        register("TestNotCallable-v0", CartPole())
    with pytest.raises(TypeError, match="non-empty str"):
        register("", CartPole)
    with pytest.raises(TypeError, match="non-empty str"):
        register(3, CartPole)  # type: ignore[arg-type]


def test_unhashable_ids_are_refused_by_name():
    with pytest.raises(
        TypeError, match=r"`register\(id=...\)` must be a non-empty str"
    ):
        register(["TestList-v0"], CartPole)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match=r"`make\(id=...\)` must be one registered id"):
        make(["CartPole-v1"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "id, keyword, suggestion",
    [
        ("CartPole-v1", "gravty", "gravity"),
        ("CartPole-v1", "sutton_barto", "sutton_barto_reward"),
        ("Pendulum-v1", "G", "g"),
        ("Acrobot-v1", "torque_noise", "torque_noise_max"),
        ("MountainCar-v0", "goal_velocty", "goal_velocity"),
    ],
)
def test_unknown_keyword_names_the_closest_one(id, keyword, suggestion):
    with pytest.raises(TypeError) as info:
        make(id, **{keyword: 1.0})
    message = str(info.value)
    assert f"unexpected keyword argument '{keyword}'" in message
    assert f"Did you mean '{suggestion}'?" in message
    assert "It takes: " in message and "max_episode_steps" in message


def test_unknown_keyword_of_a_mujoco_env_names_its_options():
    pytest.importorskip("mujoco")
    with pytest.raises(TypeError, match="Did you mean 'ctrl_cost_weight'"):
        make("Ant-v5", ctrl_cost=0.1)
    # the rendering keywords (`**render_kwargs: Unpack[...]`) count as taken
    with pytest.raises(TypeError, match="Did you mean 'camera_name'") as info:
        make("Hopper-v5", camera_nam="track")
    assert "max_geom" in str(info.value)


def test_unknown_keyword_without_a_readable_signature_is_left_alone(scratch_ids):
    def factory(**kwargs):
        return CartPole(**kwargs)

    def failing(**kwargs):
        raise TypeError("something else got an unexpected keyword argument 'x'")

    scratch_ids.extend(["TestOpaque-v0", "TestFailing-v0"])
    register("TestOpaque-v0", factory)
    register("TestFailing-v0", failing)
    # `**kwargs` takes anything: the constructor's own message, unchanged
    with pytest.raises(TypeError) as info:
        make("TestOpaque-v0", gravty=1.0)
    assert "Did you mean" not in str(info.value)
    # an error about a keyword `make` was not given is not ours to explain
    with pytest.raises(TypeError) as info:
        make("TestFailing-v0", y=1.0)
    assert str(info.value) == "something else got an unexpected keyword argument 'x'"


@pytest.mark.parametrize(
    "typo, id",
    [
        ("CARTPOLE-V1", "CartPole-v1"),
        ("HALFCHEETAH-V5", "HalfCheetah-v5"),
        ("walker", "Walker2d-v5"),
    ],
)
def test_unknown_id_suggestion_ignores_case(typo, id):
    with pytest.raises(KeyError, match=f"Did you mean '{id}'"):
        make(typo)
