"""Utilities: serialisation and structural fingerprints."""

from ._fingerprint import describe as describe
from ._fingerprint import fingerprint as fingerprint
from ._scan import filter_cond as filter_cond
from ._scan import filter_scan as filter_scan
from ._serialization import Serializable as Serializable
from ._serialization import atomic_replace as atomic_replace
from ._serialization import atomic_write as atomic_write
from ._serialization import resolve_path as resolve_path
