"""Spaces: the sets observations and actions live in."""

from ._base import AbstractSpace as AbstractSpace
from ._box import Box as Box
from ._dict import Dict as Dict
from ._discrete import Discrete as Discrete
from ._multi_binary import MultiBinary as MultiBinary
from ._multi_discrete import MultiDiscrete as MultiDiscrete
from ._tuple import Tuple as Tuple
