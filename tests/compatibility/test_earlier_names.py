"""Code written for the earlier lerax imports its names from ours.

The lists are the earlier package's exports (../shared/spec/upstream-reference.md);
`NOT_PROVIDED` names the few with no counterpart here, and why.
"""

import importlib

import jax
import jax.numpy as jnp
import pytest

import lerax.env
from lerax.algorithm import (
    DQN,
    PPO,
    SAC,
    AbstractAlgorithmState,
    AbstractStepState,
    DQNState,
    SACState,
    SoftQNetwork,
)
from lerax.buffer import AbstractBuffer, ReplayBuffer, RolloutBuffer
from lerax.callback import AbstractCallback, AbstractCallbackState
from lerax.policy import MLPActorCriticPolicy, MLPQPolicy, MLPSACPolicy
from lerax.render import BLUE, GRAY, GREEN, RED, WHITE, Abstract3DRenderer, Color
from lerax.space import Box

EARLIER_EXPORTS = {
    "lerax.space": "AbstractSpace Box Dict Discrete MultiBinary MultiDiscrete Tuple",
    "lerax.env": "AbstractEnvLike AbstractEnv AbstractEnvLikeState AbstractEnvState",
    "lerax.env.classic_control": (
        "Acrobot CartPole MountainCar ContinuousMountainCar Pendulum"
    ),
    "lerax.env.mujoco": (
        "AbstractMujocoEnv MujocoEnvState Ant HalfCheetah Hopper Humanoid "
        "HumanoidStandup InvertedDoublePendulum InvertedPendulum Pusher Reacher "
        "Swimmer Walker2d"
    ),
    "lerax.wrapper": (
        "AbstractWrapper AbstractWrapperState Identity TimeLimit TransformAction "
        "ClipAction RescaleAction ClipObservation FlattenObservation "
        "RescaleObservation TransformObservation ClipReward TransformReward"
    ),
    "lerax.policy": (
        "AbstractPolicy AbstractPolicyState AbstractActorCriticPolicy "
        "MLPActorCriticPolicy AbstractDeterministicPolicy MLPDeterministicPolicy "
        "AbstractQPolicy MLPQPolicy AbstractSACPolicy MLPDiscreteSACPolicy "
        "MLPSACPolicy"
    ),
    "lerax.distribution": (
        "AbstractDistribution AbstractDistreqxWrapper AbstractMaskableDistribution "
        "AbstractTransformedDistribution Bernoulli Categorical Normal "
        "MultivariateNormalDiag SquashedMultivariateNormalDiag SquashedNormal "
        "MultiCategorical"
    ),
    "lerax.algorithm": (
        "A2C AbstractAlgorithm AbstractAlgorithmState AbstractStepState DDPG "
        "DDPGState DQN DQNState PPO REINFORCE SAC SACDiscrete SACDiscreteState "
        "SACState SoftQNetwork TD3 TD3State"
    ),
    "lerax.buffer": "AbstractBuffer RolloutBuffer ReplayBuffer",
    "lerax.advantage": (
        "AbstractAdvantageEstimator BootstrappedReturn GAE NStepReturn "
        "discounted_returns"
    ),
    "lerax.target": "AbstractTargetUpdate HardUpdate SoftUpdate polyak_average",
    "lerax.utils": (
        "filter_cond filter_scan callback_wrapper callback_with_numpy_wrapper "
        "callback_with_list_wrapper print_callback unstack_pytree polyak_average "
        "Serializable"
    ),
    "lerax.callback": (
        "AbstractCallback AbstractCallbackState AbstractCallbackStepState "
        "AbstractContinueTrainingCallback AbstractIterationCallback "
        "AbstractLoggingBackend AbstractStatelessCallback AbstractStepCallback "
        "AbstractTrainingCallback CallbackList ConsoleBackend EmptyCallback "
        "IterationContext LoggingCallback LoggingCallbackStepState "
        "ProgressBarCallback ResetContext StepContext TensorBoardBackend "
        "TrainingContext WandbBackend"
    ),
    "lerax.curriculum": (
        "AbstractAdaptiveCurriculum AdaptiveCurriculumState "
        "AdaptiveCurriculumStepState LevelCurriculum ScheduledCurriculum "
        "cosine_schedule linear_schedule step_schedule"
    ),
    "lerax.render": (
        "AbstractRenderer Abstract2DRenderer Abstract3DRenderer Transform Color "
        "WHITE BLACK GRAY RED GREEN BLUE PygameRenderer HeadlessPygameRenderer "
        "VideoRenderer"
    ),
}

