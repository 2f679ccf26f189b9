"""Buffers: on-policy rollouts and off-policy replay."""

from ._rollout import RolloutBuffer as RolloutBuffer
