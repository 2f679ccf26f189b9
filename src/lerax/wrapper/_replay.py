"""Replay with the current normalisation: `unnormalized` reports what an
env's normalisers received, `renormalize` maps stored values through them
with the statistics as they are now.

A replay buffer that stored observations as `NormalizeObservation` emitted
them would mix transitions standardised with statistics of many ages; a
sampled observation and the policy's current input would not be on the
same scale. Stable-Baselines3's off-policy algorithms store the values
`VecNormalize` received and normalise each sampled batch with the current
statistics; lerax's off-policy algorithms do the same with these
functions.

The replay covers the part of the wrapper chain from the innermost
`NormalizeObservation` (for observations) or `NormalizeReward` (for
rewards) outwards. Every wrapper there must map a value without state:
observation, action and reward wrappers (`map_observation`, `map_reward`),
`TimeLimit` and `EpisodeStatistics` (which pass values through), and the
normalisers themselves. A chain with another stateful wrapper in that part
has nothing to replay for that kind of value, and its values are stored as
the env emits them.
"""

from collections.abc import Callable
from typing import Any

from jaxtyping import Array, Float

from ..env import AbstractEnvLike
from ..space import AbstractSpace
from ._base import AbstractPassThroughWrapper
from ._episode_statistics import EpisodeStatistics
from ._normalize import (
    UNNORMALIZED_OBSERVATION,
    UNNORMALIZED_REWARD,
    NormalizeObservation,
    NormalizeReward,
)
from ._sync import _levels, _run_statistics
from ._time_limit import TimeLimit

# stateful wrappers that pass observations (resp. rewards) through unchanged
_OBSERVATION_NEUTRAL = (TimeLimit, EpisodeStatistics, NormalizeReward)
_REWARD_NEUTRAL = (TimeLimit, EpisodeStatistics, NormalizeObservation)


def _replay_chain(
    env: AbstractEnvLike, kind: type
) -> tuple[AbstractEnvLike, Callable[[Any], Any], list[tuple[Any, Any]]] | None:
    """For the innermost wrapper of `kind` (`NormalizeObservation` or
    `NormalizeReward`) in `env`'s chain: that wrapper, a getter of its state
    and the wrappers from it out to `env` that change the value, innermost
    first, each with a getter of its state. None if `env` has no such
    wrapper or a wrapper in that part of the chain cannot be replayed."""
    levels = _levels(env)
    inner = [i for i, (wrapper, _) in enumerate(levels) if isinstance(wrapper, kind)]
    if not inner:
        return None
    neutral = _OBSERVATION_NEUTRAL if kind is NormalizeObservation else _REWARD_NEUTRAL
    outward = []
    for wrapper, get in reversed(levels[: inner[-1] + 1]):  # innermost first
        if isinstance(wrapper, (kind, AbstractPassThroughWrapper)):
            outward.append((wrapper, get))
        elif not isinstance(wrapper, neutral):
            return None  # a stateful wrapper of unknown effect
    wrapper, get = levels[inner[-1]]
    return wrapper, get, outward


