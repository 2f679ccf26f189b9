"""`Serializable`: save a module's leaves to disk, load them into a rebuilt skeleton."""

import inspect
import os
import tempfile
from pathlib import Path
from typing import Any, Self

import equinox as eqx
import jax

from ._fingerprint import FINGERPRINT_SIZE, fingerprint

SUFFIX = ".eqx"


def resolve_path(path: str | Path) -> Path:
    """Applies lerax's suffix rule: a path not ending in `.eqx` gets `.eqx` appended.

    `"model"` -> `"model.eqx"`, `"run.v2"` -> `"run.v2.eqx"`, `"a.eqx"` unchanged.
    The same rule is applied when saving and when loading.
    """
    path = Path(path)
    return path if path.suffix == SUFFIX else path.with_name(path.name + SUFFIX)


def atomic_write(path: Path, write: Any) -> None:
    """Writes a file atomically: `write(file)` fills a temporary file in the same
    folder, which then replaces `path`; on any failure `path` is untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Serializable(eqx.Module):
    """Mixin that saves a module to an `.eqx` file and loads it back.

    File layout: a 32-byte structural fingerprint (see
    `lerax.utils.fingerprint`), then Equinox's leaf stream
    (`equinox.tree_serialise_leaves`). Loading rebuilds the skeleton from the
    constructor arguments without running the real initialisation
    (`equinox.filter_eval_shape`), checks the fingerprint, then fills in the
    leaves.
    """

    def serialize(self, path: str | Path) -> Path:
        """Serialize the model to the specified path.

        Writes a 32-byte structural fingerprint followed by the Equinox leaf
        data, so `deserialize` can verify that the skeleton it builds matches
        what was saved. The write is atomic: an existing file is replaced only
        once the new one is complete.

        Args:
            path: The path to serialize to. The `.eqx` suffix is appended when
                the path does not already end with it.

        Returns:
            The path actually written.
        """
        return save_tree(path, self)

    @classmethod
    def deserialize(
        cls: "type[Self]",
        path: str | Path,
        *args: Any,
        **kwargs: Any,
    ) -> Self:
        """Deserialize the model from the specified path.

        The constructor arguments must reproduce the same static structure
        (class, hyper-parameters, network shapes, activations, ...) that the
        model had when it was serialized. The 32-byte fingerprint stored in
        the file is verified before loading.

        Args:
            path: The path to deserialize from (same `.eqx` suffix rule as
                `serialize`).
            *args: Positional arguments for the class constructor.
            **kwargs: Keyword arguments for the class constructor.

        Returns:
            The deserialized model.

        Raises:
            FileNotFoundError: If the file does not exist.
            ValueError: If the structural fingerprint of the rebuilt skeleton
                does not match the stored one, or the file is empty,
                truncated, corrupted or not a lerax file.
        """
        source = resolve_path(path)
        if "key" not in kwargs and "key" in inspect.signature(cls).parameters:
            # Initialisation is never run, so any key builds the same skeleton.
            kwargs["key"] = jax.random.key(0)
        skeleton = eqx.filter_eval_shape(cls, *args, **kwargs)
        return load_into(skeleton, source, cls.__name__)


def save_tree(path: str | Path, tree: Any) -> Path:
    """Writes `tree`'s structural fingerprint, then its leaves, atomically to
    `path` (`.eqx` suffix rule); `load_into` reads it back. Returns the path
    written."""
    target = resolve_path(path)
    digest = fingerprint(tree)

    def write(file):
        file.write(digest)
        eqx.tree_serialise_leaves(file, tree)

    atomic_write(target, write)
    return target


def load_into(skeleton: Any, source: Path, what: str) -> Any:
    """Verifies `source`'s fingerprint against `skeleton` and loads its leaves."""
    expected = fingerprint(skeleton)
    with open(source, "rb") as file:
        stored = file.read(FINGERPRINT_SIZE)
        if len(stored) < FINGERPRINT_SIZE:
            raise ValueError(
                f"{str(source)!r} is empty or truncated ({len(stored)} bytes): it is not a "
                f"saved {what}."
            )
        if stored != expected:
            raise ValueError(
                f"Structural fingerprint mismatch loading {str(source)!r}: the file was "
                f"saved from a {what} with a different structure (class, hyper-parameters, "
                "network sizes, activations, spaces or dtypes) than the one built from "
                "the constructor arguments given, or it is not a lerax file. Pass the "
                "same constructor arguments used when saving."
            )
        try:
            loaded = eqx.tree_deserialise_leaves(file, skeleton)
        except Exception as error:
            raise ValueError(
                f"{str(source)!r} is corrupted or truncated: its fingerprint matches "
                f"but its data could not be read ({type(error).__name__}: {error})."
            ) from error
        if file.read(1):
            raise ValueError(
                f"{str(source)!r} has unexpected trailing data: it is corrupted or was "
                "written by something else."
            )
    return loaded
