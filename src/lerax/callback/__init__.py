"""Callbacks: hooks the compiled training loop calls (progress, logging,
evaluation, checkpoints, early stopping, curricula)."""

from ._backend import AbstractLoggingBackend as AbstractLoggingBackend
from ._base import AbstractCallback as AbstractCallback
from ._base import AbstractCallbackState as AbstractCallbackState
from ._base import AbstractCallbackStepState as AbstractCallbackStepState
from ._base import (
    AbstractContinueTrainingCallback as AbstractContinueTrainingCallback,
)
from ._base import AbstractIterationCallback as AbstractIterationCallback
from ._base import AbstractStatelessCallback as AbstractStatelessCallback
from ._base import AbstractStepCallback as AbstractStepCallback
from ._base import AbstractTrainingCallback as AbstractTrainingCallback
from ._base import CallbackList as CallbackList
from ._base import EmptyCallback as EmptyCallback
from ._base import IterationContext as IterationContext
from ._base import ResetContext as ResetContext
from ._base import StepContext as StepContext
from ._base import TrainingContext as TrainingContext
from ._base import as_callback as as_callback
from ._checkpoint import CheckpointCallback as CheckpointCallback
from ._checkpoint import CheckpointError as CheckpointError
from ._checkpoint import latest_checkpoint as latest_checkpoint
from ._checkpoint import list_checkpoints as list_checkpoints
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import read_header as read_header
from ._checkpoint import save_checkpoint as save_checkpoint
from ._console import ConsoleBackend as ConsoleBackend
from ._episodes import EpisodeAccumulator as EpisodeAccumulator
from ._evaluation import EvalCallback as EvalCallback
from ._evaluation import EvalState as EvalState
from ._logging import LoggingCallback as LoggingCallback
from ._progress import ProgressBarCallback as ProgressBarCallback
from ._tensorboard import TensorBoardBackend as TensorBoardBackend
from ._wandb import WandbBackend as WandbBackend
