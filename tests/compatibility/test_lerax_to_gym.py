"""`LeraxToGymEnv`: Gymnasium's checker, its episode semantics, seeding,
masks, rendering, and Gymnasium's own classic-control envs as an oracle."""

import re
import warnings

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import lerax.env
from lerax.compatibility import LeraxToGymEnv
from lerax.space import Box, Dict, Discrete, Tuple
from lerax.wrapper import NormalizeObservation, TimeLimit, TransformAction

from ..algorithm.envs import Counter, MaskedMatch
from .envs import Composite

IDS = [
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
]


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.filterwarnings("ignore:.*Box (observation|action) space.*:UserWarning")
def test_passes_gymnasium_env_checker(env_id):
    env = LeraxToGymEnv(lerax.env.make(env_id))
    check_env(env, skip_render_check=True)
    assert isinstance(env, gymnasium.Env)


def test_masked_env_passes_checker_and_exposes_masks():
    env = LeraxToGymEnv(TimeLimit(MaskedMatch(), 5))
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=3)
    mask = info["action_mask"]
    assert mask.dtype == np.bool_ and mask.shape == (4,) and mask.sum() == 2
    np.testing.assert_array_equal(env.action_masks(), mask)
    np.testing.assert_array_equal(obs[4:], mask.astype(np.float32))
    _, _, _, _, info = env.step(int(np.flatnonzero(mask)[0]))
    np.testing.assert_array_equal(info["action_mask"], env.action_masks())
    assert "action_mask" not in LeraxToGymEnv(lerax.env.make("CartPole-v1")).reset()[1]


def _rollout(env, seed, actions):
    out = [env.reset(seed=seed)[0]]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        out.append((obs, reward, terminated, truncated))
        if terminated or truncated:
            break
    return out


def test_seeded_reset_is_reproducible():
    env = LeraxToGymEnv(lerax.env.make("CartPole-v1"))
    actions = [i % 2 for i in range(40)]
    first, second = _rollout(env, 7, actions), _rollout(env, 7, actions)
    np.testing.assert_array_equal(first[0], second[0])
    for a, b in zip(first[1:], second[1:]):
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]
    assert not np.array_equal(env.reset(seed=8)[0], first[0])
    # Unseeded resets carry on from the key: different episodes.
    a, b = env.reset()[0], env.reset()[0]
    assert not np.array_equal(a, b)


def test_seeds_beyond_32_bits_give_their_own_episodes():
    # `jax.random.key` keeps 32 bits: 2**32 + 5 replayed seed 5 and 2**63
    # overflowed; every seed Gymnasium accepts now seeds its own episodes
    env = LeraxToGymEnv(lerax.env.make("CartPole-v1"))
    seeds = [0, 5, 2**32 - 1, 2**32 + 5, 2**40, 2**63, 2**64 + 5]
    starts = [env.reset(seed=seed)[0] for seed in seeds]
    assert len({start.tobytes() for start in starts}) == len(seeds)
    np.testing.assert_array_equal(env.reset(seed=2**63)[0], starts[5])


def test_equal_envs_share_compiled_programs_but_not_state():
    # a vector env builds n equal envs: they compile once, and each keeps its
    # own state and key
    from lerax.env.classic_control import CartPole

    a, b = (LeraxToGymEnv(lerax.env.make("CartPole-v1")) for _ in range(2))
    assert a._step_fn is b._step_fn and a._reset_fn is b._reset_fn
    other = LeraxToGymEnv(TimeLimit(CartPole(gravity=5.0), 500))
    assert other._step_fn is not a._step_fn  # another value, other programs
    a.reset(seed=1)
    b.reset(seed=2)
    before = b.step(0)[0]
    for _ in range(3):
        a.step(1)
    b.reset(seed=2)  # a's steps moved neither b's state nor its key
    np.testing.assert_array_equal(b.step(0)[0], before)
    other.reset(seed=2)  # the same start, other dynamics
    assert not np.array_equal(other.step(0)[0], before)


