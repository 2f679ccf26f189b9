"""A string registry of environments: `make("CartPole-v1")`."""

import difflib
import inspect
import re
import typing
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._base import AbstractEnvLike

_REGISTRY: dict[str, tuple[Callable[..., AbstractEnvLike], int | None]] = {}


def register(
    id: str,
    factory: Callable[..., AbstractEnvLike],
    *,
    max_episode_steps: int | None = None,
    overwrite: bool = False,
) -> None:
    """Registers an environment under `id`.

    Args:
        id: The name used with `make`, e.g. ``"MyEnv-v0"``.
        factory: Called with `make`'s keyword arguments; returns the env.
        max_episode_steps: If given, `make` wraps the env in
            `lerax.wrapper.TimeLimit` with this limit.
        overwrite: Allow replacing an existing registration.

    Raises:
        ValueError: If `id` is taken (and `overwrite` is False) or the limit
            is not a positive int.
        TypeError: If `id` is not a non-empty str or `factory` is not callable.
    """
    if not isinstance(id, str) or not id:
        raise TypeError(f"`register(id=...)` must be a non-empty str, got {id!r}.")
    if id in _REGISTRY and not overwrite:
        raise ValueError(
            f"{id!r} is already registered; pass `overwrite=True` to replace it."
        )
    if not callable(factory):
        raise TypeError(
            f"`register(factory=...)` must be callable (an env class or a function "
            f"returning an env), got {factory!r}."
        )
    if isinstance(max_episode_steps, np.integer):
        max_episode_steps = int(max_episode_steps)
    if max_episode_steps is not None and (
        not isinstance(max_episode_steps, int)
        or isinstance(max_episode_steps, bool)
        or max_episode_steps < 1
    ):
        raise ValueError(
            f"`max_episode_steps` must be a positive int, got {max_episode_steps!r}."
        )
    _REGISTRY[id] = (factory, max_episode_steps)


def registered() -> tuple[str, ...]:
    """The ids `make` knows, sorted."""
    return tuple(sorted(_REGISTRY))


def make(
    id: str, *, max_episode_steps: int | None = None, **kwargs: Any
) -> AbstractEnvLike:
    """Builds a registered environment with its standard time limit.

    Args:
        id: A registered id, e.g. ``"CartPole-v1"`` (see `registered()`).
        max_episode_steps: Overrides the registered time limit.
        **kwargs: Passed to the env's constructor (physical constants, ...).

    Returns:
        The env, wrapped in `lerax.wrapper.TimeLimit` when it has a limit.

    Raises:
        KeyError: If `id` is unknown (or not a str); the message lists the
            known ids.
        TypeError: If the constructor takes no keyword named in `kwargs`;
            the message suggests the closest keyword it takes.
    """
    if not isinstance(id, str):
        raise KeyError(
            f"Unknown environment id {id!r}: `make(id=...)` must be one registered "
            "id, a str such as 'CartPole-v1' (build several envs with one `make` "
            "each). "
            f"Known ids: {', '.join(registered())}."
        )
    if id not in _REGISTRY:
        close = _closest(id, _REGISTRY)
        hint = f" Did you mean {close!r}?" if close else ""
        raise KeyError(
            f"Unknown environment id {id!r}.{hint} Known ids: {', '.join(registered())}. "
            "Add your own with `lerax.env.register(id, factory)`."
        )
    factory, limit = _REGISTRY[id]
    try:
        env = factory(**kwargs)
    except TypeError as error:
        hint = _keyword_hint(factory, kwargs, error)
        if hint is None:
            raise
        raise TypeError(f"{str(error).rstrip('.')}. {hint}") from error
    limit = max_episode_steps if max_episode_steps is not None else limit
    if limit is not None:
        from ..wrapper import TimeLimit

        env = TimeLimit(env, limit)
    return env


def _closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `name`, ignoring case (`"walker"` is close to
    `"Walker2d-v5"`), or None when none is close."""
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(name.lower(), lowered, n=1)
    return lowered[close[0]] if close else None


_UNEXPECTED = re.compile(r"unexpected keyword argument '([^']+)'")


def _accepted_keywords(factory: Callable[..., Any]) -> tuple[str, ...]:
    """The keywords `factory` takes, by its signature: named parameters and
    the keys of a `**kwargs: Unpack[SomeTypedDict]`. Built-in factories name
    the env class they build (`env_class`), whose constructor is read instead.
    Empty when the signature cannot be read or takes any `**kwargs`."""
    target = getattr(factory, "env_class", None)
    if callable(target):
        factory = target()
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return ()
    names = []
    for parameter in parameters:
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            names.append(parameter.name)
        elif parameter.kind is parameter.VAR_KEYWORD:
            annotation = parameter.annotation
            if typing.get_origin(annotation) is not typing.Unpack:
                return ()  # takes any keyword: nothing to suggest
            (fields,) = typing.get_args(annotation)
            names.extend(getattr(fields, "__annotations__", {}))
    return tuple(name for name in names if name != "self")


def _keyword_hint(
    factory: Callable[..., Any], kwargs: dict[str, Any], error: TypeError
) -> str | None:
    """A suggestion for a keyword the env does not take, or None when `error`
    is not about one of `kwargs` (it came from deeper inside)."""
    match = _UNEXPECTED.search(str(error))
    if match is None or match.group(1) not in kwargs:
        return None
    names = _accepted_keywords(factory)
    if not names:
        return None
    close = _closest(match.group(1), names)
    hint = f"Did you mean {close!r}? " if close else ""
    return f"{hint}It takes: {', '.join(sorted(names))} (and `max_episode_steps`)."


def _register_builtins() -> None:
    def classic(name: str) -> Callable[..., AbstractEnvLike]:
        def factory(**kwargs: Any) -> AbstractEnvLike:
            from . import classic_control

            return getattr(classic_control, name)(**kwargs)

        def target() -> type:
            from . import classic_control

            return getattr(classic_control, name)

        factory.__name__ = name
        factory.env_class = target  # type: ignore[attr-defined]
        return factory

    register("CartPole-v1", classic("CartPole"), max_episode_steps=500)
    register("Acrobot-v1", classic("Acrobot"), max_episode_steps=500)
    register("MountainCar-v0", classic("MountainCar"), max_episode_steps=200)
    register(
        "MountainCarContinuous-v0",
        classic("ContinuousMountainCar"),
        max_episode_steps=999,
    )
    register("Pendulum-v1", classic("Pendulum"), max_episode_steps=200)

    def mujoco(name: str) -> Callable[..., AbstractEnvLike]:
        def factory(**kwargs: Any) -> AbstractEnvLike:
            from . import mujoco

            return getattr(mujoco, name)(**kwargs)

        def target() -> type:
            from . import mujoco

            return getattr(mujoco, name)

        factory.__name__ = name
        factory.env_class = target  # type: ignore[attr-defined]
        return factory

    # Gymnasium's v5 MuJoCo tasks and their time limits.
    for name, limit in (
        ("Ant", 1000),
        ("HalfCheetah", 1000),
        ("Hopper", 1000),
        ("Humanoid", 1000),
        ("HumanoidStandup", 1000),
        ("InvertedPendulum", 1000),
        ("InvertedDoublePendulum", 1000),
        ("Pusher", 100),
        ("Reacher", 50),
        ("Swimmer", 1000),
        ("Walker2d", 1000),
    ):
        register(f"{name}-v5", mujoco(name), max_episode_steps=limit)


_register_builtins()
