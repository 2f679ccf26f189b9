"""Training algorithms, each one compiled program."""

from ._a2c import A2C as A2C
from ._base import AbstractAlgorithm as AbstractAlgorithm
from ._base import AbstractTrainingState as AbstractTrainingState
from ._collector import ActorCarry as ActorCarry
from ._collector import Transition as Transition
from ._collector import collect as collect
from ._critics import QNetwork as QNetwork
from ._dqn import DQN as DQN
from ._evaluation import evaluate_policy as evaluate_policy
from ._off_policy import AbstractOffPolicyAlgorithm as AbstractOffPolicyAlgorithm
from ._off_policy import OffPolicyState as OffPolicyState
from ._on_policy import AbstractOnPolicyAlgorithm as AbstractOnPolicyAlgorithm
from ._on_policy import OnPolicyState as OnPolicyState
from ._ppo import PPO as PPO
from ._reinforce import REINFORCE as REINFORCE
from ._sac import SAC as SAC
from ._sac_discrete import SACDiscrete as SACDiscrete
from ._sharding import env_mesh as env_mesh
from ._sharding import seed_mesh as seed_mesh
from ._sharding import shard_seeds as shard_seeds
from ._sharding import shard_training_state as shard_training_state
from ._td3 import DDPG as DDPG
from ._td3 import TD3 as TD3

# The earlier lerax's names. Its per-algorithm state classes are one
# `OffPolicyState` here (the `learner` field holds what each algorithm
# trains), its per-env step state is `ActorCarry`, and its SAC critic is the
# `QNetwork` every continuous off-policy algorithm uses (built from spaces).
AbstractAlgorithmState = AbstractTrainingState
AbstractStepState = ActorCarry
DQNState = OffPolicyState
DDPGState = OffPolicyState
TD3State = OffPolicyState
SACState = OffPolicyState
SACDiscreteState = OffPolicyState
SoftQNetwork = QNetwork
