"""Checkpoints of the full training state, and the callback that writes them.

A checkpoint holds every array of a training state (policy, critics, target
networks, optimiser states, replay buffer, env states with normaliser
statistics, callback states, PRNG key, counters). The non-array parts
(network structure, activation functions, env constants that are Python
values) are rebuilt by `algo.init` from the same arguments, and the arrays are
then filled in, so a resumed run continues exactly where the checkpoint was
taken.

File layout: the magic line `LERAXCKPT1\\n`, an 8-byte little-endian header
length, a UTF-8 JSON header (format, lerax version, iteration, the path,
shape and dtype of every array, a SHA-256 of the payload, and a SHA-256 of
the header's other records), then Equinox's leaf stream of the arrays.
Files are written atomically.
"""

import errno
import functools
import hashlib
import io
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Key

from ..utils import atomic_write
from ..utils._fingerprint import equivalent
from ..utils._serialization import unwritable_folder
from ._base import AbstractCallback, IterationContext, TrainingContext, python_scalar
from ._host import file_in_the_way, host_call

MAGIC = b"LERAXCKPT1\n"
SUFFIX = ".ckpt"
_NAME = re.compile(r"^(?P<prefix>.+)_(?P<steps>\d+)\.ckpt$")
# Format 2 adds `header_sha256`; format 1 files (without it) still load.
_FORMAT = 2
_HEADER_DIGEST = "header_sha256"


class CheckpointError(ValueError):
    """A checkpoint file is corrupted, not a checkpoint, or does not match the
    run it is loaded into."""


def _is_key(x: Any) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _is_array_like(x: Any) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, np.generic, jax.ShapeDtypeStruct))


def _arrays(state: Any, *, include_buffer: bool) -> Any:
    """The array leaves of `state` (concrete or abstract), everything else
    None; the replay buffer too unless `include_buffer`."""
    arrays = eqx.filter(state, _is_array_like)
    if not include_buffer and hasattr(state, "buffer"):
        arrays = eqx.tree_at(
            lambda s: s.buffer,
            arrays,
            replace_fn=lambda b: jax.tree.map(lambda _: None, b),
        )
    return arrays


def _raw(state: Any, *, include_buffer: bool = True) -> Any:
    """What is stored: the arrays of `state`, PRNG keys as raw key data
    (abstract key data for an abstract state)."""

    def convert(x):
        if not _is_key(x):
            return x
        if isinstance(x, jax.ShapeDtypeStruct):
            return eqx.filter_eval_shape(jr.key_data, x)
        return jr.key_data(x)

    return jax.tree.map(convert, _arrays(state, include_buffer=include_buffer))


def _header_digest(header: dict[str, Any]) -> str:
    """The SHA-256 of a header's records (as read back from JSON) other than
    `header_sha256` itself, as canonical JSON, so it does not depend on how
    they were spelled."""
    records = {k: v for k, v in header.items() if k != _HEADER_DIGEST}
    return hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()


def _layout(tree: Any) -> list[list[Any]]:
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [
        [
            jax.tree_util.keystr(path),
            [int(d) for d in np.shape(x)],
            np.dtype(x.dtype).str,
        ]
        for path, x in leaves
    ]


def algorithm_record(algorithm: Any) -> dict[str, Any]:
    """What a checkpoint records of the algorithm that wrote it: its class
    and its hyper-parameters (`lerax.utils.describe`)."""
    from ..utils import describe

    return {
        "class": type(algorithm).__name__,
        "structure": describe(algorithm, closures=True, values=True),
    }


def structure_records(state: Any) -> dict[str, Any]:
    """What a checkpoint records of a training state's env and policy: their
    structure and constants (`lerax.utils.describe`; arrays by shape and
    dtype), so that resuming with another env or policy is refused."""
    from ..utils import describe

    return {
        name: json.loads(json.dumps(describe(getattr(state, name))))
        for name in ("env", "policy")
        if hasattr(state, name)
    }


