"""Wrappers: environments built around other environments."""

from ._action import ClipAction as ClipAction
from ._action import RescaleAction as RescaleAction
from ._action import TransformAction as TransformAction
from ._base import AbstractActionWrapper as AbstractActionWrapper
from ._base import AbstractObservationWrapper as AbstractObservationWrapper
from ._base import AbstractPassThroughWrapper as AbstractPassThroughWrapper
from ._base import AbstractRewardWrapper as AbstractRewardWrapper
from ._base import AbstractStatefulWrapper as AbstractStatefulWrapper
from ._base import AbstractWrapper as AbstractWrapper
from ._base import AbstractWrapperState as AbstractWrapperState
from ._episode_statistics import EpisodeStatistics as EpisodeStatistics
from ._episode_statistics import EpisodeStatisticsState as EpisodeStatisticsState
from ._identity import Identity as Identity
from ._normalize import AbstractNormalizerState as AbstractNormalizerState
from ._normalize import NormalizeObservation as NormalizeObservation
from ._normalize import NormalizeObservationState as NormalizeObservationState
from ._normalize import NormalizeReward as NormalizeReward
from ._normalize import NormalizeRewardState as NormalizeRewardState
from ._observation import ClipObservation as ClipObservation
from ._observation import FlattenObservation as FlattenObservation
from ._observation import RescaleObservation as RescaleObservation
from ._observation import TransformObservation as TransformObservation
from ._replay import renormalize as renormalize
from ._replay import renormalizer as renormalizer
from ._replay import unnormalized as unnormalized
from ._replay import (
    unnormalized_observation_space as unnormalized_observation_space,
)
from ._reward import ClipReward as ClipReward
from ._reward import TransformReward as TransformReward
from ._running_statistics import RunningMeanStd as RunningMeanStd
from ._select import SelectObservation as SelectObservation
from ._sync import load_normalization as load_normalization
from ._sync import normalization_path as normalization_path
from ._sync import normalization_statistics as normalization_statistics
from ._sync import save_normalization as save_normalization
from ._sync import share_statistics as share_statistics
from ._sync import sync_normalization as sync_normalization
from ._time_limit import TimeLimit as TimeLimit
from ._time_limit import TimeLimitState as TimeLimitState