NOT_PROVIDED = {
    # our distributions are written directly, not wrappers of distreqx's
    "lerax.distribution": {
        "AbstractDistreqxWrapper",
        "AbstractTransformedDistribution",
    },
    # logging and curricula keep no per-env state here: the rollout collector
    # counts episodes once for every callback
    "lerax.callback": {"LoggingCallbackStepState"},
    "lerax.curriculum": {"AdaptiveCurriculumStepState"},
}


@pytest.mark.parametrize("module", sorted(EARLIER_EXPORTS))
def test_the_earlier_exports_import(module):
    if module == "lerax.env.mujoco":
        pytest.importorskip("mujoco")
    imported = importlib.import_module(module)
    skipped = NOT_PROVIDED.get(module, set())
    missing = [
        name
        for name in EARLIER_EXPORTS[module].split()
        if name not in skipped and not hasattr(imported, name)
    ]
    assert not missing, f"{module} lacks the earlier lerax's {missing}"
    # the exceptions are still absent: drop them here when they are added
    assert not [name for name in skipped if hasattr(imported, name)]


def test_state_names_are_the_training_states(getkey):
    env = lerax.env.make("CartPole-v1")
    state = DQN(buffer_size=64, learning_starts=32, batch_size=32).init(
        env, MLPQPolicy(env, key=getkey()), key=getkey()
    )
    assert isinstance(state, DQNState) and isinstance(state, AbstractAlgorithmState)
    assert isinstance(state.actors, AbstractStepState)
    pendulum = lerax.env.make("Pendulum-v1")
    sac = SAC(buffer_size=64, learning_starts=32, batch_size=32, q_width_size=8)
    state = sac.init(pendulum, MLPSACPolicy(pendulum, key=getkey()), key=getkey())
    assert isinstance(state, SACState)
    on_policy = PPO(num_steps=8, num_batches=1, num_epochs=1).init(
        env, MLPActorCriticPolicy(env, key=getkey()), key=getkey()
    )
    assert isinstance(on_policy, AbstractAlgorithmState)
    assert not isinstance(on_policy, DQNState)


def test_soft_q_network_is_a_state_action_critic(getkey):
    obs, act = Box(-1.0, 1.0, (3,)), Box(-2.0, 2.0, (2,))
    critic = SoftQNetwork(obs, act, width_size=16, depth=2, key=getkey())
    q = critic(jnp.ones(3), jnp.zeros(2))
    assert q.shape == () and jnp.isfinite(q)
    grads = jax.grad(lambda a: critic(jnp.ones(3), a))(jnp.zeros(2))
    assert grads.shape == (2,) and bool(jnp.any(grads != 0))


def test_both_buffers_are_abstract_buffers():
    assert issubclass(ReplayBuffer, AbstractBuffer)
    assert issubclass(RolloutBuffer, AbstractBuffer)
    with pytest.raises(TypeError):
        AbstractBuffer()  # abstract `sample`


class IterationCounter(AbstractCallbackState):
    iterations: jax.Array


class CountIterations(AbstractCallback):
    """A callback as written for the earlier lerax: its state class derives
    from `AbstractCallbackState`."""

    def reset(self, ctx, *, key):
        return IterationCounter(jnp.zeros((), jnp.int32))

    def on_iteration(self, ctx, *, key):
        return IterationCounter(ctx.callback_state.iterations + 1)


def test_a_callback_state_deriving_from_the_marker_base_trains(getkey):
    env = lerax.env.make("CartPole-v1")
    algo = PPO(num_envs=2, num_steps=16, num_epochs=1, num_batches=1)
    policy = MLPActorCriticPolicy(env, key=getkey())
    state = algo.init(env, policy, key=getkey(), callback=CountIterations())
    state, _ = algo.train(state, 3, callback=CountIterations())
    assert isinstance(state.callback_state, IterationCounter)
    assert int(state.callback_state.iterations) == 3


def test_colour_constants_and_the_3d_renderer_base():
    assert (WHITE, RED, GREEN, BLUE) == tuple(
        Color.of(h) for h in ("#ffffff", "#ff0000", "#00ff00", "#0000ff")
    )
    assert len(set(GRAY)) == 1 and 0 < GRAY.r < 255
    mujoco = pytest.importorskip("lerax.env.mujoco")
    assert issubclass(mujoco.MujocoRenderer, Abstract3DRenderer)


def test_mujoco_state_keeps_the_earlier_field_name():
    mujoco = pytest.importorskip("lerax.env.mujoco")
    data = {"qpos": jnp.zeros(2)}  # what the state holds is not looked at
    state = mujoco.MujocoEnvState(data)
    assert isinstance(state, mujoco.MujocoState)
    assert state.sim_state is state.data is data
