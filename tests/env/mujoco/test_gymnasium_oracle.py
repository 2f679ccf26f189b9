"""Lockstep oracle: our MJX envs against Gymnasium's v5 envs (C MuJoCo).

Both sides start from the same `qpos`/`qvel` (our `initial` state, written
into Gymnasium with `set_state`), take the same random actions for `STEPS`
steps, and must agree on observations, rewards, reward terms in `info` and
termination. The tasks with contacts start from that state after C's
forward pass rather than ours (which would be ~30% of their compiled
program); the contact-free tasks check our `initial`'s forward pass.

Tolerances, and why:
- Contact-free tasks (InvertedPendulum, InvertedDoublePendulum, Reacher,
  Swimmer) run the same model: the only difference is float32 (MJX, no x64)
  against float64 (C). Measured errors are ~1e-6; we allow
  `atol = rtol = 1e-3` (drift over 20 steps of RK4).
- Tasks with contacts use a variant of Gymnasium's XML with elliptic friction
  cones on *both* sides. With the default pyramidal cones the two engines
  solve different problems: for a plane contact MJX uses a fixed tangent
  frame while C MuJoCo derives it from the geometry, and a friction pyramid's
  orientation changes the contact force (measured on Ant: same state, same
  contact, normal force 2.2 vs 3.8 N, with x64 too, and with matching
  mujoco/mujoco-mjx 3.17). Elliptic cones are invariant to that rotation, so
  the rest of the pipeline (dynamics, task logic) is tested exactly. Contact
  solves agree to ~1e-3 relative per substep (float32, solver tolerance) and
  the error grows with each impact, so these get `rtol = 0.05` plus an
  absolute tolerance of 5% of the observation's scale, over 10 steps.
- MJX has no frictionless (`condim=1`) geoms with elliptic cones, so those
  geoms get `condim=3` in the variant (their contacts with the floor already
  have 3: a contact takes the larger condim).
- Humanoid's XML asks for PGS, which MJX lacks; both sides run Newton.

Humanoid and HumanoidStandup are checked differently: their MJX step alone
compiles for more than a minute of CPU here, and their physics path (ctrl,
`frame_skip` steps, the post-constraint pass) is the one the other contact
tasks check in lockstep. For them Gymnasium steps, and our observation,
reward, reward terms and termination are computed on each of C's states
(moved to MJX with `put_data`): the task logic gets a tight tolerance
(float32 against float64), over enough steps for Humanoid to fall, and the
model (sizes, timestep, masses, `frame_skip`) is compared field by field.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
mujoco = pytest.importorskip("mujoco")

import lerax.env.mujoco as mj  # noqa: E402
from lerax.env.mujoco._base import MujocoState  # noqa: E402
from lerax.env.mujoco._model import asset_dir, mujoco_modules  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*is deprecated:UserWarning",
    "ignore:.*np.bool8.*:DeprecationWarning",
)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    xml: str
    contacts: bool
    seconds: float  # time in the suite (pytest.mark.slow: longest first)
    lockstep: bool = True  # else: our task logic on C's states

    @property
    def id(self) -> str:
        return f"{self.name}-v5"


CASES = [
    Case("InvertedPendulum", "inverted_pendulum.xml", False, 12),
    Case("InvertedDoublePendulum", "inverted_double_pendulum.xml", False, 17),
    Case("Reacher", "reacher.xml", False, 14),
    Case("Swimmer", "swimmer.xml", False, 16),
    Case("Pusher", "pusher_v5.xml", True, 23),
    Case("HalfCheetah", "half_cheetah.xml", True, 14),
    Case("Hopper", "hopper.xml", True, 26),
    Case("Walker2d", "walker2d_v5.xml", True, 28),
    Case("Ant", "ant.xml", True, 35),
    Case("Humanoid", "humanoid.xml", True, 8, lockstep=False),
    Case("HumanoidStandup", "humanoidstandup.xml", True, 8, lockstep=False),
]
LOCKSTEP = [c for c in CASES if c.lockstep]
TASK_ONLY = [c for c in CASES if not c.lockstep]


# XLA's optimisations cost more CPU time than 20 steps save: no LLVM
# optimisation, and none of the HLO simplification passes that dominate the
# compilation of MJX's large programs (Humanoid: 36 s -> 23 s). These passes
# only optimise; the program computes the same function without them.
FAST_COMPILE = {
    "xla_backend_optimization_level": 0,
    "xla_disable_hlo_passes": ",".join(
        [
            "while-loop-invariant-code-motion",
            "while-loop-constant-sinking",
            "while-loop-simplifier",
            "tuple-simplifier",
            "algsimp",
            "conditional-simplifier",
            "reshape-mover",
            "zero_sized_hlo_elimination",
        ]
    ),
}


def elliptic_xml(case: Case, tmp_path) -> str:
    spec = mujoco.MjSpec.from_file(f"{asset_dir()}/{case.xml}")
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    for geom in spec.geoms:  # MJX has no frictionless contacts with elliptic cones
        if geom.condim == 1:
            geom.condim = 3
    path = tmp_path / case.xml
    path.write_text(spec.to_xml())
    return str(path)


def gym_env(case: Case, **kwargs: Any):
    env = gymnasium.make(case.id, **kwargs).unwrapped
    if env.model.opt.solver == mujoco.mjtSolver.mjSOL_PGS:
        env.model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    return env


def rollout(env, key, actions, start=None):
    """Our `initial` state (or, given `start` MJX data, that state) and
    `STEPS` steps of observations, rewards, ..."""

    def body(state, action):
        next_state = env.transition(state, action, key=key)
        out = (
            env.observation(next_state, key=key),
            env.reward(state, action, next_state, key=key),
            env.terminal(next_state, key=key),
            env.transition_info(state, action, next_state),
        )
        return next_state, out

    state = env.initial(key=key) if start is None else MujocoState(start)
    first = (state.data.qpos, state.data.qvel, env.observation(state, key=key))
    return first, jax.lax.scan(body, state, actions)[1], env.state_info(state)


def forwarded_by_c(env, qpos, qvel):
    """MJX data of the state `qpos`, `qvel` after C MuJoCo's forward pass (as
    Gymnasium's `set_state` leaves it)."""
    data = mujoco.MjData(env.mj_model)
    data.qpos[:], data.qvel[:] = qpos, qvel
    mujoco.mj_forward(env.mj_model, data)
    return mjx_data_of(env, data)


