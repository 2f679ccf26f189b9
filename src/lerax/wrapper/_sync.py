"""`share_statistics`: one set of normalisation statistics for a batch of
envs; `sync_normalization`: evaluate with the statistics training arrived
at; `save_normalization` / `load_normalization`: keep them with a saved
policy.

The envs of a training batch share their normalisation statistics, as the
envs behind Stable-Baselines3's `VecNormalize` do: after every step the
rollout collector merges what each env saw into the shared statistics
(`share_statistics`). A policy trained behind `NormalizeObservation` has
only ever seen standardised observations, so it must be evaluated (and
deployed) behind the same standardisation, with the statistics training
arrived at and without updating them: `sync_normalization` freezes them
into the evaluation env's normalisation wrappers, as Stable-Baselines3's
`sync_envs_normalization` does.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from ..env import AbstractEnvLike
from ..utils._serialization import SUFFIX, load_into, resolve_path, save_tree
from ..utils._serialization import _read_trailer as read_trailer
from ._base import AbstractStatefulWrapper, AbstractWrapper
from ._normalize import NormalizeObservation, NormalizeReward
from ._running_statistics import RunningMeanStd

_KINDS = (NormalizeObservation, NormalizeReward)


class _Normalizer(NamedTuple):
    """A normalisation wrapper found in an env's chain: its kind, and where
    it sits in the env (`wrapper(env)`) and in the env's state
    (`state(env_state)`)."""

    kind: type
    wrapper: Callable[[Any], Any]
    state: Callable[[Any], Any]


def _levels(env: AbstractEnvLike) -> list[tuple[AbstractWrapper, Callable[[Any], Any]]]:
    """Every wrapper of `env`'s chain with a getter of its state within
    `env`'s state (for a stateless wrapper, the state it passes on),
    outermost first."""
    levels = []
    state_depth = 0
    while isinstance(env, AbstractWrapper):
        levels.append((env, _getter(state_depth, "env_state")))
        if isinstance(env, AbstractStatefulWrapper):
            state_depth += 1
        env = env.env
    return levels


def _normalizers(env: AbstractEnvLike) -> list[_Normalizer]:
    """Each normalisation wrapper in `env`'s chain, outermost first."""
    return [
        _Normalizer(type(wrapper), _getter(depth, "env"), state)
        for depth, (wrapper, state) in enumerate(_levels(env))
        if isinstance(wrapper, _KINDS)
    ]


def _getter(depth: int, attribute: str) -> Callable[[Any], Any]:
    def get(tree: Any) -> Any:
        for _ in range(depth):
            tree = getattr(tree, attribute)
        return tree

    return get


def _run_statistics(state: Any) -> RunningMeanStd:
    """The statistics of a normaliser state, batched or not: the shared
    statistics once per stream of envs, merged with what each env saw since
    the last sync. With batch axes (e.g. `[envs]` or `[seeds, envs]`), the
    last one holds copies of the same shared statistics and the others
    independent runs, which are pooled."""
    synced, pending = state.synced, state.pending
    batch_ndim = jnp.ndim(synced.count)
    if batch_ndim == 0:
        return synced.merge(pending)
    one_copy = jax.tree.map(lambda x: jnp.take(x, 0, axis=batch_ndim - 1), synced)
    return one_copy.pooled().merge(pending.pooled())


def share_statistics(env: AbstractEnvLike, env_state: Any) -> Any:
    """Makes a batch of envs share their normalisation statistics.

    For each `NormalizeObservation` / `NormalizeReward` of `env` that is
    neither frozen nor built with `shared=False`, what every env saw since
    the last call (its `pending` statistics) is merged into the shared
    statistics, which every env then holds. Stable-Baselines3's
    `VecNormalize` keeps one set of statistics for all its envs the same
    way. The rollout collector calls this after each step of its batch, so
    training needs nothing more; call it after your own `jax.vmap` of
    `env.step` for the same behaviour. Envs that are never shared keep
    statistics of their own.

    Args:
        env: The env (possibly wrapped in normalisation wrappers).
        env_state: Its states batched over envs (leading axis = envs).

    Returns:
        `env_state` with the statistics shared (itself when `env` has no
        normalisation wrapper to share).

    Raises:
        ValueError: If `env_state` is not batched over one leading env axis.
    """
    for normalizer in _normalizers(env):
        wrapper, get = normalizer.wrapper(env), normalizer.state
        if wrapper.is_frozen or not wrapper.shared:
            continue
        state = get(env_state)
        if jnp.ndim(state.synced.count) != 1:
            raise ValueError(
                "`share_statistics` needs env states batched over one leading "
                f"axis (envs), got statistics batched as "
                f"{jnp.shape(state.synced.count)}; under `jax.vmap` over seeds, "
                "call it inside the vmap."
            )
        num_envs = jnp.shape(state.synced.count)[0]
        shared = _run_statistics(state)
        empty = RunningMeanStd.empty(jnp.shape(shared.mean))
        synced, pending = jax.tree.map(
            lambda x, n=num_envs: jnp.broadcast_to(x, (n, *jnp.shape(x))),
            (shared, empty),
        )
        env_state = eqx.tree_at(
            lambda tree, get=get: (get(tree).synced, get(tree).pending),
            env_state,
            (synced, pending),
        )
    return env_state


