"""Policies: map observations (and an internal state) to actions."""

from ._action_head import AbstractActionHead as AbstractActionHead
from ._action_head import BoxHead as BoxHead
from ._action_head import DiscreteHead as DiscreteHead
from ._action_head import MultiBinaryHead as MultiBinaryHead
from ._action_head import MultiDiscreteHead as MultiDiscreteHead
from ._action_head import make_action_head as make_action_head
from ._action_head import valid_action as valid_action
from ._actor_critic import AbstractActorCriticPolicy as AbstractActorCriticPolicy
from ._actor_critic import (
    AbstractFeatureActorCriticPolicy as AbstractFeatureActorCriticPolicy,
)
from ._actor_critic import MLPActorCriticPolicy as MLPActorCriticPolicy
from ._base import AbstractPolicy as AbstractPolicy
from ._base import AbstractPolicyState as AbstractPolicyState
from ._deterministic import AbstractDeterministicPolicy as AbstractDeterministicPolicy
from ._deterministic import MLPDeterministicPolicy as MLPDeterministicPolicy
from ._q import AbstractQPolicy as AbstractQPolicy
from ._q import MLPQPolicy as MLPQPolicy
from ._recurrent import RecurrentActorCriticPolicy as RecurrentActorCriticPolicy
from ._recurrent import RecurrentPolicyState as RecurrentPolicyState
from ._sac import AbstractDiscreteSACPolicy as AbstractDiscreteSACPolicy
from ._sac import AbstractSACPolicy as AbstractSACPolicy
from ._sac import MLPDiscreteSACPolicy as MLPDiscreteSACPolicy
from ._sac import MLPSACPolicy as MLPSACPolicy
