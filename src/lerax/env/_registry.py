"""A string registry of environments: `make("CartPole-v1")`."""

from collections.abc import Callable
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
    """
    if not isinstance(id, str):
        raise KeyError(
            f"Unknown environment id {id!r}: `make(id=...)` must be one registered "
            "id, a str such as 'CartPole-v1' (build several envs with one `make` "
            "each). "
            f"Known ids: {', '.join(registered())}."
        )
    if id not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(id, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(
            f"Unknown environment id {id!r}.{hint} Known ids: {', '.join(registered())}. "
            "Add your own with `lerax.env.register(id, factory)`."
        )
    factory, limit = _REGISTRY[id]
    env = factory(**kwargs)
    limit = max_episode_steps if max_episode_steps is not None else limit
    if limit is not None:
        from ..wrapper import TimeLimit

        env = TimeLimit(env, limit)
    return env


def _register_builtins() -> None:
    def classic(name: str) -> Callable[..., AbstractEnvLike]:
        def factory(**kwargs: Any) -> AbstractEnvLike:
            from . import classic_control

            return getattr(classic_control, name)(**kwargs)

        factory.__name__ = name
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

        factory.__name__ = name
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