def check_structure(path: str | Path, like: Any) -> None:
    """Raises `CheckpointError` when the checkpoint at `path` was written by a
    run on another env or with another policy (other constants, activations,
    sizes) than the training state `like` (a skeleton is enough); checkpoints
    that do not record them pass."""
    from ..utils._serialization import _difference, _show

    header = read_header(path)
    for name, ours in structure_records(like).items():
        recorded = header.get(name)
        if recorded is None or equivalent(recorded, ours):
            continue
        where, saved, built = _difference(recorded, ours, name)
        raise CheckpointError(
            f"The checkpoint {str(path)!r} belongs to a run with another {name}: "
            f"`{where}` was {_show(saved)} there and is {_show(built)} here. Resume "
            f"with the {name} it was written with, or start a new run."
        )


def check_algorithm(path: str | Path, algorithm: Any) -> None:
    """Raises `CheckpointError` when the checkpoint at `path` was written by a
    run with other hyper-parameters than `algorithm`'s. A checkpoint that
    does not record them (`save_checkpoint` without `algorithm=`) cannot be
    checked: a warning says so."""
    from ..utils._serialization import _difference, _show

    recorded = read_header(path).get("algorithm")
    if recorded is None:
        warnings.warn(
            f"The checkpoint {str(path)!r} does not record the algorithm that "
            "wrote it, so its hyper-parameters cannot be checked against "
            f"{type(algorithm).__name__}'s (pass `algorithm=` to "
            "`save_checkpoint`).",
            UserWarning,
            stacklevel=3,
        )
        return
    ours = json.loads(json.dumps(algorithm_record(algorithm)))
    if equivalent(recorded, ours):
        return
    from ..utils import describe

    for earlier in (describe(algorithm), describe(algorithm, closures=True)):
        # written before records held what schedules capture, or the values
        # of hyper-parameters given as arrays
        if equivalent(recorded.get("structure"), json.loads(json.dumps(earlier))):
            return
    if recorded.get("class") != ours["class"]:
        what = f"it was written by {recorded.get('class')}, not {ours['class']}"
    else:
        where, saved, built = _difference(recorded["structure"], ours["structure"], "")
        what = (
            f"`{where.lstrip('.')}` was {_show(saved)} there and is {_show(built)} here"
        )
    raise CheckpointError(
        f"The checkpoint {str(path)!r} belongs to a run with other "
        f"hyper-parameters: {what}. Resume with the algorithm it was written "
        "with, or start a new run."
    )


