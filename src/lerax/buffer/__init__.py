"""Buffers: on-policy rollouts and off-policy replay."""

from ._base import AbstractBuffer as AbstractBuffer
from ._replay import ReplayBuffer as ReplayBuffer
from ._rollout import RolloutBuffer as RolloutBuffer
