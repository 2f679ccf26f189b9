"""`unstack_pytree` and the host-callback wrappers (the earlier lerax's
`lerax.utils` helpers)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lerax.target
import lerax.utils
from lerax.utils import (
    callback_with_list_wrapper,
    callback_with_numpy_wrapper,
    callback_wrapper,
    unstack_pytree,
)


def test_unstack_pytree_slices_every_array_leaf():
    tree = {"x": jnp.arange(6).reshape(3, 2), "y": np.arange(3.0), "name": "run"}
    slices = unstack_pytree(tree)
    assert len(slices) == 3
    for i, part in enumerate(slices):
        np.testing.assert_array_equal(part["x"], [2 * i, 2 * i + 1])
        assert float(part["y"]) == i and part["name"] == "run"
    columns = unstack_pytree({"x": jnp.arange(6).reshape(3, 2)}, axis=1)
    np.testing.assert_array_equal(columns[1]["x"], [1, 3, 5])


def test_unstack_pytree_refuses_ragged_or_empty_trees():
    with pytest.raises(
        ValueError, match=r"different lengths along axis 0 \(\[2, 3\]\)"
    ):
        unstack_pytree((jnp.zeros(3), jnp.zeros(2)))
    with pytest.raises(ValueError, match="at least one array"):
        unstack_pytree({"name": "run"})


def test_callback_wrappers_call_the_host_in_order_with_converted_arrays():
    seen = []
    plain = callback_wrapper(lambda x: seen.append(("plain", type(x))), ordered=True)
    as_numpy = callback_with_numpy_wrapper(
        lambda x, *, scale: seen.append(("numpy", type(x), x * scale)), ordered=True
    )
    as_list = callback_with_list_wrapper(
        lambda x: seen.append(("list", x)), ordered=True
    )

    @jax.jit
    def program(x):
        plain(x)
        as_numpy(x, scale=2)
        as_list(x + 1)
        return x

    jax.block_until_ready(program(jnp.arange(3)))
    jax.effects_barrier()
    assert [entry[0] for entry in seen] == ["plain", "numpy", "list"]
    assert seen[1][1] is np.ndarray
    np.testing.assert_array_equal(seen[1][2], [0, 2, 4])
    assert seen[2][1] == [1, 2, 3]


def test_polyak_average_is_also_a_utility():
    assert lerax.utils.polyak_average is lerax.target.polyak_average
    with pytest.raises(AttributeError, match="no_such_name"):
        lerax.utils.no_such_name  # noqa: B018
