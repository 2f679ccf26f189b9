"""Network construction shared by the policies (orthogonal initialisation)."""

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Key

from ..utils._prng import fused_keys

HIDDEN_GAIN = math.sqrt(2.0)


def check_size(owner: str, name: str, value: Any, *, minimum: int) -> int:
    """`value` as a Python int, checked to be a size `>= minimum`.

    Python ints and NumPy integers are accepted (NumPy integers are converted:
    a size must be static, while a NumPy scalar would be traced). Bools,
    floats (even integral ones), strings, arrays and values below `minimum`
    raise.

    Args:
        owner: The class or function, for the message (e.g. "MLPQPolicy").
        name: The argument's name.
        value: The value given.
        minimum: The smallest valid value (0 for a depth that may be 0).

    Raises:
        ValueError: Naming `owner`, `name` and `value`.
    """
    where = f"`{owner}({name}=...)` must be an int >= {minimum}"
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{where}, got {value!r}: a bool is not a size.")
    if not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"{where}, got {value!r} of type {type(value).__name__}; pass an int "
            f"(e.g. `{name}=int(...)`)."
        )
    if value < minimum:
        raise ValueError(f"{where}, got {value!r}.")
    return int(value)


def check_sizes(owner: str, **sizes: Any) -> tuple[int, ...]:
    """`check_size` for each keyword, in order; returns the Python ints.

    A name ending in "depth" counts hidden layers and may be 0; every other
    size (widths, feature and hidden sizes) must be >= 1. Use `check_size`
    directly for a field with another minimum.
    """
    return tuple(
        check_size(owner, name, value, minimum=0 if name.endswith("depth") else 1)
        for name, value in sizes.items()
    )


def check_activation(owner: str, **activations: Any) -> None:
    """Raises `TypeError` unless each value is callable (an activation
    function such as `jax.nn.relu`, or a module such as `eqx.nn.PReLU()`).

    Checked when a policy is built, so a name given for the function (e.g.
    `"relu"`) or `None` is named there, not at the first call.

    Args:
        owner: The class, for the message (e.g. "MLPQPolicy").
        **activations: The arguments to check, by name.

    Raises:
        TypeError: Naming `owner`, the argument and the value.
    """
    for name, value in activations.items():
        if not callable(value):
            named = isinstance(value, str) and callable(getattr(jax.nn, value, None))
            example = f"jax.nn.{value}" if named else "jax.nn.relu"
            hint = f", e.g. `{example}`"
            raise TypeError(
                f"`{owner}({name}=...)` must be callable (an activation function"
                f"{hint}), got {value!r}."
            )


# Both builders run under `filter_jit`: built eagerly, every initialiser op
# compiled its own tiny program (about 1.5 s for a SAC policy); compiled
# whole, a network costs one compilation per shape configuration.


@eqx.filter_jit
def orthogonal_linear(
    in_size: int, out_size: int, *, gain: float, key: Key[Array, ""]
) -> eqx.nn.Linear:
    """A linear layer with orthogonal weights scaled by `gain` and zero bias
    (the initialisation of Engstrom et al. 2020 and Andrychowicz et al. 2021)."""
    linear = eqx.nn.Linear(in_size, out_size, key=key)
    weight = _orthogonal(out_size, in_size, gain)(key)
    linear = eqx.tree_at(lambda layer: layer.weight, linear, weight.astype(jnp.float32))
    return eqx.tree_at(
        lambda layer: layer.bias, linear, jnp.zeros((out_size,), jnp.float32)
    )