def test_end_of_episode_returns_last_observation_and_waits_for_reset():
    env = LeraxToGymEnv(lerax.env.make("CartPole-v1"))
    obs, _ = env.reset(seed=0)
    terminated = False
    while not terminated:
        previous = obs
        obs, reward, terminated, truncated, _ = env.step(1)  # always push right
        assert not truncated and reward == 1.0
    # The last observation of this episode: the pole fell, it continues the
    # trajectory (not a fresh start near zero).
    assert abs(obs[2]) > 0.2095 or abs(obs[0]) > 2.4
    assert obs[1] > previous[1]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    fresh, _ = env.reset()
    assert np.all(np.abs(fresh) <= 0.05)


def test_truncation_is_reported():
    env = LeraxToGymEnv(lerax.env.make("Pendulum-v1", max_episode_steps=7))
    env.reset(seed=0)
    flags = [env.step(np.zeros(1, np.float32))[2:4] for _ in range(7)]
    assert flags == [(False, False)] * 6 + [(False, True)]


def test_render_rgb_array():
    pytest.importorskip("lerax.render")
    env = LeraxToGymEnv(lerax.env.make("CartPole-v1"), render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.std() > 0
    for _ in range(5):
        env.step(1)
    assert not np.array_equal(env.render(), frame)


def _gym_metadata(env_id):
    env = gymnasium.make(env_id)
    env.close()
    return env.metadata


@pytest.mark.parametrize("env_id", [*IDS, "HalfCheetah-v5", "Hopper-v5"])
@pytest.mark.filterwarnings("ignore:.*is deprecated:UserWarning")
def test_metadata_render_fps_is_the_envs(env_id):
    if env_id.endswith("-v5"):
        pytest.importorskip("mujoco.mjx")
    env = LeraxToGymEnv(lerax.env.make(env_id))
    expected = _gym_metadata(env_id)["render_fps"]
    assert env.metadata["render_fps"] == expected == env.env.render_fps
    assert env.metadata["render_modes"] == ["rgb_array"]
    # per instance: the class's dict is left as it is
    assert env.metadata is not LeraxToGymEnv.metadata
    assert LeraxToGymEnv.metadata == {"render_modes": ["rgb_array"]}


def test_metadata_of_each_instance_is_its_own():
    cartpole = LeraxToGymEnv(lerax.env.make("CartPole-v1"))
    acrobot = LeraxToGymEnv(lerax.env.make("Acrobot-v1"))
    assert (cartpole.metadata["render_fps"], acrobot.metadata["render_fps"]) == (50, 15)
    cartpole.metadata["render_modes"].append("mine")
    assert acrobot.metadata["render_modes"] == ["rgb_array"]
    assert LeraxToGymEnv.metadata == {"render_modes": ["rgb_array"]}


def test_metadata_of_an_env_without_a_rate_leaves_it_out():
    env = LeraxToGymEnv(TimeLimit(MaskedMatch(), 5))
    assert MaskedMatch().render_fps is None
    assert "render_fps" not in env.metadata  # Gymnasium's "not declared"


def test_gymnasiums_render_checker_finds_the_rate():
    from gymnasium.utils.passive_env_checker import env_render_passive_checker

    pytest.importorskip("lerax.render")
    env = LeraxToGymEnv(lerax.env.make("Pendulum-v1"), render_mode="rgb_array")
    env.reset(seed=0)  # the checker draws a frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "No render fps was declared"
        env_render_passive_checker(env)


def test_bad_arguments():
    with pytest.raises(ValueError, match="render_mode"):
        LeraxToGymEnv(lerax.env.make("CartPole-v1"), render_mode="human")
    with pytest.raises(TypeError, match="lerax env"):
        LeraxToGymEnv(gymnasium.make("CartPole-v1"))
    env = LeraxToGymEnv(lerax.env.make("CartPole-v1"))
    assert env.render() is None
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in the action space"):
        env.step(5)
    # not truncated into the space: 1.7 is not action 1, 1e10 does not wrap
    for action in (1.7, 0.99, -0.5, 1e10, np.array([1])):
        with pytest.raises(ValueError, match=re.escape(f"action {action!r} is not")):
            env.step(action)
    env.step(np.int64(1))
    box = LeraxToGymEnv(lerax.env.make("Pendulum-v1"))
    box.reset(seed=0)
    with pytest.raises(ValueError, match="not in the action space"):
        box.step(np.array([3.0]))
    box.step([1.5])  # lists and float64 are converted to the space's dtype


@pytest.mark.parametrize("env_id", IDS)
def test_random_rollout_matches_gymnasium(env_id):
    """Random actions through `LeraxToGymEnv` and Gymnasium's env from the
    same initial state agree step for step, time limits included.

    Gymnasium runs in float64 and lerax in float32, so before each step
    Gymnasium's physical state is set to ours (chaotic Acrobot would
    otherwise amplify rounding); every step is still compared on its own.
    """
    ours = LeraxToGymEnv(lerax.env.make(env_id))
    theirs = gymnasium.make(env_id)
    theirs.action_space.seed(0)
    steps = ends = 0
    for episode in range(2):
        obs, _ = ours.reset(seed=episode)
        theirs.reset(seed=episode)
        while True:
            physical = np.asarray(ours.state.unwrapped.y, np.float64)
            theirs.unwrapped.state = physical
            action = theirs.action_space.sample()
            obs, reward, terminated, truncated, _ = ours.step(action)
            g_obs, g_reward, g_terminated, g_truncated, _ = theirs.step(action)
            where = f"{env_id} episode {episode} step {steps}"
            np.testing.assert_allclose(obs, g_obs, rtol=1e-5, atol=1e-5, err_msg=where)
            np.testing.assert_allclose(reward, g_reward, rtol=1e-5, atol=1e-5)
            assert (terminated, truncated) == (g_terminated, g_truncated), where
            assert obs.dtype == theirs.observation_space.dtype
            steps += 1
            if terminated or truncated:
                ends += 1
                break
    assert ends == 2


def test_step_accepts_python_and_numpy_actions():
    env = LeraxToGymEnv(lerax.env.make("CartPole-v1"))
    env.reset(seed=0)
    for action in (0, np.int64(1), np.array(0), jnp.int32(1)):
        env.step(action)


def test_every_space_kind_passes_the_checker():
    env = LeraxToGymEnv(Composite())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    for _ in range(10):
        assert env.observation_space.contains(obs)
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()


def test_composite_actions_with_extra_items_are_refused():
    # Converting to the space's containers used to drop the extra items.
    env = LeraxToGymEnv(Composite())
    env.reset(seed=0)
    action = env.action_space.sample()
    for bad in (action + (1,), action[:3], list(action) + [1]):
        with pytest.raises(ValueError, match="is not in the action space"):
            env.step(bad)
    env.step(list(action))  # a list of the right length is converted
    keyed = LeraxToGymEnv(
        TransformAction(Counter(), lambda a: a["x"], Dict({"x": Box(-1.0, 1.0, (1,))}))
    )
    keyed.reset(seed=0)
    with pytest.raises(ValueError, match="is not in the action space"):
        keyed.step({"x": np.zeros(1, np.float32), "y": np.zeros(1, np.float32)})
    keyed.step({"x": np.zeros(1, np.float32)})
    pair = LeraxToGymEnv(
        TransformAction(Counter(), lambda a: jnp.zeros(1), Tuple([Discrete(2)] * 2))
    )
    pair.reset(seed=0)
    pair.step(np.array([1, 0]))  # an array, as Gymnasium's Tuple accepts
    with pytest.raises(ValueError, match="is not in the action space"):
        pair.step(np.array([1, 0, 1]))


@pytest.mark.parametrize(
    ("env_id", "action"),
    [
        ("CartPole-v1", None),
        ("CartPole-v1", "x"),
        ("Pendulum-v1", "a"),
        (None, None),
        (None, "x"),
        (None, {"a": 1}),
    ],
)
def test_malformed_actions_raise_the_documented_error(env_id, action):
    # Used to leak e.g. "'NoneType' object is not iterable" (a TypeError) or
    # "invalid literal for int()" from the conversion.
    env = LeraxToGymEnv(Composite() if env_id is None else lerax.env.make(env_id))
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=re.escape(f"action {action!r} is not in the action space")
    ):
        env.step(action)