def normalization_statistics(
    env: AbstractEnvLike, env_state: Any
) -> list[tuple[type, RunningMeanStd]]:
    """The statistics of every normalisation wrapper in `env`'s chain.

    Args:
        env: An env, possibly wrapped in `NormalizeObservation` and/or
            `NormalizeReward` (at any depth).
        env_state: A state of `env`, optionally batched (e.g. a training
            state's `state.actors.env_state`, one state per env, or
            `[seeds, envs]` under `jax.vmap` over seeds).

    Returns:
        `(kind, statistics)` per normalisation wrapper, outermost first,
        where `kind` is `NormalizeObservation` or `NormalizeReward` and
        `statistics` those of everything the batch saw: the shared
        statistics of its envs (counted once) with what each env saw since
        they were last shared; independent runs (the other batch axes) are
        pooled (`RunningMeanStd.pooled`).
    """
    return [
        (normalizer.kind, _run_statistics(normalizer.state(env_state)))
        for normalizer in _normalizers(env)
    ]


def sync_normalization(
    eval_env: AbstractEnvLike, env: AbstractEnvLike, env_state: Any
) -> AbstractEnvLike:
    """`eval_env` with its normalisation frozen at the training statistics.

    Each `NormalizeObservation` of `eval_env` is replaced by a frozen copy
    (`.frozen(...)`) holding the statistics (`normalization_statistics`) of
    the matching `NormalizeObservation` of the training `env` (matched in
    order, outermost first), and likewise each `NormalizeReward`. The
    evaluation env then sees observations exactly as the policy was trained
    on them, and its statistics never move. Leave `NormalizeReward` out of
    `eval_env` to report raw returns. Works on traced states (inside `jit`),
    so `EvalCallback` calls it at every evaluation.

    Args:
        eval_env: The evaluation env, wrapped like `env` for observations.
        env: The training env.
        env_state: Its state, optionally batched over envs (e.g.
            `state.actors.env_state` of a training state).

    Returns:
        The synced evaluation env (`eval_env` itself when neither env
        normalises anything).

    Raises:
        ValueError: If the two envs normalise observations a different number
            of times (the policy would see observations unlike those it was
            trained on), or if `eval_env` normalises rewards more times than
            `env`.
    """
    statistics = normalization_statistics(env, env_state)
    targets = [normalizer.kind for normalizer in _normalizers(eval_env)]
    sources = {kind: [s for k, s in statistics if k is kind] for kind in _KINDS}
    for kind in _KINDS:
        slots = targets.count(kind)
        optional = kind is NormalizeReward and not slots
        if len(sources[kind]) != slots and not optional:
            raise ValueError(
                f"The evaluation env has {slots} `{kind.__name__}` "
                f"wrapper(s) but the training env has {len(sources[kind])}; wrap the "
                "evaluation env the way the training env is wrapped"
                + (
                    " (the policy only ever saw normalised observations)."
                    if kind is NormalizeObservation
                    else " (or leave reward normalisation out to see raw returns)."
                )
                + " `EvalCallback(..., sync_normalization=False)` skips syncing."
            )
    # the i-th wrapper of a kind in `eval_env` takes the i-th of that kind in `env`
    queues = {kind: iter(found) for kind, found in sources.items()}
    return frozen_with(eval_env, [next(queues[kind]) for kind in targets])


def normalization_path(policy_path: str | Path) -> Path:
    """Where the normalisation statistics of the policy saved at
    `policy_path` are kept: `best.eqx` -> `best.normalization.eqx` (the
    `.eqx` suffix rule applies first)."""
    policy_path = resolve_path(policy_path)
    stem = policy_path.name[: -len(SUFFIX)]
    return policy_path.with_name(f"{stem}.normalization{SUFFIX}")


def save_normalization(path: str | Path, env: AbstractEnvLike) -> Path:
    """Saves the frozen statistics of `env`'s normalisation wrappers.

    Use it on an env from `sync_normalization` (or built with `.frozen`),
    next to the policy (`normalization_path(policy_path)`): a policy trained
    behind `NormalizeObservation` is only usable with them. The file holds
    a structural fingerprint, then the statistics (outermost wrapper
    first), written atomically; `load_normalization` reads it back.

    Args:
        path: Where to write (`.eqx` is appended when missing).
        env: An env whose `NormalizeObservation` / `NormalizeReward`
            wrappers are all frozen.

    Returns:
        The path written.

    Raises:
        ValueError: If `env` has no normalisation wrapper, or one is not
            frozen (sync it first).
    """
    if not _normalizers(env):
        raise ValueError(
            f"`save_normalization`: {env.name} has no `NormalizeObservation` or "
            "`NormalizeReward` wrapper, so there are no statistics to save."
        )
    unfrozen = unfrozen_normalizers(env)
    if unfrozen:
        raise ValueError(
            f"`save_normalization`: the env's {', '.join(k.__name__ for k in unfrozen)} "
            "statistics are "
            "not frozen; save the env returned by `sync_normalization(eval_env, "
            "env, state.actors.env_state)` instead."
        )
    return save_tree(path, frozen_statistics(env))


