"""Type aliases and type variables shared across lerax."""

from typing import Any, TypeVar

from jaxtyping import Array, ArrayLike, Bool, Float, Int, Key, PyTree

StateType = TypeVar("StateType")
ActType = TypeVar("ActType")
ObsType = TypeVar("ObsType")
MaskType = TypeVar("MaskType")
SampleType = TypeVar("SampleType")

FloatScalar = Float[Array, ""]
BoolScalar = Bool[Array, ""]
IntScalar = Int[Array, ""]
PRNGKey = Key[Array, ""]
FloatScalarLike = float | int | Float[ArrayLike, ""]
Info = dict[str, Any]

__all__ = [
    "ActType",
    "Array",
    "ArrayLike",
    "Bool",
    "BoolScalar",
    "Float",
    "FloatScalar",
    "FloatScalarLike",
    "Info",
    "Int",
    "IntScalar",
    "Key",
    "MaskType",
    "ObsType",
    "PRNGKey",
    "PyTree",
    "SampleType",
    "StateType",
]