def save_checkpoint(
    path: str | Path,
    state: Any,
    *,
    include_buffer: bool = True,
    algorithm: Any = None,
    structure: dict[str, Any] | None = None,
) -> Path:
    """Writes the arrays of a training state to `path` atomically.

    Args:
        path: The file to write (`.ckpt` is appended when it has no suffix).
        state: A training state (from `algo.init`/`algo.train`), or the tree
            of its arrays as a host callback receives it.
        include_buffer: Whether to store an off-policy replay buffer (a
            resumed run without it refills the buffer from scratch and is no
            longer identical to an uninterrupted one).
        algorithm: The run's algorithm (or its `algorithm_record`), stored
            so that resuming with other hyper-parameters is refused
            (`check_algorithm`; without it, resuming warns).
        structure: `structure_records(state)` when `state` is only its
            arrays (taken from `state` itself otherwise), stored so that
            resuming on another env or policy is refused.

    Returns:
        The path written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_name(path.name + SUFFIX)
    if algorithm is not None and not isinstance(algorithm, dict):
        algorithm = algorithm_record(algorithm)
    if structure is None:
        structure = structure_records(state)
    arrays = jax.tree.map(np.asarray, _raw(state, include_buffer=include_buffer))
    payload = io.BytesIO()
    eqx.tree_serialise_leaves(payload, arrays)
    data = payload.getvalue()
    from .. import __version__

    header = {
        "format": _FORMAT,
        "lerax_version": __version__,
        "iteration": int(np.asarray(arrays.iteration))
        if hasattr(arrays, "iteration")
        else None,
        "include_buffer": include_buffer,
        **({"algorithm": algorithm} if algorithm is not None else {}),
        **structure,
        "layout": _layout(arrays),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    # the records that resuming checks (env, policy, hyper-parameters,
    # layout) are covered too: a damaged one is named as corruption, not as
    # a run with another env
    header[_HEADER_DIGEST] = _header_digest(json.loads(json.dumps(header)))
    encoded = json.dumps(header).encode()

    def write(file):
        file.write(MAGIC)
        file.write(len(encoded).to_bytes(8, "little"))
        file.write(encoded)
        file.write(data)

    atomic_write(path, write)
    return path


def resolve(path: str | Path) -> Path:
    """`path` itself (or, when it has no suffix and is not a file, `path`
    with the `.ckpt` that `save_checkpoint` adds), or for a folder its
    newest checkpoint (of whichever `prefix` wrote it; a folder holding
    several prefixes is an error).

    Raises:
        FileNotFoundError: If there is no such file or no checkpoint in the folder.
    """
    path = Path(path)
    if path.is_dir():
        prefixes = sorted(
            {m["prefix"] for p in path.iterdir() if (m := _NAME.match(p.name))}
        )
        if not prefixes:
            raise FileNotFoundError(f"No checkpoints in the folder {str(path)!r}.")
        if len(prefixes) > 1:
            raise FileNotFoundError(
                f"The folder {str(path)!r} holds checkpoints of several runs "
                f"(prefixes {', '.join(map(repr, prefixes))}); pass the checkpoint "
                "file to resume from."
            )
        return list_checkpoints(path, prefixes[0])[-1]
    return _checkpoint_file(path)


def _checkpoint_file(path: Path) -> Path:
    """`path` if it is a file, else `path` with the `.ckpt` suffix that
    `save_checkpoint` adds to a name without one.

    Raises:
        FileNotFoundError: Naming each path tried, if neither is a file.
    """
    if path.is_file():
        return path
    tried = [path]
    if not path.suffix:
        suffixed = path.with_name(path.name + SUFFIX)
        if suffixed.is_file():
            return suffixed
        tried.append(suffixed)
    raise FileNotFoundError(
        "No checkpoint at " + " or ".join(repr(str(p)) for p in tried) + "."
    )


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of a checkpoint file.

    Raises:
        CheckpointError: If the file is not a lerax checkpoint.
    """
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[dict[str, Any], bytes]:
    path = _checkpoint_file(path)
    blob = path.read_bytes()
    if not blob.startswith(MAGIC):
        raise CheckpointError(
            f"{str(path)!r} is not a lerax checkpoint (bad magic bytes); pass a "
            "file written by `CheckpointCallback` or `save_checkpoint`."
        )
    start = len(MAGIC)
    try:
        size = int.from_bytes(blob[start : start + 8], "little")
        header = json.loads(blob[start + 8 : start + 8 + size].decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise CheckpointError(
            f"The checkpoint {str(path)!r} is corrupted (unreadable header)."
        ) from error
    if not isinstance(header, dict):
        raise CheckpointError(
            f"The checkpoint {str(path)!r} is corrupted (its header is not a record)."
        )
    # before any record is read: a damaged record (a flipped bit in the
    # gravity, a hyper-parameter or an array's path) is corruption. Format 1
    # files, written before the header had its own digest, have none.
    recorded = header.get(_HEADER_DIGEST)
    if (recorded is not None or header.get("format") != 1) and (
        recorded != _header_digest(header)
    ):
        raise CheckpointError(
            f"The checkpoint {str(path)!r} is corrupted (header checksum "
            "mismatch: modified); use an older checkpoint."
        )
    data = blob[start + 8 + size :]
    if hashlib.sha256(data).hexdigest() != header.get("sha256"):
        raise CheckpointError(
            f"The checkpoint {str(path)!r} is corrupted (checksum mismatch: "
            "truncated or modified); use an older checkpoint."
        )
    return header, data


def load_checkpoint(path: str | Path, like: Any, *, fill: Any = None) -> Any:
    """Loads a checkpoint into the skeleton `like`.

    Args:
        path: A checkpoint file, or a folder (its newest checkpoint is used).
        like: A training state of the same run (e.g. from
            `eqx.filter_eval_shape(algo.init, ...)`): supplies the non-array
            parts and the expected shapes.
        fill: A concrete training state whose replay buffer is used when the
            checkpoint was written without one.

    Returns:
        The training state.

    Raises:
        CheckpointError: If the file is corrupted or belongs to a different
            run (algorithm, env, policy, callbacks or hyper-parameters that
            change shapes).
    """
    path = resolve(path)
    header, data = _read(path)
    include_buffer = header.get("include_buffer", True)
    skeleton = _raw(like, include_buffer=include_buffer)
    expected = _layout(skeleton)
    if header.get("layout") != expected:
        raise CheckpointError(_mismatch(path, header.get("layout") or [], expected))
    skeleton = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), skeleton)
    try:
        arrays = eqx.tree_deserialise_leaves(io.BytesIO(data), skeleton)
    except Exception as error:  # noqa: BLE001
        raise CheckpointError(
            f"The checkpoint {str(path)!r} is corrupted ({error})."
        ) from error

    if not include_buffer and hasattr(like, "buffer") and fill is None:
        raise CheckpointError(
            f"{str(path)!r} has no replay buffer; pass `fill=` a fresh state."
        )
    like_arrays = _arrays(like, include_buffer=include_buffer)

    def restore(template, value):
        if _is_key(template):
            return jr.wrap_key_data(jnp.asarray(value), impl=template.dtype._impl)
        return jnp.asarray(value, dtype=template.dtype)

    restored = jax.tree.map(restore, like_arrays, arrays)
    state = eqx.combine(restored, like, is_leaf=lambda x: x is None)
    if not include_buffer and hasattr(like, "buffer"):
        state = eqx.tree_at(lambda s: s.buffer, state, fill.buffer)
    return state