def _replay_map(
    env: AbstractEnvLike, env_state: Any, kind: type
) -> Callable[[Any], Any] | None:
    """The map from what the innermost `kind` normaliser of `env` receives to
    what `env` emits, with the current statistics of `env_state` (batched
    over envs), computed once here. None if there is nothing to replay."""
    chain = _replay_chain(env, kind)
    if chain is None:
        return None
    steps = []
    for wrapper, get in chain[2]:
        if isinstance(wrapper, NormalizeObservation):
            statistics = _run_statistics(get(env_state))
            steps.append(lambda x, w=wrapper, s=statistics: w.normalize(x, s))
        elif isinstance(wrapper, NormalizeReward):
            statistics = _run_statistics(get(env_state))
            steps.append(lambda x, w=wrapper, s=statistics: w.scale(x, s))
        elif kind is NormalizeObservation:
            steps.append(wrapper.map_observation)
        else:
            steps.append(wrapper.map_reward)

    def replay(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return replay


def renormalizer(
    env: AbstractEnvLike, env_state: Any
) -> Callable[[Any, Any], tuple[Any, Any]]:
    """`renormalize` with its statistics taken once: a function
    `(observation, reward) -> (observation, reward)` (either may be None)
    that maps stored values as `renormalize(env, env_state, ...)` does.
    Build it once outside a loop of gradient steps and call it inside."""
    observation_map = _replay_map(env, env_state, NormalizeObservation)
    reward_map = _replay_map(env, env_state, NormalizeReward)

    def apply(observation: Any = None, reward: Any = None) -> tuple[Any, Any]:
        if observation is not None and observation_map is not None:
            observation = observation_map(observation)
        if reward is not None and reward_map is not None:
            reward = reward_map(reward)
        return observation, reward

    return apply


def unnormalized(env: AbstractEnvLike, env_state: Any, info: dict) -> dict[str, Any]:
    """What `env`'s normalisers received, for a replay buffer to store.

    Args:
        env: The env (possibly wrapped in normalisation wrappers).
        env_state: The state an action was taken in (one env, unbatched).
        info: The `info` of the step taken from `env_state`.

    Returns:
        A dict with, for a chain whose observations can be replayed (see
        the module docstring), `"observation"` (what the innermost
        `NormalizeObservation` received in `env_state`) and
        `"final_observation"` (what it received after the step, before any
        reset); for a chain whose rewards can be replayed, `"reward"` (what
        the innermost `NormalizeReward` received). Empty for an env without
        normalisers. `renormalize` maps these values to what `env` would
        emit for them now.
    """
    out = {}
    chain = _replay_chain(env, NormalizeObservation)
    if chain is not None:
        _, get, _ = chain
        out["observation"] = get(env_state).inner_observation
        out["final_observation"] = info[UNNORMALIZED_OBSERVATION]
    if _replay_chain(env, NormalizeReward) is not None:
        out["reward"] = info[UNNORMALIZED_REWARD]
    return out


def scaled_episode_info(env: AbstractEnvLike) -> bool:
    """Whether the `info["episode"]` returns of `env`'s steps sum rewards a
    `NormalizeReward` has scaled: one sits inside (below) the outermost
    `EpisodeStatistics`, which then adds up what the normaliser emits.
    Logged returns then come from the rewards the normaliser received
    instead. False without `EpisodeStatistics` (episodes reported by an
    inner env count its own rewards)."""
    wrappers = [wrapper for wrapper, _ in _levels(env)]
    for depth, wrapper in enumerate(wrappers):
        if isinstance(wrapper, EpisodeStatistics):
            return any(isinstance(w, NormalizeReward) for w in wrappers[depth + 1 :])
    return False


def unnormalized_observation_space(env: AbstractEnvLike) -> AbstractSpace:
    """The space of the observations `unnormalized` reports for `env`: the
    observation space below its innermost `NormalizeObservation` when its
    observations can be replayed, else `env.observation_space`."""
    chain = _replay_chain(env, NormalizeObservation)
    if chain is None:
        return env.observation_space
    return chain[0].env.observation_space


def renormalize(
    env: AbstractEnvLike,
    env_state: Any,
    observation: Any = None,
    reward: Float[Array, ""] | None = None,
) -> tuple[Any, Any]:
    """Maps one stored transition's unnormalised values to what `env` would
    emit for them now (`jax.vmap` it over a sampled batch).

    Observations go through the innermost `NormalizeObservation` and every
    wrapper outside it, standardised with the current statistics of each
    normaliser; rewards likewise through the innermost `NormalizeReward`
    outwards. The statistics are those of `env_state`, batched over envs as
    in a training state (`state.actors.env_state`): the envs' shared
    statistics, or for `shared=False` normalisers those of all the envs
    pooled. As Stable-Baselines3 normalises each batch it samples from a
    replay buffer with `VecNormalize`'s current statistics.

    Args:
        env: The env.
        env_state: Its states, batched over one leading env axis.
        observation: An observation as `unnormalized` reported it (None:
            not mapped), or as `env` emitted it when its chain has no
            observations to replay (returned unchanged).
        reward: Likewise for a reward.

    Returns:
        `(observation, reward)`, mapped.
    """
    return renormalizer(env, env_state)(observation, reward)
