"""MuJoCo envs: spaces, options, reset distributions, registry, bad input,
and physics blow-ups in a batch. Only the last test compiles MJX physics."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
mujoco = pytest.importorskip("mujoco")

import lerax.env  # noqa: E402
import lerax.env.mujoco as mj  # noqa: E402
from lerax.env._base import check_action  # noqa: E402
from lerax.space import Box  # noqa: E402
from lerax.wrapper import TimeLimit  # noqa: E402

from .test_gymnasium_oracle import (  # noqa: E402
    CASES,
    Case,
    gym_env,
    task_logic_on_gymnasium_states,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*is deprecated:UserWarning",
    "ignore:.*np.bool8.*:DeprecationWarning",
)

LIMITS = {"Pusher": 100, "Reacher": 50}


def assert_box_equal(ours: Box, theirs) -> None:
    assert isinstance(ours, Box)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.low, theirs.low.astype(np.float32))
    np.testing.assert_array_equal(ours.high, theirs.high.astype(np.float32))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_spaces_and_registration_match_gymnasium(case: Case):
    env = lerax.env.make(case.id)
    assert isinstance(env, TimeLimit)
    assert env.max_episode_steps == LIMITS.get(case.name, 1000)
    assert env.max_episode_steps == gymnasium.spec(case.id).max_episode_steps
    theirs = gym_env(case)
    assert_box_equal(env.action_space, theirs.action_space)
    assert_box_equal(env.observation_space, theirs.observation_space)
    assert env.unwrapped.dt == pytest.approx(theirs.dt)


OPTIONS = [
    ("Ant", {"exclude_current_positions_from_observation": False}),
    ("Ant", {"include_cfrc_ext_in_observation": False}),
    ("HalfCheetah", {"exclude_current_positions_from_observation": False}),
    ("Hopper", {"exclude_current_positions_from_observation": False}),
    ("Walker2d", {"exclude_current_positions_from_observation": False}),
    ("Swimmer", {"exclude_current_positions_from_observation": False}),
    ("Humanoid", {"include_cinert_in_observation": False}),
    ("Humanoid", {"include_cvel_in_observation": False}),
    ("Humanoid", {"include_qfrc_actuator_in_observation": False}),
    ("Humanoid", {"include_cfrc_ext_in_observation": False}),
    (
        "HumanoidStandup",
        {
            "exclude_current_positions_from_observation": False,
            "include_cinert_in_observation": False,
        },
    ),
]


@pytest.mark.parametrize("name, kwargs", OPTIONS)
def test_observation_options_match_gymnasium(name, kwargs):
    ours = getattr(mj, name)(**kwargs)
    theirs = gymnasium.make(f"{name}-v5", **kwargs).unwrapped
    assert ours.observation_space.shape == theirs.observation_space.shape


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reset_distribution_matches_gymnasium(case: Case):
    assert_reset_distribution(getattr(mj, case.name)(), gym_env(case), 2000)


def assert_reset_distribution(env, theirs, n):
    """Our `initial_qpos_qvel` over `n` keys against Gymnasium's resets over
    `n` seeds: per-component means and variances."""
    qpos, qvel = jax.jit(jax.vmap(lambda k: env.initial_qpos_qvel(key=k)))(
        jr.split(jr.key(0), n)
    )
    samples = []
    for seed in range(n):
        theirs.reset(seed=seed)
        samples.append((theirs.data.qpos.copy(), theirs.data.qvel.copy()))
    for ours, ref in ((qpos, [s[0] for s in samples]), (qvel, [s[1] for s in samples])):
        ours, ref = np.asarray(ours, np.float64), np.stack(ref)
        std = np.sqrt(ref.var(0) + ours.var(0)) / np.sqrt(n)
        np.testing.assert_allclose(ours.mean(0), ref.mean(0), atol=5 * std.max() + 1e-6)
        # variance: relative standard error sqrt(2 / n) per side
        np.testing.assert_allclose(ours.var(0), ref.var(0), rtol=0.25, atol=1e-7)


# Every v5 option that changes the task, away from its default (Walker2d's
# `terminate_when_unhealthy` aside: its narrow healthy range then ends the
# episode), on each env that has it: weights, ranges, switches, the tracked
# body, `frame_skip` (HalfCheetah) and the reset noise.
NON_DEFAULT = {
    "Ant": dict(
        forward_reward_weight=2.0,
        ctrl_cost_weight=0.3,
        contact_cost_weight=1e-2,
        healthy_reward=0.5,
        main_body="torso",
        terminate_when_unhealthy=False,
        healthy_z_range=(0.3, 0.9),
        contact_force_range=(-0.5, 2.0),
        exclude_current_positions_from_observation=False,
        include_cfrc_ext_in_observation=False,
        reset_noise_scale=0.2,
    ),
    "HalfCheetah": dict(
        frame_skip=3,
        forward_reward_weight=2.0,
        ctrl_cost_weight=0.3,
        exclude_current_positions_from_observation=False,
        reset_noise_scale=0.2,
    ),
    "Hopper": dict(
        forward_reward_weight=2.0,
        ctrl_cost_weight=0.3,
        healthy_reward=0.5,
        terminate_when_unhealthy=False,
        healthy_state_range=(-5.0, 5.0),
        healthy_z_range=(1.0, 1.5),
        healthy_angle_range=(-0.1, 0.1),
        exclude_current_positions_from_observation=False,
        reset_noise_scale=0.1,
    ),
    "Walker2d": dict(
        forward_reward_weight=2.0,
        ctrl_cost_weight=0.3,
        healthy_reward=0.5,
        terminate_when_unhealthy=True,
        healthy_z_range=(1.2, 1.5),
        healthy_angle_range=(-0.5, 0.5),
        exclude_current_positions_from_observation=False,
        reset_noise_scale=0.1,
    ),
    "Swimmer": dict(
        forward_reward_weight=2.0,
        ctrl_cost_weight=0.3,
        exclude_current_positions_from_observation=False,
        reset_noise_scale=0.2,
    ),
    "Reacher": dict(reward_dist_weight=2.0, reward_control_weight=0.3),
    "Pusher": dict(
        reward_near_weight=2.0, reward_dist_weight=0.3, reward_control_weight=0.7
    ),
    "InvertedPendulum": dict(reset_noise_scale=0.1),
    "InvertedDoublePendulum": dict(healthy_reward=3.0, reset_noise_scale=0.2),
    "Humanoid": dict(
        forward_reward_weight=2.0,
        ctrl_cost_weight=0.3,
        contact_cost_weight=1e-3,
        contact_cost_range=(0.1, 5.0),
        healthy_reward=0.5,
        terminate_when_unhealthy=False,
        healthy_z_range=(1.1, 1.5),
        exclude_current_positions_from_observation=False,
        include_cinert_in_observation=False,
        include_cvel_in_observation=False,
        include_qfrc_actuator_in_observation=False,
        reset_noise_scale=0.05,
    ),
    "HumanoidStandup": dict(
        uph_cost_weight=2.0,
        ctrl_cost_weight=0.3,
        impact_cost_weight=1e-3,
        impact_cost_range=(0.1, 5.0),
        exclude_current_positions_from_observation=False,
        include_cvel_in_observation=False,
        include_qfrc_actuator_in_observation=False,
        include_cfrc_ext_in_observation=False,
        reset_noise_scale=0.05,
    ),
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_non_default_options_match_gymnasium(case: Case):
    """Our task logic (observation, reward and its terms, termination, info)
    with `NON_DEFAULT` options, on the states of Gymnasium's env built with
    the same options (no MJX physics compiled), under actions up to 1.5 times
    the action box (the costs read the action as given); then the reset
    distribution under the option's noise scale."""
    kwargs = NON_DEFAULT[case.name]
    ours = getattr(mj, case.name)(**kwargs)
    theirs = gym_env(case, **kwargs)
    assert ours.observation_space.shape == theirs.observation_space.shape
    outputs = task_logic_on_gymnasium_states(ours, theirs, 20, action_scale=1.5)
    if case.name == "Walker2d":  # the narrow healthy range ends it early
        assert outputs[-1][2] and len(outputs) < 20
    if "reset_noise_scale" in kwargs:
        assert_reset_distribution(ours, theirs, 500)


