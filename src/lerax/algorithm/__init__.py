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
