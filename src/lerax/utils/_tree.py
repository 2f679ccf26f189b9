"""`unstack_pytree`: a stacked PyTree as a list of its slices."""

from typing import Any

import jax
import numpy as np


def unstack_pytree(tree: Any, *, axis: int = 0) -> list[Any]:
    """Splits every array leaf of `tree` along `axis` into a list of trees
    (e.g. the stacked states of a scanned rollout, one per step, for
    rendering). Non-array leaves are shared by every slice.

    Args:
        tree: A PyTree whose array leaves all have the same length along `axis`.
        axis: The axis to split.

    Returns:
        One tree per index along `axis`.

    Raises:
        ValueError: If the tree has no array leaf or the leaves' lengths differ.
    """
    leaves, treedef = jax.tree.flatten(tree)
    arrays = [i for i, leaf in enumerate(leaves) if hasattr(leaf, "shape")]
    if not arrays:
        raise ValueError("`unstack_pytree` needs a tree with at least one array leaf.")
    lengths = {np.shape(leaves[i])[axis] for i in arrays}
    if len(lengths) != 1:
        raise ValueError(
            f"`unstack_pytree`: the array leaves have different lengths along axis "
            f"{axis} ({sorted(lengths)}); stack them to one length first."
        )
    (length,) = lengths
    slices = []
    for index in range(length):
        parts = list(leaves)
        for i in arrays:
            parts[i] = leaves[i].take(index, axis=axis)
        slices.append(jax.tree.unflatten(treedef, parts))
    return slices