def test_unseeded_reset_carries_wrapper_state_across_episodes():
    # `reset()` used to start every episode from `initial`, so the running
    # statistics of `NormalizeObservation` (which lerax's auto-reset keeps)
    # started afresh in each episode, e.g. under Stable-Baselines3.
    env = LeraxToGymEnv(NormalizeObservation(lerax.env.make("CartPole-v1")))
    env.reset(seed=0)
    observations = 1
    for _ in range(3):
        terminated = truncated = False
        while not (terminated or truncated):
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            observations += 1
        # until `reset`, the state is the finished episode's last one
        last = env.state
        assert bool(env.env.terminal(last, key=jax.random.key(0)))
        env.reset()
        observations += 1
        count = float(env.state.statistics.count)
        assert count == pytest.approx(observations, abs=1e-3)
    # a reset mid-episode (e.g. a second Stable-Baselines3 `learn`) too
    env.step(0)
    env.reset()
    observations += 2
    assert float(env.state.statistics.count) == pytest.approx(observations, abs=1e-3)
    env.reset(seed=0)  # a seeded reset starts afresh (and replays)
    assert float(env.state.statistics.count) == pytest.approx(1.0, abs=1e-3)


def test_reset_mid_episode_over_a_gymnasium_env_starts_from_initial():
    # An unseeded `reset()` mid-episode used to run `restart`, which
    # `GymToLeraxEnv` cannot do while its Gymnasium env is in an episode:
    # Gymnasium's Blackjack through it then raised on the next step, failing
    # Gymnasium's own checker.
    from lerax.compatibility import GymToLeraxEnv

    env = LeraxToGymEnv(GymToLeraxEnv(gymnasium.make("CartPole-v1")))
    env.reset(seed=0)
    env.step(0)
    observation, _ = env.reset()
    assert env.observation_space.contains(observation)
    env.step(1)
    blackjack = GymToLeraxEnv(gymnasium.make("Blackjack-v1"))
    check_env(LeraxToGymEnv(blackjack), skip_render_check=True)


