"""Utilities: serialisation, structural fingerprints, PyTree control flow and
host callbacks."""

from ._callback import callback_with_list_wrapper as callback_with_list_wrapper
from ._callback import callback_with_numpy_wrapper as callback_with_numpy_wrapper
from ._callback import callback_wrapper as callback_wrapper
from ._callback import print_callback as print_callback
from ._fingerprint import describe as describe
from ._fingerprint import fingerprint as fingerprint
from ._scan import filter_cond as filter_cond
from ._scan import filter_scan as filter_scan
from ._serialization import Serializable as Serializable
from ._serialization import atomic_replace as atomic_replace
from ._serialization import atomic_write as atomic_write
from ._serialization import resolve_path as resolve_path
from ._tree import unstack_pytree as unstack_pytree


def __getattr__(name: str):
    # `polyak_average` lives in `lerax.target` (which imports from here)
    if name == "polyak_average":
        from ..target import polyak_average

        return polyak_average
    raise AttributeError(f"module 'lerax.utils' has no attribute {name!r}")
