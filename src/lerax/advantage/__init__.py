"""Advantage estimators: GAE, n-step and bootstrapped Monte-Carlo returns."""

from ._base import AbstractAdvantageEstimator as AbstractAdvantageEstimator
from ._gae import GAE as GAE
from ._returns import BootstrappedReturn as BootstrappedReturn
from ._returns import NStepReturn as NStepReturn
from ._returns import discounted_returns as discounted_returns