def load_normalization(path: str | Path, env: AbstractEnvLike) -> AbstractEnvLike:
    """`env` with its normalisation wrappers frozen at the statistics saved
    at `path` by `save_normalization` (or by `EvalCallback` next to its best
    policy).

    Args:
        path: The statistics file (`.eqx` suffix rule).
        env: The env wrapped as when the statistics were saved (frozen or
            not).

    Returns:
        The frozen env.

    Raises:
        FileNotFoundError: If there is no file at `path`.
        ValueError: If `env` has no normalisation wrapper, or the file holds
            statistics of other wrappers or shapes, or is corrupted.
    """
    found = _normalizers(env)
    if not found:
        raise ValueError(
            f"`load_normalization`: {env.name} has no `NormalizeObservation` or "
            "`NormalizeReward` wrapper to load statistics into."
        )
    source = resolve_path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"No normalisation statistics at {str(source)!r}: a policy trained "
            "behind `NormalizeObservation` needs the statistics it was trained "
            "with (saved by `save_normalization` or `EvalCallback`)."
        )
    skeleton = [
        RunningMeanStd.zeros(
            n.wrapper(env).env.observation_space.shape
            if n.kind is NormalizeObservation
            else ()
        )
        for n in found
    ]
    saved = _saved_shapes(source)
    wanted = [tuple(stats.mean.shape) for stats in skeleton]
    if saved is not None and saved != wanted:
        raise ValueError(
            f"Cannot load the normalisation statistics of {env.name}: "
            f"{str(source)!r} holds {_sets(saved)} of them (outermost wrapper "
            "first: mean shaped "
            f"{', '.join(map(str, saved))}), but {env.name} has "
            f"{len(found)} normalisation wrapper{'s' if len(found) > 1 else ''} "
            "(outermost first: "
            + ", ".join(
                f"`{n.kind.__name__}` shaped {shape}" for n, shape in zip(found, wanted)
            )
            + "). Wrap the env as it was when the statistics were saved: the same "
            "`NormalizeObservation` / `NormalizeReward` wrappers in the same order "
            "(statistics shaped () are a `NormalizeReward`'s, the others a "
            "`NormalizeObservation`'s of that observation shape)."
        )
    try:
        statistics = load_into(skeleton, source, "set of normalisation statistics")
    except ValueError as error:
        raise ValueError(
            f"Cannot load the normalisation statistics of {env.name} "
            f"({', '.join(n.kind.__name__ for n in found)}): {error}"
        ) from error
    return frozen_with(env, statistics)


def _sets(shapes: list[tuple[int, ...]]) -> str:
    return "1 set" if len(shapes) == 1 else f"{len(shapes)} sets"


def _saved_shapes(source: Path) -> list[tuple[int, ...]] | None:
    """The mean shapes of the statistics in a file written by
    `save_normalization`, outermost wrapper first, read from the record the
    file keeps of its structure; None when the file does not hold such a
    record (an old, corrupted or foreign file: `load_into` then reports
    what is wrong)."""
    try:
        record, _ = read_trailer(source.read_bytes(), source)
        kind, items = record["structure"]
        if kind != "list":
            return None
        shapes = []
        for item in items:
            tag, name, fields = item
            if tag != "module" or name != RunningMeanStd.__qualname__:
                return None
            mean = next(value for field, _, value in fields if field == "mean")
            if mean[0] != "array":
                return None
            shapes.append(tuple(int(d) for d in mean[1]))
        return shapes
    except (ValueError, TypeError, KeyError, IndexError, StopIteration):
        return None


def frozen_with(env: AbstractEnvLike, statistics: list[RunningMeanStd]) -> Any:
    """`env` with its normalisation wrappers (outermost first) frozen at
    `statistics`, one per wrapper."""
    for n, stats in zip(_normalizers(env), statistics, strict=True):
        env = eqx.tree_at(n.wrapper, env, replace_fn=lambda w, s=stats: w.frozen(s))
    return env


def unfrozen_normalizers(env: AbstractEnvLike) -> list[type]:
    """The kinds of `env`'s normalisation wrappers whose statistics still
    update, outermost first."""
    return [n.kind for n in _normalizers(env) if not n.wrapper(env).is_frozen]


def frozen_statistics(env: AbstractEnvLike) -> list[RunningMeanStd]:
    """The statistics held by `env`'s normalisation wrappers, outermost
    first; empty without any, or when one of them is not frozen."""
    if unfrozen_normalizers(env):
        return []
    return [n.wrapper(env).initial_statistics for n in _normalizers(env)]
