"""Observation normalisation baked into an exported graph: checks and metadata."""

from typing import Any

import jax.numpy as jnp

from ..policy import AbstractPolicy
from ..space import Box
from ..wrapper import AbstractWrapper, NormalizeObservation

FREEZE_HINT = (
    "`sync_normalization(eval_env, env, state.actors.env_state)` (from a training "
    "state), `load_normalization(normalization_path(policy_path), "
    "NormalizeObservation(env))` (from the `.normalization.eqx` file saved with "
    "the policy) or `NormalizeObservation(env).frozen(statistics)`"
)
"""Where a frozen `NormalizeObservation` comes from, for error messages."""


def inner_normalizer(env: Any) -> NormalizeObservation | None:
    """The outermost `NormalizeObservation` in `env`'s wrapper chain (`env`
    itself included), or None."""
    while isinstance(env, AbstractWrapper):
        if isinstance(env, NormalizeObservation):
            return env
        env = env.env
    return None


def check_normalization(policy: AbstractPolicy, normalization: Any) -> None:
    """Checks that `normalization` can be baked in front of `policy`.

    Raises:
        TypeError: If `normalization` is not a `NormalizeObservation`, or
            `policy` does not take `Box` observations.
        ValueError: If it is not frozen, holds no statistics or statistics
            of another shape, normalises observations twice, or emits
            observations of another shape or dtype than `policy` takes.
    """
    if not isinstance(normalization, NormalizeObservation):
        found = inner_normalizer(normalization)
        hint = (
            f" {type(normalization).__name__} wraps a `NormalizeObservation` "
            "deeper in its chain: pass that wrapper itself (e.g. `eval_env.env`)."
            if found is not None
            else f" Build one with {FREEZE_HINT}."
        )
        raise TypeError(
            "`to_onnx(normalization=...)` takes the frozen `NormalizeObservation` "
            f"the policy was trained behind; got {type(normalization).__name__}." + hint
        )
    if not normalization.is_frozen:
        raise ValueError(
            "`to_onnx(normalization=...)` needs a frozen `NormalizeObservation`: "
            "this one updates its statistics with every observation, so there "
            "are no fixed statistics to bake into the graph. Freeze it at the "
            f"statistics the policy was trained with: {FREEZE_HINT}."
        )
    statistics = normalization.initial_statistics
    if statistics is None:
        raise ValueError(
            "`to_onnx(normalization=...)`: the `NormalizeObservation` is frozen "
            "but holds no statistics (`initial_statistics` is None), so it would "
            "normalise with mean 0 and variance 1, not with the statistics the "
            f"policy was trained with. Freeze it with them: {FREEZE_HINT}."
        )
    raw_shape = tuple(normalization.env.observation_space.shape)
    if jnp.ndim(statistics.count) != 0 or any(
        jnp.shape(x) != raw_shape for x in (statistics.mean, statistics.var)
    ):
        raise ValueError(
            "`to_onnx(normalization=...)` needs the statistics of one stream, "
            f"mean and variance shaped like an observation {raw_shape}; got count "
            f"shaped {jnp.shape(statistics.count)}, mean {jnp.shape(statistics.mean)} "
            f"and variance {jnp.shape(statistics.var)}. Statistics taken from a "
            "training state are batched over envs: freeze with "
            "`sync_normalization(eval_env, env, state.actors.env_state)`."
        )
    nested = inner_normalizer(normalization.env)
    if nested is not None:
        raise ValueError(
            "`to_onnx(normalization=...)`: the `NormalizeObservation` wraps another "
            "`NormalizeObservation`, so the exported graph would take observations "
            "the inner one has already normalised, not raw ones. Export with a "
            "chain that normalises observations once."
        )
    space = policy.observation_space
    if not isinstance(space, Box):
        raise TypeError(
            f"`to_onnx(normalization=...)` normalises `Box` observations "
            f"(`NormalizeObservation` needs a `Box`), but {policy.name} takes "
            f"{space!r}. Export without `normalization=`, or build the policy "
            "from the normalised env."
        )
    emitted = normalization.observation_space
    if tuple(space.shape) != tuple(emitted.shape) or space.dtype != emitted.dtype:
        raise ValueError(
            f"`to_onnx(normalization=...)`: the `NormalizeObservation` emits "
            f"{emitted.dtype} observations shaped {tuple(emitted.shape)}, but "
            f"{policy.name} takes {space.dtype} observations shaped "
            f"{tuple(space.shape)} ({space!r}). Pass the normaliser the policy was "
            "trained behind (the policy built from that env)."
        )


def describe(normalization: NormalizeObservation) -> str:
    """A one-line account of the normalisation `to_onnx` bakes into a graph,
    for its metadata."""
    clip = normalization.clip
    formula = "(observation - mean) / sqrt(var + epsilon)"
    if clip is not None:
        formula = f"clip({formula}, -clip, clip)"
    statistics = normalization.initial_statistics
    count = "no" if statistics is None else f"{float(statistics.count):g}"
    return (
        f"NormalizeObservation(clip={clip}, epsilon={normalization.epsilon}) "
        f"with frozen statistics of {count} samples: the policy sees {formula} "
        "of the raw `observation` input, as float32"
    )
