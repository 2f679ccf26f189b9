"""Network construction shared by the policies (orthogonal initialisation)."""

import math
from collections.abc import Callable
from functools import cache

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Key

from ..utils._prng import fused_keys

HIDDEN_GAIN = math.sqrt(2.0)


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
) -> eqx.nn.MLP:
    """An `equinox.nn.MLP` with orthogonal weights: hidden layers use gain
    sqrt(2), the output layer `out_gain`. `depth` counts hidden layers
    (0 gives a single linear layer)."""
    if depth < 0 or width_size < 1:
        raise ValueError(
            f"MLP `depth` must be >= 0 and `width` >= 1, got depth={depth}, width={width_size}."
        )
    return _mlp(
        in_size,
        out_size,
        width_size,
        depth,
        leafless(activation),
        out_gain=out_gain,
        key=key,
        final_activation=leafless(final_activation or _identity),
    )


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