def _mismatch(path: Path, found: list, expected: list) -> str:
    found_map = {p: (s, d) for p, s, d in found}
    expected_map = {p: (s, d) for p, s, d in expected}
    problems = []
    for name in expected_map:
        if name not in found_map:
            problems.append(f"missing {name}")
        elif found_map[name] != expected_map[name]:
            problems.append(
                f"{name}: checkpoint {found_map[name]} vs run {expected_map[name]}"
            )
    problems += [f"unexpected {name}" for name in found_map if name not in expected_map]
    listed = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
    widths = _x64_difference(found_map, expected_map)
    if widths is not None:
        written, here = ("off", "on") if widths == "narrower" else ("on", "off")
        return (
            f"The checkpoint {str(path)!r} was written with `jax_enable_x64` "
            f"{written}, and this run has it {here}: its arrays differ only in "
            f"precision ({listed}). Resume with `jax_enable_x64` {written} "
            f"(`jax.config.update('jax_enable_x64', {written == 'on'})` before "
            "anything else), as the run that wrote it."
        )
    return (
        f"The checkpoint {str(path)!r} does not match this run ({listed}). Resume "
        "with the same algorithm hyper-parameters, env, policy and callbacks it "
        "was written with."
    )


def _x64_difference(found: dict, expected: dict) -> str | None:
    """`"narrower"` when the checkpoint's arrays are those of this run but
    32-bit where this run's are 64-bit (written with `jax_enable_x64` off,
    read with it on), `"wider"` for the reverse, None for any other
    difference (a missing array, another shape, or a mix)."""
    if found.keys() != expected.keys():
        return None
    directions = set()
    for name, (shape, dtype) in expected.items():
        their_shape, their_dtype = found[name]
        if their_shape != shape:
            return None
        if their_dtype == dtype:
            continue
        ours, theirs = np.dtype(dtype), np.dtype(their_dtype)
        if ours.kind != theirs.kind or {ours.itemsize, theirs.itemsize} != {4, 8}:
            return None
        directions.add("narrower" if theirs.itemsize < ours.itemsize else "wider")
    return directions.pop() if len(directions) == 1 else None


def checkpoint_path(
    directory: str | Path, steps: int, prefix: str = "checkpoint"
) -> Path:
    """The file name a `CheckpointCallback` uses after `steps` env steps."""
    return Path(directory) / f"{prefix}_{steps:012d}{SUFFIX}"