def test_unknown_xml_file_names_the_bundled_ones():
    with pytest.raises(FileNotFoundError, match="ant.xml"):
        mj.Ant(xml_file="no_such_model.xml")
    with pytest.raises(FileNotFoundError, match="no such file"):
        mj.Hopper(xml_file="./missing/hopper.xml")


def test_bad_options_raise():
    with pytest.raises(ValueError, match="frame_skip"):
        mj.HalfCheetah(frame_skip=0)
    with pytest.raises(ValueError, match="healthy_z_range"):
        mj.Hopper(healthy_z_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="no body 'nose'"):
        mj.Ant(main_body="nose")


def test_user_xml_file(tmp_path):
    spec = mujoco.MjSpec.from_file(f"{mj._model.asset_dir()}/inverted_pendulum.xml")
    spec.option.timestep = 0.01
    path = tmp_path / "pendulum.xml"
    path.write_text(spec.to_xml())
    env = mj.InvertedPendulum(xml_file=str(path))
    assert env.dt == pytest.approx(0.02)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="CPU-only choice")
def test_cpu_mass_matrix_is_sparse_unless_the_xml_asks_for_dense(tmp_path):
    # Dense `M` is factorized by jaxlib's batched LAPACK Cholesky, which can
    # deadlock XLA's CPU thread pool at ~1000 vmapped envs (see `put_model`).
    sparse = mujoco.mjtJacobian.mjJAC_SPARSE
    env = mj.HalfCheetah()
    assert env.model.opt.jacobian == sparse
    assert env.mj_model.opt.jacobian == mujoco.mjtJacobian.mjJAC_AUTO
    spec = mujoco.MjSpec.from_file(f"{mj._model.asset_dir()}/inverted_pendulum.xml")
    spec.option.jacobian = mujoco.mjtJacobian.mjJAC_DENSE
    path = tmp_path / "pendulum.xml"
    path.write_text(spec.to_xml())
    dense = mj.InvertedPendulum(xml_file=str(path))
    assert dense.model.opt.jacobian == mujoco.mjtJacobian.mjJAC_DENSE


