"""Host callbacks from compiled code: thin wrappers of `jax.debug.callback`."""

from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def callback_wrapper(
    func: Callable[..., Any], ordered: bool = False, partitioned: bool = False
) -> Callable[..., None]:
    """`func` made callable from compiled code: the returned function runs
    `func(*args, **kwargs)` on the host through `jax.debug.callback`
    (results are discarded).

    Args:
        func: A host function.
        ordered: Keep the calls in program order.
        partitioned: Let a sharded program call `func` per shard.
    """

    def call(*args: Any, **kwargs: Any) -> None:
        jax.debug.callback(
            func, *args, ordered=ordered, partitioned=partitioned, **kwargs
        )

    return call


def callback_with_numpy_wrapper(
    func: Callable[..., Any], ordered: bool = False, partitioned: bool = False
) -> Callable[..., None]:
    """As `callback_wrapper`, with every array argument given to `func` as a
    NumPy array."""

    def host(*args: Any, **kwargs: Any) -> None:
        to_numpy = lambda x: np.asarray(x) if hasattr(x, "shape") else x  # noqa: E731
        func(*jax.tree.map(to_numpy, args), **jax.tree.map(to_numpy, kwargs))

    return callback_wrapper(host, ordered, partitioned)


def callback_with_list_wrapper(
    func: Callable[..., Any], ordered: bool = False, partitioned: bool = False
) -> Callable[..., None]:
    """As `callback_wrapper`, with every array argument given to `func` as a
    Python number or (nested) list."""

    def host(*args: Any, **kwargs: Any) -> None:
        to_list = lambda x: np.asarray(x).tolist() if hasattr(x, "shape") else x  # noqa: E731
        func(*jax.tree.map(to_list, args), **jax.tree.map(to_list, kwargs))

    return callback_wrapper(host, ordered, partitioned)


print_callback = callback_with_list_wrapper(print, ordered=True)
"""`print` from compiled code, in program order, arrays shown as lists."""