def list_checkpoints(directory: str | Path, prefix: str = "checkpoint") -> list[Path]:
    """Checkpoints in `directory`, oldest first (by env steps)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match and match["prefix"] == prefix:
            found.append((int(match["steps"]), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(directory: str | Path, prefix: str = "checkpoint") -> Path | None:
    """The newest checkpoint in `directory`, or None."""
    found = list_checkpoints(directory, prefix)
    return found[-1] if found else None


@jax.custom_batching.custom_vmap
def _refuse_vmap(tree: Any) -> Any:
    """The identity, except under `jax.vmap` over any of `tree`'s arrays
    (also through nested `jit`s): there it raises while tracing."""
    return tree


@_refuse_vmap.def_vmap
def _refuse_vmap_rule(axis_size: int, in_batched: Any, tree: Any) -> Any:
    if any(jax.tree.leaves(in_batched)):
        raise ValueError(
            "`CheckpointCallback` cannot checkpoint a run `vmap`-ed over seeds or "
            "hyper-parameters: a checkpoint holds one training state. Train and "
            "checkpoint each seed in its own run, or drop the callback."
        )
    return tree, in_batched


class CheckpointCallback(AbstractCallback):
    """Writes the full training state every `save_freq` env steps.

    Each checkpoint goes to `directory/<prefix>_<steps>.ckpt` (atomically);
    only the newest `keep` are kept. Continue a run with
    `algo.learn(env, policy, total_timesteps, key=key, callback=...,
    resume_from=directory)` using the same arguments (the key included): the
    result equals an uninterrupted run's.

    A checkpoint holds the state at the end of its iteration, after every
    other callback's hooks (evaluations, logs, early stopping, curricula), so
    a resumed run continues exactly where the uninterrupted one was. Writing
    happens on the host through `jax.debug.callback`, only on iterations
    where a checkpoint is due. A run `vmap`-ed over seeds (or
    hyper-parameters) cannot be checkpointed: a checkpoint holds one training
    state, and the callback raises `ValueError` when traced under `vmap`.

    A fresh run (iteration 0, not a resume) into a folder that holds
    checkpoints of an earlier run with the same `prefix` is refused with
    `CheckpointError`: `learn`/`train` check before compiling, and the
    callback checks again when the run starts, so a `learn` inside the
    user's own `jax.jit`, whose compiled program is reused without tracing,
    is refused too (there the error arrives as the runtime error of the
    jitted call, with the same message).

    Attributes:
        directory: Folder for the checkpoints.
        save_freq: Env steps (summed over envs) between checkpoints, an int
            >= 1 (Python or NumPy); a checkpoint is written on the first
            iteration at or past each multiple.
        keep: How many checkpoints to keep, an int >= 1 (None: all).
        include_buffer: Whether to store an off-policy replay buffer.
        prefix: File name prefix.
    """

    directory: str = eqx.field(static=True)
    save_freq: int = eqx.field(static=True, converter=python_scalar)
    keep: int | None = eqx.field(static=True, default=3, converter=python_scalar)
    include_buffer: bool = eqx.field(static=True, default=True)
    prefix: str = eqx.field(static=True, default="checkpoint")

    def __check_init__(self):
        if (
            not isinstance(self.save_freq, int)
            or isinstance(self.save_freq, bool)
            or self.save_freq < 1
        ):
            raise ValueError(
                f"`CheckpointCallback(save_freq=...)` must be an int >= 1 (env "
                f"steps), got {self.save_freq!r}."
            )
        if (
            not isinstance(self.prefix, str)
            or not self.prefix
            or any(sep in self.prefix for sep in ("/", "\\", os.sep))
        ):
            raise ValueError(
                "`CheckpointCallback(prefix=...)` must be a non-empty file name "
                f"prefix without path separators, got {self.prefix!r} (put the "
                "folder in `directory`)."
            )
        if self.keep is not None and (
            not isinstance(self.keep, int)
            or isinstance(self.keep, bool)
            or self.keep < 1
        ):
            raise ValueError(
                f"`CheckpointCallback(keep=...)` must be an int >= 1 or None, got "
                f"{self.keep!r}."
            )
        # found now rather than at the first checkpoint, deep into training
        blocking = file_in_the_way(self.directory)
        if blocking is not None:
            raise ValueError(
                f"`CheckpointCallback(directory=...)` must be a folder, but "
                f"{str(blocking)!r} is a file; choose another directory."
            )
        locked = unwritable_folder(self.directory)
        if locked is not None:
            raise PermissionError(
                errno.EACCES,
                f"`CheckpointCallback(directory={self.directory!r})`: checkpoints "
                f"cannot be written there, as this process may not create files "
                f"in {str(locked)!r}. Choose a directory you can write to, or "
                "change that folder's permissions.",
            )

    def on_training_start(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        # `refuse_earlier_runs` also runs when `learn`/`train` are called, but
        # only while tracing: a compiled program reused by the user's own
        # `jax.jit` skips it. An ordered host call checks again at run time,
        # before this run's first checkpoint; it acts only on a fresh run
        # (iteration 0), never on a resumed one.
        fresh = jnp.asarray(ctx.state.iteration == 0, bool)
        host_call(functools.partial(_refuse_earlier_runs_when, self), fresh)
        return ctx.callback_state

    def on_iteration_end(self, ctx: IterationContext, *, key: Key[Array, ""]) -> None:
        del key
        steps = ctx.num_timesteps
        spi = ctx.algorithm.steps_per_iteration
        due = (steps // self.save_freq) > ((steps - spi) // self.save_freq)
        steps, arrays = _refuse_vmap(
            (steps, _raw(ctx.state, include_buffer=self.include_buffer))
        )

        # while tracing: static. The algorithm's arrays (hyper-parameters
        # given as arrays, traced here) go to the host, where the record
        # describes them by value.
        hyper, algorithm = eqx.partition(ctx.algorithm, eqx.is_array)
        structure = structure_records(ctx.state)

        def write(operands):
            jax.debug.callback(
                functools.partial(self._write, algorithm, structure), *operands
            )

        jax.lax.cond(due, write, lambda _: None, (steps, arrays, hyper))

    def _write(
        self,
        algorithm: Any,
        structure: dict[str, Any],
        steps: Any,
        arrays: Any,
        hyper: Any,
    ) -> None:
        directory = Path(self.directory)
        path = save_checkpoint(
            checkpoint_path(directory, int(np.asarray(steps)), self.prefix),
            arrays,
            include_buffer=self.include_buffer,
            algorithm=algorithm_record(eqx.combine(hyper, algorithm)),
            structure=structure,
        )
        if self.keep is not None:
            for old in list_checkpoints(directory, self.prefix)[: -self.keep]:
                if old != path:
                    old.unlink(missing_ok=True)


def refuse_earlier_runs(callback: Any) -> None:
    """Raises `CheckpointError` when a `CheckpointCallback` in `callback` (or
    in a `CallbackList`) would write a fresh run into a folder that holds
    checkpoints of an earlier run with its prefix: keeping the newest
    `keep` would then delete this run's files or keep the other run's, and
    resuming from the folder would continue the wrong run."""
    from ._base import CallbackList

    if isinstance(callback, CallbackList):
        for child in callback.callbacks:
            refuse_earlier_runs(child)
        return
    if not isinstance(callback, CheckpointCallback):
        return
    found = list_checkpoints(callback.directory, callback.prefix)
    if found:
        raise CheckpointError(
            f"{str(callback.directory)!r} holds checkpoints of an earlier run "
            f"({found[-1].name}, ...), which this new run would mix with its "
            "own. Continue that run (`learn(..., resume_from=directory)`), "
            "checkpoint into another folder (or with another `prefix`), or "
            "delete them first."
        )


def _refuse_earlier_runs_when(callback: CheckpointCallback, fresh: Any) -> None:
    """On the host, at the start of a run: `refuse_earlier_runs(callback)`
    if the run is `fresh` (at iteration 0). Raised here, the error stops the
    compiled program before its first checkpoint and reaches the caller as
    the runtime error of the call, with this message."""
    if bool(np.asarray(fresh)):
        refuse_earlier_runs(callback)
