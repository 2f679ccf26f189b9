"""`Serializable`: save a module's leaves to disk, load them into a rebuilt skeleton."""

import errno
import hashlib
import inspect
import io
import json
import os
import secrets
from pathlib import Path
from typing import Any, Self

import equinox as eqx
import jax
import numpy as np

from ._fingerprint import FINGERPRINT_SIZE, describe, equivalent, fingerprint

SUFFIX = ".eqx"
# After the leaf stream lerax appends a trailer: a JSON record of what was
# saved (class and structure, to explain a mismatch), its length (8 bytes,
# little-endian), the SHA-256 of everything before it, and this marker. A
# file without it (an older or upstream file) still loads, unchecked.
_MARKER = b"LRXSUM01"
_DIGEST = 32
_TRAILER = 8 + _DIGEST + len(_MARKER)  # the smallest trailer (an empty record)


def resolve_path(path: str | Path) -> Path:
    """Applies lerax's suffix rule: a path not ending in `.eqx` gets `.eqx` appended.

    `"model"` -> `"model.eqx"`, `"run.v2"` -> `"run.v2.eqx"`, `"a.eqx"` unchanged.
    The same rule is applied when saving and when loading.

    Raises:
        ValueError: If `path` has no file name: it is empty, or it ends with
            a path separator (a folder, which would otherwise become
            `"folder.eqx"` beside it).
    """
    text = os.fspath(path)
    if isinstance(text, str) and text.endswith(("/", os.sep)):
        raise ValueError(
            f"{text!r} names a folder (it ends with a separator); give a file "
            f"path in it, e.g. {os.path.join(text, 'model')!r}."
        )
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise ValueError(
            f"{text!r} has no file name; give a file path, e.g. 'model' "
            "(written as 'model.eqx')."
        )
    return path if path.suffix == SUFFIX else path.with_name(path.name + SUFFIX)


