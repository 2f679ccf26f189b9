"""Probability distributions for policies: exact, jittable Equinox modules."""

from ._base import (
    AbstractDistribution as AbstractDistribution,
)
from ._base import (
    AbstractMaskableDistribution as AbstractMaskableDistribution,
)
from ._bernoulli import Bernoulli as Bernoulli
from ._categorical import Categorical as Categorical
from ._multi_categorical import MultiCategorical as MultiCategorical
from ._multivariate_normal_diag import (
    MultivariateNormalDiag as MultivariateNormalDiag,
)
from ._normal import Normal as Normal
from ._squashed_multivariate_normal_diag import (
    SquashedMultivariateNormalDiag as SquashedMultivariateNormalDiag,
)
from ._squashed_normal import SquashedNormal as SquashedNormal