@pytest.fixture(scope="module")
def pendulum_batch():
    """Three InvertedPendulum states (one compiled reset shared by the tests)."""
    env = mj.InvertedPendulum()
    keys = jr.split(jr.key(0), 3)
    states, _, _ = jax.jit(jax.vmap(lambda k: env.reset(key=k)))(keys)
    return env, keys, states


def test_wrong_action_size_and_nan_actions_raise(pendulum_batch):
    env, keys, states = pendulum_batch
    state = jax.tree.map(lambda x: x[0], states)
    with pytest.raises(ValueError, match="not an element of the action space"):
        env.step(state, jnp.zeros(3), key=keys[0])
    checked = jax.jit(lambda a: check_action(env.action_space, a))
    with pytest.raises(Exception, match="outside the action space"):
        jax.block_until_ready(checked(jnp.array([jnp.nan])))


@pytest.mark.slow(20)
def test_blow_up_terminates_and_does_not_poison_the_batch(pendulum_batch):
    env, keys, states = pendulum_batch
    bad = type(states)(states.data.replace(qvel=states.data.qvel.at[1].set(jnp.nan)))
    step = jax.jit(jax.vmap(lambda s, a, k: env.step(s, a, key=k, check=False)))
    actions = jnp.zeros((3, 1))
    clean = step(states, actions, keys)
    dirty = step(bad, actions, keys)
    state, obs, reward, terminated, truncated, info = dirty
    assert bool(terminated[1]) and bool(info["diverged"][1])
    assert not bool(jnp.any(info["diverged"][jnp.array([0, 2])]))
    for leaf in jax.tree.leaves((state, obs, reward, info)):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            assert bool(jnp.all(jnp.isfinite(leaf)))
    for ours, ref in zip(jax.tree.leaves(dirty), jax.tree.leaves(clean)):
        np.testing.assert_array_equal(np.asarray(ours)[0], np.asarray(ref)[0])
        np.testing.assert_array_equal(np.asarray(ours)[2], np.asarray(ref)[2])
