"""`NormalizeObservation` and `NormalizeReward`: running standardisation."""

from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Key

from .._custom_types import Info
from ..env import AbstractEnvLike
from ..space import Box
from ..utils._checks import (
    check_bool,
    check_finite,
    check_non_negative,
    check_positive,
    check_unit_interval,
)
from ._base import AbstractStatefulWrapper, AbstractWrapperState, require_box
from ._running_statistics import RunningMeanStd

# `info` keys under which a step reports what the innermost normaliser of
# each kind received: the observation after the step (before any reset) and
# the reward (see `lerax.wrapper.unnormalized`).
UNNORMALIZED_OBSERVATION = "unnormalized_observation"
UNNORMALIZED_REWARD = "unnormalized_reward"


# what a numeric setting may be before its range check (which names a
# string, so strings pass here)
_SETTING_TYPES = (int, float, str, bytes, np.number, np.ndarray, jax.Array)


def _check_unbatched(
    statistics: RunningMeanStd,
    shape: tuple[int, ...],
    kind: str,
    where: str = ".frozen(statistics)",
) -> None:
    """Raises a `ValueError` unless `statistics` are one stream's of samples
    shaped `shape` (`where` names the argument, for the message)."""
    if not isinstance(statistics, RunningMeanStd):
        raise TypeError(
            f"`Normalize{kind}{where}` must be a `lerax.wrapper.RunningMeanStd`, "
            f"got {type(statistics).__name__}. Build it with "
            "`RunningMeanStd(mean, var, count)` or take it from a state with "
            "`lerax.wrapper.normalization_statistics`."
        )
    shape = tuple(shape)
    got = (
        jnp.shape(statistics.count),
        jnp.shape(statistics.mean),
        jnp.shape(statistics.var),
    )
    if got == ((), shape, shape):
        return
    count, mean, var = got
    if count == () and mean == shape:
        # one stream, but its variance does not fit (e.g. built by hand)
        raise ValueError(
            f"`Normalize{kind}{where}` needs the variance shaped "
            f"like the mean, {shape}; got var shaped {var}. Build the "
            f"statistics with `var` of shape {shape} (or take them from a "
            "state with `lerax.wrapper.normalization_statistics`)."
        )
    raise ValueError(
        f"`Normalize{kind}{where}` needs the statistics of one "
        f"stream, mean shaped {shape} (var too) and a scalar count; got count "
        f"shaped {count}, mean shaped {mean} and var shaped {var}. Statistics "
        "taken from a training state are batched over envs: take one stream's with "
        "`lerax.wrapper.normalization_statistics(env, env_state)` (or use "
        "`lerax.wrapper.sync_normalization`)."
    )


def _check_settings(owner: str, initial_statistics: Any, shape, **settings) -> None:
    """Refuses, before anything is traced, settings of a normaliser that
    would only fail (or silently misbehave) inside `jit`: `epsilon` and
    `clip` (None: off) must be real scalars, `is_frozen` and `shared`
    bools, and `initial_statistics` (None: a fresh start) one stream's
    statistics of the right shape."""
    for name in ("is_frozen", "shared"):
        check_bool(owner, **{name: settings.pop(name)})
    for name, value in settings.items():
        if value is None and name == "clip":
            continue
        if value is None or not isinstance(value, _SETTING_TYPES):
            off = " (None turns clipping off)" if name == "clip" else ""
            raise TypeError(
                f"`{owner}({name}=...)` must be a number{off}, got {value!r}."
            )
        if not isinstance(value, (str, bytes)) and jnp.ndim(value) != 0:
            raise ValueError(
                f"`{owner}({name}=...)` must be one number, got an array of shape "
                f"{jnp.shape(value)}. Give a scalar."
            )
    if initial_statistics is not None:
        kind = owner.removeprefix("Normalize")
        _check_unbatched(initial_statistics, shape, kind, "(initial_statistics=...)")


class AbstractNormalizerState(AbstractWrapperState):
    """State of a normalisation wrapper: its running statistics, kept in two
    parts so that a batch of envs can share them.

    `synced` holds the statistics as of the last `share_statistics` (the
    same in every env of a training batch); `pending` the samples this env
    saw since (count 0 right after a sync). An env that is never synced
    (stepped on its own) simply accumulates everything in `pending`.

    Attributes:
        synced: The shared statistics as of the last sync.
        pending: The statistics of this env's samples since then.
    """

    synced: eqx.AbstractVar[RunningMeanStd]
    pending: eqx.AbstractVar[RunningMeanStd]

    @property
    def statistics(self) -> RunningMeanStd:
        """The statistics this env normalises with: `synced` and `pending`
        merged."""
        return self.synced.merge(self.pending)


