"""Loading MuJoCo models for MJX: Gymnasium's bundled XMLs or a user's file."""

import copy
import functools
import os
import warnings
from typing import Any

import jax

from ..._extras import require


def mujoco_modules() -> tuple[Any, Any]:
    """Imports `mujoco` and `mujoco.mjx` (the `mujoco` extra).

    Without a display and without `MUJOCO_GL`, selects MuJoCo's EGL backend
    for off-screen rendering (MuJoCo reads `MUJOCO_GL` on first import).
    """
    if "MUJOCO_GL" not in os.environ and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["MUJOCO_GL"] = "egl"
    mujoco = require("mujoco", "mujoco")
    mjx = require("mujoco.mjx", "mujoco")
    return mujoco, mjx


def asset_dir() -> str:
    """The folder of MuJoCo XMLs shipped inside the installed `gymnasium`."""
    gymnasium = require("gymnasium", "mujoco")
    return os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets")


def resolve_xml(xml_file: str, owner: str) -> str:
    """The absolute path of `xml_file`, as Gymnasium resolves it.

    A name that starts with `/`, `.` or `~` is a path of the user's; any other
    name is looked up among the XMLs bundled with Gymnasium.

    Raises:
        TypeError: If `xml_file` is not a str.
        FileNotFoundError: If the file does not exist (the message lists the
            bundled names).
    """
    if not isinstance(xml_file, (str, os.PathLike)):
        raise TypeError(
            f"`{owner}(xml_file=...)` must be a path or the name of a bundled XML, "
            f"got {xml_file!r}."
        )
    xml_file = os.fspath(xml_file)
    if xml_file.startswith(("/", ".", "~")):
        path = os.path.expanduser(xml_file)
    else:
        path = os.path.join(asset_dir(), xml_file)
    if not os.path.isfile(path):
        bundled = sorted(f for f in os.listdir(asset_dir()) if f.endswith(".xml"))
        raise FileNotFoundError(
            f"`{owner}(xml_file={xml_file!r})`: no such file ({path}). Pass the "
            "path of your own model (starting with '/', '.' or '~') or one of the "
            f"XMLs bundled with Gymnasium: {', '.join(bundled)}."
        )
    return os.path.abspath(path)


@functools.lru_cache(maxsize=32)
def load_model(path: str) -> Any:
    """Compiles the MuJoCo model at `path`, adapted for MJX (cached).

    MJX has no PGS solver, so a model asking for it (Gymnasium's humanoids)
    gets the Newton solver, MuJoCo's default, instead; the iteration counts
    are kept.

    Raises:
        ValueError: If MuJoCo cannot compile the file.
    """
    mujoco, _ = mujoco_modules()
    try:
        spec = mujoco.MjSpec.from_file(path)
        if spec.option.solver == mujoco.mjtSolver.mjSOL_PGS:
            spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
        with warnings.catch_warnings():
            # Gymnasium's XMLs use attributes MuJoCo 3.5+ deprecates.
            warnings.filterwarnings("ignore", message=".*is deprecated", module="")
            warnings.filterwarnings("ignore", message=".*is deprecated")
            return spec.compile()
    except ValueError as error:
        raise ValueError(f"MuJoCo cannot load the model {path}: {error}") from error


def put_model(mj_model: Any, path: str) -> Any:
    """Moves a compiled model to MJX, naming the file when MJX refuses it.

    On the CPU backend a model left at `jacobian="auto"` gets MJX's sparse
    mass matrix (MuJoCo's own representation; C MuJoCo always factorizes it
    sparsely). MJX's dense choice factorizes `M` with jaxlib's batched LAPACK
    Cholesky, and jaxlib 0.10's CPU LAPACK kernels hand a large batch to
    XLA's intra-op thread pool and block until it is done: two such
    factorizations XLA runs side by side (e.g. the Euler integrator's damped
    `M` and the forward pass's `M` in HalfCheetah) can occupy every pool
    thread and wait on each other forever, which on 2 cores happens at about
    1000 vmapped envs. Sparse, the only LAPACK calls left in a physics step
    are the Newton solver's, which run one after another. The C model (`mj_model`, rendering) is
    unchanged, and so is a model that asks for `jacobian="dense"`.
    """
    mujoco, mjx = mujoco_modules()
    if (
        mj_model.opt.jacobian == mujoco.mjtJacobian.mjJAC_AUTO
        and jax.default_backend() == "cpu"
    ):
        mj_model = copy.copy(mj_model)
        mj_model.opt.jacobian = mujoco.mjtJacobian.mjJAC_SPARSE
    try:
        return mjx.put_model(mj_model)
    except NotImplementedError as error:
        raise ValueError(
            f"MJX does not support a feature of the model {path}: {error}. Edit the "
            "XML (or pass another `xml_file=`) to avoid it."
        ) from error