def _existing_mode(path: Path) -> int | None:
    """The permission bits of the file at `path` (None if there is none)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None


def _temporary_file(folder: Path, prefix: str, suffix: str) -> str:
    """Creates an empty file with a fresh name in `folder`, with the mode
    `open` gives a new file (0o666 less the umask, which the kernel applies:
    reading the umask would mean setting it, racing other threads)."""
    for _ in range(100):
        name = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return str(name)
    raise FileExistsError(f"Could not create a temporary file in {str(folder)!r}.")


def atomic_replace(path: str | Path, fill: Any, *, keep_suffix: bool = False) -> Path:
    """Writes a file atomically: `fill(temporary)` writes the content to a
    temporary path in the same folder (a hidden name ending in `.tmp`, or in
    `path`'s own suffix with `keep_suffix`, for writers that pick a format by
    suffix), which then replaces `path` in one rename; on any failure `path`
    is untouched and the temporary file removed.

    The file keeps the permissions of the file it replaces (a new file gets
    the umask's, as with `open`), and a symbolic link is followed: its target
    is replaced and the link kept. Returns the path actually written.
    """
    requested = path
    path = Path(os.path.realpath(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _temporary_file(
            path.parent, f".{path.name}.", path.suffix if keep_suffix else ".tmp"
        )
    except OSError as error:
        # the error would name the hidden temporary file, not the request
        raise _cannot_create(requested, path.parent, error) from error
    mode = _existing_mode(path)
    try:
        fill(temporary)
        with open(temporary, "rb+") as file:  # on disk before the rename
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _cannot_create(requested: Any, folder: Path, error: OSError) -> OSError:
    """`error` (a failure to make `folder` or a file in it) again, of the
    same type, naming the path the caller asked for and the fix."""
    blocked = unwritable_folder(folder) or folder
    reason = error.strerror or type(error).__name__
    return type(error)(
        error.errno,
        f"Cannot write {str(requested)!r}: no file can be created in the folder "
        f"{str(blocked)!r} ({reason}). Choose a folder this process may write "
        "to, or change that folder's permissions.",
    )


def unwritable_folder(path: str | Path) -> Path | None:
    """The nearest existing folder at or above `path` when this process
    may not create files in it (None when it may, or when nothing above
    `path` exists). A file that would be written at or under `path` is
    created there (or in a folder made there)."""
    path = Path(path).absolute()
    for folder in (path, *path.parents):
        if folder.is_dir():
            return None if os.access(folder, os.W_OK | os.X_OK) else folder
    return None


def check_writable_path(path: Path, what: str, example: str) -> None:
    """Raises a clear error naming `path` (described as `what`, e.g.
    ``"the video "``) if a file cannot be written there because `path` is a
    folder (`IsADirectoryError`; `example` is a file name to suggest in it)
    or a folder above it is a file (`NotADirectoryError`)."""
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR,
            f"Cannot write {what}{str(path)!r}: it is a folder. Give a file path "
            f"instead (e.g. {str(path / example)!r}).",
        )
    for folder in path.absolute().parents:
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(
                    errno.ENOTDIR,
                    f"Cannot write {what}{str(path)!r}: {str(folder)!r} is a file, "
                    "not a folder. Choose another path (or move that file).",
                )
            break


def atomic_write(path: str | Path, write: Any) -> Path:
    """Writes a file atomically (see `atomic_replace`): `write(file)` fills a
    binary file object.

    Raises:
        IsADirectoryError: If `path` is a folder (nothing is written).
        NotADirectoryError: If a folder above `path` is a file (nothing is
            written).
        OSError: Any other error of the file system.
    """
    # checked up front: otherwise the error names a temporary file (a folder
    # at `path`) or is a misleading FileExistsError (a file above it)
    requested = Path(path)
    check_writable_path(requested, "", f"file{requested.suffix}")

    def fill(temporary: str) -> None:
        with open(temporary, "wb") as file:
            write(file)

    return atomic_replace(path, fill)


class Serializable(eqx.Module):
    """Mixin that saves a module to an `.eqx` file and loads it back.

    File layout: a 32-byte structural fingerprint (see
    `lerax.utils.fingerprint`), then Equinox's leaf stream
    (`equinox.tree_serialise_leaves`), then a trailer: a JSON record of the
    saved class and structure, its length, and a SHA-256 checksum of all
    that. Loading verifies the checksum (a file without a trailer, e.g. from
    the earlier package, loads unchecked), rebuilds the skeleton from the
    constructor arguments without running the real initialisation
    (`equinox.filter_eval_shape`), checks the fingerprint (on a mismatch the
    error names the first differing field), then fills in the leaves.
    """

    def serialize(self, path: str | Path) -> Path:
        """Serialize the model to the specified path.

        Writes a 32-byte structural fingerprint followed by the Equinox leaf
        data, so `deserialize` can verify that the skeleton it builds matches
        what was saved, then a record of the structure and a SHA-256
        checksum. The write is atomic: an existing file is replaced only
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
    """Writes `tree`'s structural fingerprint, its leaves, then a trailer (a
    record of its structure and a SHA-256 checksum), atomically to `path`
    (`.eqx` suffix rule); `load_into` reads it back. Returns the path
    written."""
    target = resolve_path(path)
    stream = io.BytesIO()
    stream.write(fingerprint(tree))
    eqx.tree_serialise_leaves(stream, tree)
    record = json.dumps(
        {"class": type(tree).__name__, "structure": describe(tree)},
        separators=(",", ":"),
    ).encode("utf-8")
    stream.write(record)
    stream.write(len(record).to_bytes(8, "little"))
    payload = stream.getvalue()
    atomic_write(
        target,
        lambda file: file.write(payload + hashlib.sha256(payload).digest() + _MARKER),
    )
    return target


def load_into(skeleton: Any, source: Path, what: str) -> Any:
    """Verifies `source`'s checksum (when it has one) and its fingerprint
    against `skeleton`, then loads its leaves into it."""
    if Path(source).is_dir():
        raise IsADirectoryError(
            errno.EISDIR,
            f"Cannot load a {what} from {str(source)!r}: it is a folder. Give the "
            f"path of the saved file (e.g. {str(Path(source) / 'model.eqx')!r}).",
        )
    data = Path(source).read_bytes()
    if len(data) < FINGERPRINT_SIZE:
        raise ValueError(
            f"{str(source)!r} is empty or truncated ({len(data)} bytes): it is not a "
            f"saved {what}."
        )
    record, end = _read_trailer(data, source)
    if data[:FINGERPRINT_SIZE] != fingerprint(skeleton) and not (
        # numbers saved as another type or precision (`epsilon=0` loaded
        # with `epsilon=0.0`) hash differently but are the same value
        isinstance(record, dict)
        and record.get("class") == type(skeleton).__name__
        and equivalent(record.get("structure"), describe(skeleton))
    ):
        raise ValueError(_mismatch(source, what, record, skeleton))
    file = io.BytesIO(data[FINGERPRINT_SIZE:end])
    try:
        loaded = eqx.tree_deserialise_leaves(file, skeleton)
    except Exception as error:
        raise ValueError(
            f"{str(source)!r} is corrupted or truncated: its fingerprint matches "
            f"but its data could not be read ({type(error).__name__}: {error})."
        ) from error
    if file.read(1):
        raise ValueError(
            f"{str(source)!r} is corrupted or truncated: it has unexpected trailing "
            "data after its arrays (or its checksum trailer is damaged), or it was "
            "written by something else."
        )
    return loaded


def _read_trailer(data: bytes, source: Path) -> tuple[dict | None, int]:
    """The file's record of what it holds (None for a file without a trailer)
    and where its leaf stream ends; raises if the checksum does not match."""
    if len(data) < FINGERPRINT_SIZE + _TRAILER or not data.endswith(_MARKER):
        return None, len(data)
    payload = data[: -(_DIGEST + len(_MARKER))]
    digest = data[len(payload) : len(payload) + _DIGEST]
    if hashlib.sha256(payload).digest() != digest:
        raise ValueError(
            f"{str(source)!r} is corrupted: its SHA-256 checksum does not match its "
            "content (the file was changed after it was written). Restore it from a "
            "copy, or save it again."
        )
    size = int.from_bytes(payload[-8:], "little")
    end = len(payload) - 8 - size
    if end < FINGERPRINT_SIZE:
        raise ValueError(f"{str(source)!r} is corrupted: its trailer is malformed.")
    try:
        record = json.loads(payload[end:-8])
    except ValueError:
        record = None
    return record, end


def _mismatch(source: Path, what: str, record: dict | None, skeleton: Any) -> str:
    """Explains a fingerprint mismatch, naming the first difference when the
    file records what it holds."""
    fix = (
        "Pass the same constructor arguments used when saving (spaces, sizes, "
        "activations, hyper-parameters)."
    )
    head = f"Structural fingerprint mismatch loading {str(source)!r}: "
    if not isinstance(record, dict):
        return (
            head + f"the file was not saved from a {what} with the structure (class, "
            "hyper-parameters, network sizes, activations, spaces or dtypes) built "
            f"from the constructor arguments given, or it is not a lerax file. {fix}"
        )
    saved_class = record.get("class")
    if saved_class != type(skeleton).__name__:
        return (
            head + f"the file holds a {saved_class}, not a {type(skeleton).__name__}: "
            f"load it with `{saved_class}.deserialize(...)`."
        )
    where, saved, built = _difference(record.get("structure"), describe(skeleton), "")
    field = where.lstrip(".") or "the whole"
    hint = _scalar_hint(field, saved, built) or _one_layer_hint(saved, built)
    return (
        head + f"in the saved {saved_class}, `{field}` is "
        f"{_show(saved)}, but in the one built from the constructor arguments "
        f"given it is {_show(built)}. {hint or fix}"
    )


def _one_layer_hint(saved: Any, built: Any) -> str | None:
    """The explanation for a one-layer network saved as an `MLP` that this
    version builds as an `ActivatedLinear`: files written before one-layer
    networks applied their final activation."""

    def module(description: Any, name: str) -> bool:
        return (
            isinstance(description, list)
            and len(description) == 3
            and description[:2] == ["module", name]
        )

    if module(saved, "MLP") and module(built, "ActivatedLinear"):
        return (
            "The file was written by an earlier lerax, whose one-layer networks "
            "(e.g. the default encoder of `RecurrentActorCriticPolicy`) left out "
            "their final activation; this version applies it, so the saved "
            "weights would act differently than they were trained to. Retrain "
            "the policy, or load it with the lerax version that saved it."
        )
    return None


def _scalar_hint(field: str, saved: Any, built: Any) -> str | None:
    """The fix for a hyper-parameter saved as a 0-d array where the
    constructor makes a Python number (or the other way round): `jax.vmap`
    returns a module's float fields as arrays, one value per seed, so a seed
    taken from its result holds arrays there."""

    def zero_d(description: Any) -> bool:
        return (
            isinstance(description, list)
            and description[:1] == ["array"]
            and list(description[1]) == []
        )

    def number(description: Any) -> bool:
        return isinstance(description, list) and description[:1] in (["int"], ["float"])

    name = field.rsplit(".", 1)[-1]
    if zero_d(saved) and number(built):
        value = _show(built)
        return (
            f"The file holds `{field}` as a 0-d array, as in a policy taken from a "
            "`jax.vmap` result (float fields come back as arrays, one value per "
            "seed; `eqx.filter_vmap` keeps them Python numbers). Load it by "
            f"passing that argument as a 0-d array, e.g. `{name}=jnp.{saved[2]}"
            f"({value})` (its saved value is what loads). To save a Python number "
            "instead, put one back before saving, e.g. "
            f"`eqx.tree_at(lambda p: p.{field}, policy, {value})`."
        )
    if zero_d(built) and number(saved):
        value = _show(saved)
        return (
            f"The file holds `{field}` as the Python number {value}: pass "
            f"`{name}={value}` (a Python number, not an array)."
        )
    return None


# what `_difference` reports for a field only one side has
_ABSENT, _PRESENT = ["absent"], ["present"]


def _difference(saved: Any, built: Any, where: str) -> tuple[str, Any, Any]:
    """The path of the first difference between two structure descriptions
    (see `lerax.utils.describe`), and each side's description there."""
    if (
        isinstance(saved, list)
        and isinstance(built, list)
        and saved[:1] == built[:1] == ["module"]
        and saved[1] == built[1]
    ):
        saved_fields = {field[0]: field[2] for field in saved[2]}
        for name, _, value in built[2]:
            if name not in saved_fields:
                return f"{where}.{name}", _ABSENT, value
            if not equivalent(saved_fields[name], value):
                return _difference(saved_fields[name], value, f"{where}.{name}")
        missing = next(iter(set(saved_fields) - {f[0] for f in built[2]}), "")
        return f"{where}.{missing}", _PRESENT, _ABSENT
    if (
        isinstance(saved, list)
        and isinstance(built, list)
        and saved[:1] == built[:1]
        and saved[:1] in (["tuple"], ["list"])
        and len(saved[1]) == len(built[1])
    ):
        for index, (a, b) in enumerate(zip(saved[1], built[1])):
            if not equivalent(a, b):
                return _difference(a, b, f"{where}[{index}]")
    if (
        isinstance(saved, list)
        and isinstance(built, list)
        and saved[:2] == built[:2]
        and saved[:1] == ["callable"]
        and len(saved) == len(built) == 3
    ):
        # the same function capturing other values (`describe(closures=True)`)
        saved_cells = dict(saved[2])
        for name, value in built[2]:
            if not equivalent(saved_cells.get(name, _ABSENT), value):
                return _difference(
                    saved_cells.get(name, _ABSENT), value, f"{where}:{name}"
                )
    if (
        isinstance(saved, list)
        and isinstance(built, list)
        and saved[:1] == built[:1] == ["partial"]
        and len(saved) == len(built) == 4
    ):
        # `functools.partial(function, *args, **keywords)`: the part that differs
        if saved[1] != built[1]:
            return _difference(saved[1], built[1], where)
        saved_args = dict(enumerate(saved[2])) | dict(saved[3])
        built_args = dict(enumerate(built[2])) | dict(built[3])
        for name in [*built_args, *(n for n in saved_args if n not in built_args)]:
            a, b = saved_args.get(name, _ABSENT), built_args.get(name, _ABSENT)
            if not equivalent(a, b):
                return _difference(a, b, f"{where}:{name}")
    return where, saved, built


def _number(text: str) -> str:
    """A recorded array value (its `repr`) shown briefly."""
    try:
        return f"{float(text):.6g}"
    except ValueError:  # True, False
        return text


def _show(description: Any) -> str:
    if description is _ABSENT or description is _PRESENT:
        return description[0]
    if isinstance(description, list) and description:
        tag = description[0]
        if tag == "array" and len(description) == 3:
            return f"{description[2]}{list(description[1])}"
        if tag == "array" and len(description) == 4:  # with its values
            shown = ", ".join(_number(v) for v in description[3][:6])
            more = ", ..." if len(description[3]) > 6 else ""
            text = shown if description[1] == [] else f"[{shown}{more}]"
            return f"{text} ({description[2]}{list(description[1])})"
        if tag == "module" and len(description) == 3:
            return f"a {description[1]}"
        if tag == "static_array" and len(description) == 4:
            dtype = np.dtype(description[2]).name
            return f"{dtype}{list(description[1])} (content {description[3][:8]})"
        if tag in ("int", "float", "callable") and len(description) == 2:
            return str(description[1])
        if tag == "callable" and len(description) == 3:
            return str(description[1])  # what it captured: see `_difference`
    text = json.dumps(description)
    return text if len(text) <= 80 else text[:77] + "..."
