"""Curricula: training callbacks that change env constants as training goes.

`ScheduledCurriculum` follows a schedule of the iteration count
(`linear_schedule`, `step_schedule`, `cosine_schedule`); `LevelCurriculum`
advances through levels when a smoothed metric of completed episodes passes
a threshold. Pass one (or a list) as `callback=` to `train`/`learn`.
"""

from ._base import AbstractAdaptiveCurriculum as AbstractAdaptiveCurriculum
from ._base import AdaptiveCurriculumState as AdaptiveCurriculumState
from ._level import LevelCurriculum as LevelCurriculum
from ._schedule import CosineSchedule as CosineSchedule
from ._schedule import LinearSchedule as LinearSchedule
from ._schedule import StepSchedule as StepSchedule
from ._schedule import cosine_schedule as cosine_schedule
from ._schedule import linear_schedule as linear_schedule
from ._schedule import step_schedule as step_schedule
from ._scheduled import ScheduledCurriculum as ScheduledCurriculum
