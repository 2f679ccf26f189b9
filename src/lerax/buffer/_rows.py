"""Row helpers of `ReplayBuffer`: allocation and the checks of `add`."""

from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from ..space import AbstractSpace
from ._base import as_count


def check_capacity(capacity: Any, argument: str) -> int:
    """`capacity` as a Python int if it is a positive Python or NumPy int,
    else a `ValueError` naming `argument` (as the caller wrote it)."""
    return as_count(capacity, argument, 1, meaning="the rows kept")


def empty_rows(
    capacity: int,
    observation_space: AbstractSpace,
    action_space: AbstractSpace,
    mask_example: Any,
    policy_state_example: Any,
) -> dict[str, Any]:
    """Zero-filled row fields of an empty `ReplayBuffer` (without its
    counters), keyed by field name."""

    def rows(example):
        return jax.tree.map(
            lambda x: jnp.zeros((capacity,) + jnp.shape(x), jnp.result_type(x)),
            example,
        )

    observation = observation_space.canonical()
    return dict(
        observations=rows(observation),
        actions=rows(action_space.canonical()),
        rewards=jnp.zeros((capacity,), jnp.float32),
        next_observations=rows(observation),
        terminated=jnp.zeros((capacity,), bool),
        action_masks=None if mask_example is None else rows(mask_example),
        next_action_masks=None if mask_example is None else rows(mask_example),
        policy_states=rows(policy_state_example),
        next_policy_states=rows(policy_state_example),
    )


def check_rows(name: str, store: Any, new: Any, n: int) -> None:
    """Checks, at trace time, that `new` holds `n` rows for the buffer field
    `name` stored in `store` (same structure, shape `(n, *row_shape)` per leaf,
    no floating-point values for integer or bool rows)."""
    if jax.tree.structure(store) != jax.tree.structure(new):
        raise ValueError(
            f"`ReplayBuffer.add`: `{name}` must have the structure of the buffer's "
            f"rows, {jax.tree.structure(store)}, got {jax.tree.structure(new)}."
        )
    for (path, row), leaf in zip(
        jtu.tree_flatten_with_path(store)[0], jax.tree.leaves(new), strict=True
    ):
        field = f"{name}{jtu.keystr(path)}"
        shape = jnp.shape(leaf)
        expected = (n,) + row.shape[1:]
        if shape != expected:
            raise ValueError(
                f"`ReplayBuffer.add`: `{field}` must have shape {expected} (n={n} "
                f"transitions, as in `rewards`, each of the row shape "
                f"{row.shape[1:]}), got {shape}. Give one row per transition; "
                "nothing is broadcast."
            )
        dtype = jnp.result_type(leaf)
        if jnp.issubdtype(dtype, jnp.inexact) and not jnp.issubdtype(
            row.dtype, jnp.inexact
        ):
            raise TypeError(
                f"`ReplayBuffer.add`: `{field}` has floating-point dtype {dtype} "
                f"but the buffer stores {row.dtype} there (shape {expected}); it "
                "would be truncated. Pass values of the space's dtype, e.g. "
                f"`jnp.asarray(x, jnp.{row.dtype})` after rounding deliberately."
            )