def test_close_reaches_a_wrapped_gymnasium_env():
    # `close()` was Gymnasium's no-op, leaving the Gymnasium env of a
    # gym -> lerax -> gym round trip (and its windows or files) open.
    from lerax.compatibility import GymToLeraxEnv

    closed = []
    inner = gymnasium.make("CartPole-v1")
    inner.unwrapped.close = lambda: closed.append(True)
    env = LeraxToGymEnv(TimeLimit(GymToLeraxEnv(inner), 100))
    env.close()
    assert closed
    LeraxToGymEnv(lerax.env.make("CartPole-v1")).close()  # nothing to close


def test_adapters_given_a_class_say_to_create_an_instance():
    # An env class used to be reported by its metaclass ("got _ModuleMeta",
    # "got ABCMeta"), which says neither the problem nor the fix.
    import gymnax

    from lerax.compatibility import GymnaxToLeraxEnv, GymToLeraxEnv, LeraxToGymnaxEnv

    lerax_class = type(lerax.env.make("CartPole-v1").unwrapped)
    gym_class = type(gymnasium.make("CartPole-v1").unwrapped)
    gymnax_class = type(gymnax.make("CartPole-v1")[0])
    for adapter, cls in [
        (LeraxToGymEnv, lerax_class),
        (LeraxToGymnaxEnv, lerax_class),
        (GymToLeraxEnv, gym_class),
        (GymnaxToLeraxEnv, gymnax_class),
    ]:
        name = cls.__name__
        with pytest.raises(TypeError, match=rf"the class {name} itself.*`{name}\("):
            adapter(cls)


def test_observations_are_writable_like_gymnasiums():
    # Observations used to be read-only NumPy views of JAX arrays, so
    # in-place updates (`obs /= scale`) failed and `torch.from_numpy` warned,
    # unlike with Gymnasium's own envs.
    from lerax.compatibility import to_gym_value

    env = LeraxToGymEnv(Composite())
    observation, _ = env.reset(seed=0)
    observation, *_ = env.step(env.action_space.sample())
    leaves = jax.tree.leaves(observation)
    leaves += jax.tree.leaves(env.reset()[0])
    space = Box(0.0, 1.0, (2,))
    leaves.append(to_gym_value(space, jnp.zeros(2)))
    assert all(np.asarray(leaf).flags.writeable for leaf in leaves if np.ndim(leaf))
    native, _ = LeraxToGymEnv(lerax.env.make("CartPole-v1")).reset(seed=0)
    native *= 2.0
