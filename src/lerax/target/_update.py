"""Target-network update rules."""

import abc
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.tree_util import keystr

from ..utils._checks import check_step_size, check_unit_interval


def _check_same_tree(online: Any, target: Any) -> None:
    """Raises a `ValueError` naming the first leaf where `online` and `target`
    differ in path or shape, or their node types or static fields when only
    those differ. Python-level work on static structure: free under `jit`."""
    online_leaves = jax.tree_util.tree_flatten_with_path(online)[0]
    target_leaves = jax.tree_util.tree_flatten_with_path(target)[0]
    fix = " Pass a target built as a copy of the online network."
    for (o_path, o), (t_path, t) in zip(online_leaves, target_leaves):
        if o_path != t_path:
            raise ValueError(
                "`polyak_average(online, target, tau)` needs `online` and `target` "
                "with the same structure; the first differing leaf is "
                f"`online{keystr(o_path)}` against `target{keystr(t_path)}`." + fix
            )
        if (eqx.is_array(o) or eqx.is_array(t)) and (
            not eqx.is_array_like(o)
            or not eqx.is_array_like(t)
            or jnp.shape(o) != jnp.shape(t)
        ):
            shape = lambda x: jnp.shape(x) if eqx.is_array_like(x) else type(x)  # noqa: E731
            raise ValueError(
                "`polyak_average(online, target, tau)` needs leaves of the same "
                f"shape; `online{keystr(o_path)}` has {shape(o)} and "
                f"`target{keystr(t_path)}` has {shape(t)}." + fix
            )
    if len(online_leaves) != len(target_leaves):
        shorter = min(len(online_leaves), len(target_leaves))
        side = "online" if len(online_leaves) > len(target_leaves) else "target"
        path = (online_leaves if side == "online" else target_leaves)[shorter][0]
        raise ValueError(
            "`polyak_average(online, target, tau)` needs `online` and `target` "
            f"with the same structure; `{side}{keystr(path)}` is only in `{side}` "
            f"({len(online_leaves)} online leaves, {len(target_leaves)} target "
            "leaves)." + fix
        )
    online_def, target_def = jax.tree.structure(online), jax.tree.structure(target)
    if online_def != target_def:
        raise ValueError(
            "`polyak_average(online, target, tau)` needs `online` and `target` "
            "with the same structure; the leaf paths agree but node types or "
            f"static fields differ: {online_def} against {target_def}." + fix
        )


def polyak_average(online: Any, target: Any, tau: float) -> Any:
    """`tau * online + (1 - tau) * target` on every inexact array leaf; other
    leaves are taken from `online`.

    Each averaged leaf keeps its `target` leaf's dtype (float16 parameters
    stay float16 with a float32 `tau`). The checks below look only at
    structure, shapes and concrete values, so they run once when traced and
    cost nothing in compiled code.

    Args:
        online: The online network (any pytree).
        target: The target network: the same structure, and arrays of the
            same shapes, as `online`.
        tau: Weight of `online`, in [0, 1] (may be traced). `tau = 0`
            returns `target` unchanged and is allowed here, as the identity
            end of the interpolation (e.g. in a sweep over `tau`); the update
            rule `SoftUpdate` refuses it, since there the target would never
            move.

    Raises:
        ValueError: If the structures or an array leaf's shapes differ
            (naming the first differing leaf), or a concrete `tau` is
            outside [0, 1].
    """
    check_unit_interval("polyak_average", tau=tau)
    _check_same_tree(online, target)

    def mix(o, t):
        if eqx.is_inexact_array(o):
            dtype = t.dtype if eqx.is_array(t) else o.dtype
            return (tau * o + (1.0 - tau) * t).astype(dtype)
        return o

    return jax.tree.map(mix, online, target)


class AbstractTargetUpdate(eqx.Module):
    """Maps `(online, target)` networks to the new target network."""

    @abc.abstractmethod
    def __call__(self, online: Any, target: Any) -> Any:
        """Returns the updated target."""


@final
class HardUpdate(AbstractTargetUpdate):
    """Copies the online network."""

    def __call__(self, online: Any, target: Any) -> Any:
        del target
        return online


@final
class SoftUpdate(AbstractTargetUpdate):
    """Polyak averaging with rate `tau` (Lillicrap et al. 2016).

    Attributes:
        tau: Weight of the online network, in (0, 1]. A concrete `tau = 0`
            is refused, as by the algorithms, since the target would never
            move (`polyak_average` itself allows it); a traced `tau` is not
            checked.
    """

    tau: float = 0.005

    def __check_init__(self):
        check_step_size("SoftUpdate", tau=self.tau)

    def __call__(self, online: Any, target: Any) -> Any:
        return polyak_average(online, target, self.tau)