@final
class NormalizeObservationState(AbstractNormalizerState):
    """State of `NormalizeObservation`: the running observation statistics
    (`statistics`, kept as `synced` and `pending`) and the inner env's
    observation of this state (`inner_observation`, before standardisation;
    off-policy algorithms store it in the replay buffer and standardise it
    with the current statistics when it is sampled, see
    `lerax.wrapper.renormalize`)."""

    env_state: Any
    synced: RunningMeanStd
    pending: RunningMeanStd
    inner_observation: Any


@final
class NormalizeObservation(AbstractStatefulWrapper):
    """Standardises observations with a running mean and variance, then clips.

    The statistics live in the wrapper state, so they persist across episodes.
    They are updated with every observation the env emits (initial, after
    each step and after each reset): the last observation of an episode
    counts too, as with Gymnasium's `NormalizeObservation`, where
    `VecNormalize` only sees the next episode's first one. In training, the
    envs of the batch share one set of statistics, as with
    Stable-Baselines3's `VecNormalize`: the rollout collector merges what
    every env saw after each step (`share_statistics`; `shared=False` keeps
    one set per env instead); an env stepped on its own keeps its own.
    Within a step, before that merge, each env standardises its observation
    with the shared statistics of the earlier steps plus its own new
    observation only (as `NormalizeReward` does with returns), where
    `VecNormalize` first counts every env's observation of the step: with
    several envs the first observations differ most (measured on CartPole
    with four envs: up to 55 % at step 1, 11 % at step 10, under 1 % from
    step 100). For
    evaluation, `frozen(statistics)` returns a copy of the wrapper that
    starts from given statistics and never updates them;
    `sync_normalization` builds it from a training state's statistics, and
    `EvalCallback` does so at every evaluation. Each step's `info` holds
    what the innermost `NormalizeObservation` of the chain received after
    the step, before any reset (`info["unnormalized_observation"]`), which
    off-policy algorithms keep in their replay buffer.

    Attributes:
        env: The wrapped environment (its observation space must be a `Box`).
        clip: Normalised observations are clipped to `[-clip, clip]` (default
            10, as Stable-Baselines3; None disables clipping).
        epsilon: Added to the variance before dividing.
        is_frozen: Whether the statistics are fixed.
        initial_statistics: Statistics a fresh state starts from (None: mean
            0, variance 1).
        shared: Whether the envs of a training batch share the statistics
            (default, as `VecNormalize`); False keeps one set per env (as
            Gymnasium's wrapper inside each env of a vector env), which
            `share_statistics` then leaves alone.
    """

    env: AbstractEnvLike
    clip: float | None = eqx.field(static=True, default=10.0)
    epsilon: float = eqx.field(static=True, default=1e-8)
    is_frozen: bool = eqx.field(static=True, default=False)
    initial_statistics: RunningMeanStd | None = None
    shared: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        require_box(self.env, "NormalizeObservation", "observation")
        _check_settings(
            "NormalizeObservation",
            self.initial_statistics,
            self.env.observation_space.shape,
            clip=self.clip,
            epsilon=self.epsilon,
            is_frozen=self.is_frozen,
            shared=self.shared,
        )
        if self.clip is not None:
            # refuses NaN too (NaN > 0 is false); inf means no clipping
            check_positive("NormalizeObservation", clip=self.clip)
        check_finite("NormalizeObservation", epsilon=self.epsilon)
        check_non_negative("NormalizeObservation", epsilon=self.epsilon)

    def frozen(self, statistics: RunningMeanStd) -> "NormalizeObservation":
        """A copy that normalises with fixed `statistics` (for evaluation).

        Raises:
            ValueError: If `statistics` is batched (e.g. taken from a
                training state, one copy per env: use
                `normalization_statistics` or `sync_normalization`), or its
                mean or variance does not match the observation shape.
        """
        _check_unbatched(statistics, self.env.observation_space.shape, "Observation")
        return NormalizeObservation(
            self.env, self.clip, self.epsilon, True, statistics, self.shared
        )

    @property
    def observation_space(self) -> Box:
        shape = self.env.observation_space.shape
        bound = jnp.inf if self.clip is None else self.clip
        return Box(-bound, bound, shape)

    def _with(
        self, synced: RunningMeanStd, pending: RunningMeanStd, env_state: Any, key
    ) -> NormalizeObservationState:
        """The state over `env_state`, its observation folded into `pending`."""
        observation = jnp.asarray(self.env.observation(env_state, key=key))
        if not self.is_frozen:
            pending = pending.update(observation[None])
        return NormalizeObservationState(env_state, synced, pending, observation)

    def normalize(self, observation: Any, statistics: RunningMeanStd) -> Array:
        """`observation` (of the inner env) standardised with `statistics`
        and clipped, as this wrapper emits it."""
        normalized = statistics.normalize(observation, self.epsilon)
        if self.clip is not None:
            normalized = jnp.clip(normalized, -self.clip, self.clip)
        return normalized.astype(jnp.float32)

    def wrap(self, env_state: Any, *, key: Key[Array, ""]) -> NormalizeObservationState:
        shape = self.env.observation_space.shape
        synced = self.initial_statistics
        if synced is None:
            synced = RunningMeanStd.zeros(shape)
        return self._with(synced, RunningMeanStd.empty(shape), env_state, key)

    def carry_over(self, state, env_state: Any, *, key: Key[Array, ""]):
        return self._with(state.synced, state.pending, env_state, key)

    def advance(self, state, action: Any, next_env_state: Any, *, key: Key[Array, ""]):
        del action
        return self._with(state.synced, state.pending, next_env_state, key)

    def observation(self, state: NormalizeObservationState, *, key: Key[Array, ""]):
        # the observation the statistics took in, drawn once when the state
        # was made: an env with sensor noise draws anew for every key, and
        # the agent must see what is recorded (`unnormalized_observation`)
        del key
        return self.normalize(state.inner_observation, state.statistics)

    def reward(self, state, action: Any, next_state, *, key: Key[Array, ""]):
        return self.env.reward(state.env_state, action, next_state.env_state, key=key)

    def truncate(self, state: NormalizeObservationState) -> Bool[Array, ""]:
        return self.env.truncate(state.env_state)

    def transition_info(self, state, action: Any, next_state) -> Info:
        info = dict(
            self.env.transition_info(state.env_state, action, next_state.env_state)
        )
        # the innermost normaliser's (an outer one's input is already normalised)
        info.setdefault(UNNORMALIZED_OBSERVATION, next_state.inner_observation)
        return info


