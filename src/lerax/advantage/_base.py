"""`AbstractAdvantageEstimator`: rewards and values in, advantages and returns out."""

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float


class AbstractAdvantageEstimator(eqx.Module):
    """Turns one rollout segment into advantages and value targets.

    Inputs are time-major along the first axis (extra trailing axes, e.g.
    parallel envs, are carried along). `dones[t]` means the episode ended at
    step `t`, so nothing after it is bootstrapped into step `t`. Time-limit
    truncation must be folded in by the caller: add
    `gamma * V(final_observation)` to that step's reward and pass the step
    as done. Passing a truncated step as not done is wrong, not an
    approximation: the next entry in the segment belongs to the new episode,
    so step `t` would be bootstrapped from the reset observation's value,
    and the lambda-weighted sum would carry the new episode's advantages
    back across the boundary.

    Inputs are checked when traced (shapes and dtypes are static, so the
    checks cost nothing in compiled code): `rewards`, `values` and `dones`
    must share one shape `(T, *batch)`, `last_value` must have shape
    `batch`, `dones` must be bool (or integer 0/1), and `rewards`, `values`
    and `last_value` must be floating point: integer rewards are refused
    rather than cast, so that swapped arguments (e.g. `dones` passed as
    `rewards`) are caught; cast them with `jnp.asarray(rewards, float)`.

    Attributes:
        gamma: Discount factor.
    """

    gamma: eqx.AbstractVar[float]

    @abc.abstractmethod
    def __call__(
        self,
        rewards: Float[Array, " T *batch"],
        values: Float[Array, " T *batch"],
        dones: Bool[Array, " T *batch"],
        last_value: Float[Array, " *batch"],
    ) -> tuple[Float[Array, " T *batch"], Float[Array, " T *batch"]]:
        """Returns `(advantages, returns)`, both shaped like `rewards`.

        Raises:
            ValueError: If the shapes do not match as described above.
            TypeError: If a dtype is not as described above.
        """


def _shape_fix(name: str, expected: tuple, actual: tuple) -> str:
    """A hint for an argument given without its trailing batch axes."""
    missing = len(expected) - len(actual)
    if missing > 0 and expected[: len(actual)] == actual:
        return (
            f" To use the same `{name}` for every env, broadcast it explicitly: "
            f"`jnp.broadcast_to({name}.reshape({actual + (1,) * missing}), "
            f"{expected})`."
        )
    return ""


def check_segment(
    owner: str,
    rewards: Any,
    values: Any,
    dones: Any,
    last_value: Any,
    last_name: str = "last_value",
) -> tuple[Array, Array | None, Array, Array]:
    """Checks one time-major rollout segment at trace time and returns it as
    arrays, the floating ones in one dtype (`values` may be None, for
    functions that take no values).

    Shapes and dtypes are static under `jit`/`vmap`/`scan`, so this costs
    nothing at run time.

    Raises:
        ValueError: If `rewards` has no time axis, or `values`, `dones` or
            `last_value` (named `last_name`) do not have the shapes
            `(T, *batch)`, `(T, *batch)` and `batch` of `rewards`.
        TypeError: If `rewards`, `values` or the last value is not floating
            point, or `dones` is not bool or integer.
    """
    rewards = jnp.asarray(rewards)
    dones = jnp.asarray(dones)
    last_value = jnp.asarray(last_value)
    values = None if values is None else jnp.asarray(values)
    floats = {"rewards": rewards, "values": values, last_name: last_value}
    for name, array in floats.items():
        if array is not None and not jnp.issubdtype(array.dtype, jnp.floating):
            raise TypeError(
                f"`{owner}`: `{name}` must be floating point, got dtype "
                f"{array.dtype}. Cast it, e.g. `jnp.asarray({name}, jnp.float32)`"
                " (or check the argument order: rewards, values, dones, "
                f"{last_name})."
            )
    if not (dones.dtype == np.bool_ or jnp.issubdtype(dones.dtype, jnp.integer)):
        raise TypeError(
            f"`{owner}`: `dones` must be bool (or integer 0/1), got dtype "
            f"{dones.dtype}. Pass `dones.astype(bool)` (or check the argument "
            "order)."
        )
    if rewards.ndim == 0:
        raise ValueError(
            f"`{owner}`: `rewards` must be time-major with shape (T, *batch), "
            "got a scalar (shape ()). Add the time axis, e.g. `rewards[None]`."
        )
    expected = rewards.shape
    for name, array in (("values", values), ("dones", dones)):
        if array is not None and array.shape != expected:
            raise ValueError(
                f"`{owner}`: `{name}` must have the shape (T, *batch) of "
                f"`rewards`, {expected}, got {array.shape}."
                + (
                    _shape_fix(name, expected, array.shape)
                    or f" Pass one `{name}` entry per step and env, time-major, "
                    "for the same steps as `rewards`."
                )
            )
    if last_value.shape != expected[1:]:
        raise ValueError(
            f"`{owner}`: `{last_name}` must have the shape `batch` of `rewards` "
            f"(T, *batch) = {expected}, i.e. {expected[1:]} (one value per env, "
            f"no time axis), got {last_value.shape}. Pass the value of the "
            "observation after the last step only."
        )
    # one float dtype for the segment (a float16 last value with float32
    # rewards made the scan's carry change type)
    dtype = jnp.result_type(*(a for a in floats.values() if a is not None))
    rewards, last_value = rewards.astype(dtype), last_value.astype(dtype)
    values = None if values is None else values.astype(dtype)
    return rewards, values, dones, last_value