@cache
def _orthogonal(
    rows: int, columns: int, gain: float
) -> Callable[[Key[Array, ""]], Array]:
    """`jax.nn.initializers.orthogonal(scale=gain)` for a `(rows, columns)`
    matrix, as a function of the key, safe to vectorise on CPU."""

    @jax.custom_batching.custom_vmap
    def draw(key):
        # the normal draw hashed with fusable Threefry (the same numbers; the
        # default hash's rolled loop compiles into large kernels, ~0.07 s
        # per layer)
        init = jax.nn.initializers.orthogonal(scale=gain)
        return init(fused_keys(key), (rows, columns))

    @draw.def_vmap
    def _(axis_size, in_batched, key):
        # Vectorised over keys (seeds, twin critics), the QR would be one
        # batched LAPACK call, which jaxlib splits over XLA's CPU thread pool
        # and then blocks on: two such calls side by side (independent
        # layers) each hold a pool thread waiting for the other's work, a
        # deadlock on a 2-core machine. One QR after another never blocks.
        del axis_size, in_batched
        return jax.lax.map(draw, key), True

    return draw


class ActivatedLinear(eqx.Module):
    """One linear layer followed by an activation: what `mlp` builds for
    `depth=0` with a `final_activation` (`equinox.nn.MLP` of depth 0 returns
    its linear layer's output without applying `final_activation`).

    Attributes:
        layers: The one `equinox.nn.Linear` (a tuple, as `equinox.nn.MLP`'s).
        final_activation: The activation applied to its output.
    """

    layers: tuple[eqx.nn.Linear]
    final_activation: Callable[[Array], Array]

    def __call__(self, x: Array, *, key: Key[Array, ""] | None = None) -> Array:
        """The activated output for one input vector (`key` is unused)."""
        del key
        return self.final_activation(self.layers[0](x))


Network = eqx.nn.MLP | ActivatedLinear
"""What `mlp` builds."""


def mlp(
    in_size: int,
    out_size: int,
    width_size: int,
    depth: int,
    activation: Callable[[Array], Array],
    *,
    out_gain: float,
    key: Key[Array, ""],
    final_activation: Callable[[Array], Array] | None = None,
) -> Network:
    """An `equinox.nn.MLP` with orthogonal weights: hidden layers use gain
    sqrt(2), the output layer `out_gain`. `depth` counts hidden layers
    (0 gives a single linear layer; with a `final_activation`, an
    `ActivatedLinear`, which applies it)."""
    width_size, depth = check_sizes("mlp", width_size=width_size, depth=depth)
    network = _mlp(
        in_size,
        out_size,
        width_size,
        depth,
        leafless(activation),
        out_gain=out_gain,
        key=key,
        final_activation=leafless(final_activation or _identity),
    )
    if depth == 0 and final_activation is not None:
        return ActivatedLinear(network.layers, leafless(final_activation))
    return network


def leafless(fn: Callable[[Array], Array]) -> Callable[[Array], Array]:
    """`fn` as a PyTree without leaves when it is a plain function.

    A function stored in a module is a leaf of its PyTree, and JAX's own
    transformations cannot return such a leaf: `jax.vmap(lambda k:
    algo.learn(..., key=k))` would fail on the policy's activations. Wrapped
    in `jax.tree_util.Partial`, the function moves into the tree structure
    (static) and computes the same. Activations with parameters (Equinox
    modules such as `eqx.nn.PReLU`) keep their array leaves and are
    returned as they are.
    """
    leaves = jax.tree.leaves(fn)
    if len(leaves) == 1 and leaves[0] is fn and not eqx.is_array(fn):
        return jax.tree_util.Partial(fn)
    return fn


@eqx.filter_jit
def _mlp(
    in_size, out_size, width_size, depth, activation, *, out_gain, key, final_activation
):
    network = eqx.nn.MLP(
        in_size,
        out_size,
        width_size,
        depth,
        activation=activation,
        final_activation=final_activation,
        key=key,
    )
    keys = jr.split(key, len(network.layers))
    layers = []
    for i, (layer, layer_key) in enumerate(zip(network.layers, keys)):
        gain = out_gain if i == len(network.layers) - 1 else HIDDEN_GAIN
        layers.append(
            orthogonal_linear(
                layer.in_features, layer.out_features, gain=gain, key=layer_key
            )
        )  # traced inline: one program for the whole network
    return eqx.tree_at(lambda n: n.layers, network, tuple(layers))


def _identity(x: Array) -> Array:
    return x