def mjx_data_of(env, data):
    """C MuJoCo's `data` (every derived quantity as C left it) as MJX data
    laid out for our model."""
    _, mjx = mujoco_modules()
    put, made = mjx.put_data(env.mj_model, data), mjx.make_data(env.model)
    # `put_data` lays the mass matrix out densely where our model's is
    # sparse; those fields are recomputed by the first step's forward pass
    # and read by no observation, so they keep `make_data`'s layout
    return jax.tree.map(
        lambda m, p: p if (m.shape, m.dtype) == (p.shape, p.dtype) else m, made, put
    )


def close(ours, theirs, rtol, atol, what):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)


def cases(selected):
    return [
        pytest.param(c, id=c.name, marks=pytest.mark.slow(c.seconds)) for c in selected
    ]


@pytest.mark.parametrize("case", cases(LOCKSTEP))
def test_lockstep_with_gymnasium(case: Case, tmp_path):
    kwargs = {"xml_file": elliptic_xml(case, tmp_path)} if case.contacts else {}
    steps = 10 if case.contacts else 20
    ours = getattr(mj, case.name)(**kwargs)
    theirs = gym_env(case, **kwargs)
    rng = np.random.default_rng(0)
    space = theirs.action_space
    actions = rng.uniform(space.low, space.high, (steps, *space.shape))
    actions = actions.astype(np.float32)
    start = None
    if case.contacts:
        # These models' forward pass is ~30% of the compiled program (Humanoid:
        # ~15 s of CPU): start from our initial positions and velocities after
        # C's forward pass instead of ours. `set_state`'s forward pass, shared
        # by every env, stays checked by the contact-free cases.
        qpos, qvel = (np.asarray(x) for x in ours.initial_qpos_qvel(key=jr.key(0)))
        start = forwarded_by_c(ours, qpos, qvel)
    compiled = jax.jit(
        lambda key, actions, start: rollout(ours, key, actions, start),
        compiler_options=FAST_COMPILE,
    )
    (qpos, qvel, obs0), (obs, rewards, terminals, infos), reset_info = compiled(
        jr.key(0), jnp.asarray(actions), start
    )

    theirs.reset(seed=0)
    theirs.set_state(np.asarray(qpos, np.float64), np.asarray(qvel, np.float64))
    # the forward pass ran after `initial`: derived quantities are valid
    close(obs0, theirs._get_obs(), 1e-5, 1e-5, "reset observation")
    if hasattr(theirs, "_get_reset_info"):
        for name, value in theirs._get_reset_info().items():
            close(reset_info[name], value, 1e-5, 1e-5, f"reset info {name}")

    rtol = 0.05 if case.contacts else 1e-3
    for t in range(steps):
        obs_t, reward, terminated, _, info = theirs.step(actions[t])
        atol = 0.05 * (1.0 + np.abs(obs_t).max()) if case.contacts else 1e-3
        close(obs[t], obs_t, rtol, atol, f"observation at step {t}")
        close(rewards[t], reward, rtol, atol, f"reward at step {t}")
        assert bool(terminals[t]) == bool(terminated), t
        for name, value in info.items():
            close(infos[name][t], value, rtol, atol, f"info[{name!r}] at step {t}")
        assert set(infos) == set(info) | {"diverged"}
        assert not bool(infos["diverged"][t])
        if terminated:
            break