@final
class NormalizeRewardState(AbstractNormalizerState):
    """State of `NormalizeReward`: the running statistics of the discounted
    return (`statistics`, kept as `synced` and `pending`), the return of the
    running episode, the last scaled reward and the inner env's reward it
    was scaled from (`inner_reward`; 0 at the start of an episode)."""

    env_state: Any
    synced: RunningMeanStd
    pending: RunningMeanStd
    discounted_return: Float[Array, ""]
    last_reward: Float[Array, ""]
    inner_reward: Float[Array, ""]


@final
class NormalizeReward(AbstractStatefulWrapper):
    """Divides rewards by the running standard deviation of the discounted return.

    As Stable-Baselines3's `VecNormalize` (and, but for one point below,
    Gymnasium's `NormalizeReward`): a return `G <- gamma * G + r` is
    accumulated, its running variance is tracked, and each reward is scaled
    by `1 / sqrt(var + epsilon)`, then clipped. Rewards are not centred. The
    return is reset when an episode ends by termination or by truncation,
    as `VecNormalize` does; Gymnasium's wrapper resets it on termination
    only, so after a truncation it carries the old episode's return on.

    Each env keeps its own return; in training, the envs of the batch share
    the statistics of their returns (`share_statistics`), as `VecNormalize`
    does. One difference remains: within a step, before the statistics are
    shared, an env scales its reward with the shared statistics of the
    earlier steps plus its own new return only, where `VecNormalize` first
    counts every env's return of that step. With one env the two are the
    same (up to float32 rounding, about 1e-7). With several, every env's
    first reward is scaled by its own return alone (so it is clipped to
    `clip`), and the gap shrinks as the statistics grow: measured on four
    classic-control envs (CartPole, Acrobot, Pendulum, MountainCarContinuous)
    with four envs each, `gamma=0.99` and no clipping, the scaled rewards
    differed from `VecNormalize`'s by up to 7-13 % at step 10, 1-3 % from
    step 30 on, about 1 % from step 100 and 0.2 % from step 200.

    Each step's `info` holds the reward the innermost `NormalizeReward` of
    the chain received (`info["unnormalized_reward"]`), which off-policy
    algorithms keep in their replay buffer.

    Attributes:
        env: The wrapped environment.
        gamma: Discount of the tracked return (match the algorithm's).
        clip: Normalised rewards are clipped to `[-clip, clip]` (None: off).
        epsilon: Added to the variance before dividing.
        is_frozen: Whether the statistics are fixed.
        initial_statistics: Statistics a fresh state starts from.
        shared: Whether the envs of a training batch share the statistics
            (default, as `VecNormalize`); False keeps one set per env.
    """

    env: AbstractEnvLike
    gamma: float = 0.99
    clip: float | None = eqx.field(static=True, default=10.0)
    epsilon: float = eqx.field(static=True, default=1e-8)
    is_frozen: bool = eqx.field(static=True, default=False)
    initial_statistics: RunningMeanStd | None = None
    shared: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if self.gamma is None or not isinstance(self.gamma, _SETTING_TYPES):
            raise TypeError(
                f"`NormalizeReward(gamma=...)` must be a number in [0, 1] (the "
                f"algorithm's discount), got {self.gamma!r}."
            )
        _check_settings(
            "NormalizeReward",
            self.initial_statistics,
            (),
            clip=self.clip,
            epsilon=self.epsilon,
            is_frozen=self.is_frozen,
            shared=self.shared,
        )
        check_unit_interval("NormalizeReward", gamma=self.gamma)
        if self.clip is not None:
            # refuses NaN too (NaN > 0 is false); inf means no clipping
            check_positive("NormalizeReward", clip=self.clip)
        check_finite("NormalizeReward", epsilon=self.epsilon)
        check_non_negative("NormalizeReward", epsilon=self.epsilon)

    def frozen(self, statistics: RunningMeanStd) -> "NormalizeReward":
        """A copy that scales rewards with fixed `statistics` (for evaluation).

        Raises:
            ValueError: If `statistics` is batched (taken from a training
                state: use `normalization_statistics` or
                `sync_normalization`).
        """
        _check_unbatched(statistics, (), "Reward")
        return NormalizeReward(
            self.env, self.gamma, self.clip, self.epsilon, True, statistics, self.shared
        )

    @property
    def observation_space(self):
        return self.env.observation_space

    def wrap(self, env_state: Any, *, key: Key[Array, ""]) -> NormalizeRewardState:
        del key
        synced = self.initial_statistics
        if synced is None:
            synced = RunningMeanStd.zeros(())
        zero = jnp.zeros((), jnp.float32)
        pending = RunningMeanStd.empty(())
        return NormalizeRewardState(env_state, synced, pending, zero, zero, zero)

    def carry_over(self, state: NormalizeRewardState, env_state: Any, *, key):
        del key
        zero = jnp.zeros((), jnp.float32)
        return NormalizeRewardState(
            env_state, state.synced, state.pending, zero, zero, zero
        )

    def advance(
        self, state: NormalizeRewardState, action: Any, next_env_state: Any, *, key
    ):
        # float32 as the state's zeros (an inner float64 reward, e.g. under
        # `jax_enable_x64`, would change the state's dtypes mid-episode)
        reward = jnp.asarray(
            self.env.reward(state.env_state, action, next_env_state, key=key),
            jnp.float32,
        )
        discounted = jnp.asarray(
            self.gamma * state.discounted_return + reward, jnp.float32
        )
        pending = state.pending
        if not self.is_frozen:
            pending = pending.update(discounted[None])
        scaled = self.scale(reward, state.synced.merge(pending))
        return NormalizeRewardState(
            next_env_state,
            state.synced,
            pending,
            discounted,
            jnp.asarray(scaled, jnp.float32),
            reward,
        )

    def scale(self, reward: Float[Array, "..."], statistics: RunningMeanStd) -> Array:
        """`reward` (of the inner env) divided by the standard deviation of
        the return under `statistics` and clipped, as this wrapper emits it."""
        scaled = reward / jnp.sqrt(statistics.var + self.epsilon)
        if self.clip is not None:
            scaled = jnp.clip(scaled, -self.clip, self.clip)
        return scaled

    def observation(self, state: NormalizeRewardState, *, key: Key[Array, ""]):
        return self.env.observation(state.env_state, key=key)

    def reward(self, state, action: Any, next_state: NormalizeRewardState, *, key):
        del state, action, key
        return next_state.last_reward

    def truncate(self, state: NormalizeRewardState) -> Bool[Array, ""]:
        return self.env.truncate(state.env_state)

    def transition_info(self, state, action: Any, next_state) -> Info:
        info = dict(
            self.env.transition_info(state.env_state, action, next_state.env_state)
        )
        info.setdefault(UNNORMALIZED_REWARD, next_state.inner_reward)
        return info