TASK_STEPS = 60


@pytest.mark.parametrize("case", cases(TASK_ONLY))
def test_task_logic_on_gymnasium_states(case: Case):
    ours = getattr(mj, case.name)()
    theirs = gym_env(case)
    model, theirs_model = ours.mj_model, theirs.model
    assert ours.frame_skip == theirs.frame_skip
    for field in ("nq", "nv", "nu", "nbody", "ngeom"):
        assert getattr(model, field) == getattr(theirs_model, field), field
    assert model.opt.timestep == theirs_model.opt.timestep
    for field in ("body_mass", "actuator_gear", "actuator_ctrlrange", "qpos0"):
        np.testing.assert_allclose(
            getattr(model, field), getattr(theirs_model, field), err_msg=field
        )

    outputs = task_logic_on_gymnasium_states(ours, theirs, TASK_STEPS)
    if case.name == "Humanoid":  # random actions topple it: termination checked
        assert outputs[-1][2], "the humanoid should have fallen within the steps"


def task_logic_on_gymnasium_states(ours, theirs, steps, action_scale=1.0):
    """Steps Gymnasium's env `theirs` with random actions (`action_scale`
    times its action box, so beyond it for a scale > 1) until it terminates
    or `steps` steps, and checks our observation, reward, termination and
    info on each of its states (moved to MJX with `put_data`): no MJX physics
    is compiled. Returns Gymnasium's `(obs, reward, terminated, truncated,
    info)` of each step."""
    # Gymnasium's infos hold live views of its data (`ten_length`): copied
    copied = lambda info: {k: np.array(v) for k, v in info.items()}  # noqa: E731
    first_obs, reset_info = theirs.reset(seed=0)
    reset_info = copied(reset_info)
    states, actions, outputs = [mjx_data_of(ours, theirs.data)], [], []
    rng = np.random.default_rng(0)
    space = theirs.action_space
    for _ in range(steps):
        action = rng.uniform(
            action_scale * space.low, action_scale * space.high
        ).astype(np.float32)
        obs_t, reward, terminated, truncated, info = theirs.step(action)
        outputs.append((obs_t, reward, terminated, truncated, copied(info)))
        actions.append(action)
        states.append(mjx_data_of(ours, theirs.data))
        if outputs[-1][2]:
            break
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *states)

    @jax.jit
    def task(stacked, actions):
        before = jax.tree.map(lambda x: x[:-1], stacked)
        after = jax.tree.map(lambda x: x[1:], stacked)
        key = jr.key(0)

        def one(data, action, next_data):
            state, next_state = MujocoState(data), MujocoState(next_data)
            return (
                ours.observation(next_state, key=key),
                ours.reward(state, action, next_state, key=key),
                ours.terminal(next_state, key=key),
                ours.transition_info(state, action, next_state),
            )

        first = jax.tree.map(lambda x: x[0], stacked)
        start = (
            ours.observation(MujocoState(first), key=key),
            ours.state_info(MujocoState(first)),
        )
        return start, jax.vmap(one)(before, jnp.stack(actions), after)

    (obs0, info0), (obs, rewards, terminals, infos) = task(stacked, actions)
    tight = dict(rtol=1e-4, atol=1e-4)
    close(obs0, first_obs, **tight, what="reset observation")
    for name, value in reset_info.items():
        close(info0[name], value, **tight, what=f"reset info {name}")
    for t, (obs_t, reward, terminated, _, info) in enumerate(outputs):
        scale = 1.0 + np.abs(obs_t).max()
        close(obs[t], obs_t, 1e-4, 1e-4 * scale, f"observation at step {t}")
        close(rewards[t], reward, **tight, what=f"reward at step {t}")
        assert bool(terminals[t]) == bool(terminated), t
        for name, value in info.items():
            close(infos[name][t], value, **tight, what=f"info[{name!r}] at step {t}")
        assert set(infos) == set(info) | {"diverged"}
    return outputs
