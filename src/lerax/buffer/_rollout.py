"""`RolloutBuffer`: one on-policy rollout, time-major `[num_steps, num_envs, ...]`."""

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Key

from ._base import AbstractBuffer, as_count
from ._shuffle import permutation

# `policy_states` not given (None is a value: a stateless policy)
_UNSET: Any = object()


def _check_divides(method: str, num_batches: Any, total: int, what: str) -> int:
    """`num_batches` as a Python int, if it is a Python or NumPy int that
    divides `total`."""
    where = f"`RolloutBuffer.{method}(num_batches=...)`"
    count = as_count(num_batches, where, 1)
    if total % count:
        raise ValueError(
            f"{where} must be an int that divides the {total} {what} (nothing "
            f"is dropped), got {num_batches!r}."
        )
    return count


def _as_floats(name: str, value: Any) -> Float[Array, "*batch"]:
    """`value` (an array, NumPy array, list or number) as a floating-point
    JAX array: floating dtypes are kept (float16 stays float16), integers
    become the default float dtype, as the earlier lerax's
    `jnp.asarray(value, float)`. Only dtypes are looked at, so traced values
    pass unchanged."""
    array = jnp.asarray(value)
    if jnp.issubdtype(array.dtype, jnp.floating):
        return array
    if jnp.issubdtype(array.dtype, jnp.integer):
        return jnp.asarray(array, float)
    # bool (e.g. `dones` in this argument's place) is refused, not read as 0/1
    raise TypeError(
        f"`RolloutBuffer({name}=...)` must be floating point (integers are "
        f"converted), got dtype {array.dtype}. Check the argument order, "
        "`RolloutBuffer(observations, actions, rewards, dones, log_probs, "
        f"values, ...)`; if it is meant, cast it: "
        f"`jnp.asarray({name}, jnp.float32)`."
    )


def _as_flags(name: str, value: Any) -> Bool[Array, "*batch"]:
    """`value` (an array, NumPy array, list or bool) as a bool JAX array:
    numbers are read as flags (nonzero is True), as the earlier lerax's
    `jnp.asarray(value, bool)`. Only the dtype is looked at, so traced values
    pass unchanged."""
    array = jnp.asarray(value)
    if array.dtype == jnp.bool_:
        return array
    if jnp.issubdtype(array.dtype, jnp.number):
        return array.astype(bool)
    raise TypeError(
        f"`RolloutBuffer({name}=...)` must be bool (or 0/1 numbers), got dtype "
        f"{array.dtype}. Pass `{name}.astype(bool)`."
    )


def _nan_like(values: Any) -> Float[Array, "*batch"]:
    values = jnp.asarray(values)
    dtype = values.dtype if jnp.issubdtype(values.dtype, jnp.inexact) else jnp.float32
    return jnp.full(values.shape, jnp.nan, dtype)


@final
class RolloutBuffer(AbstractBuffer):
    """The transitions of one rollout, as arrays with leading axes `[T, N]`
    (steps, envs).

    Built by the on-policy algorithms with keywords, or with the earlier
    lerax's positional call `RolloutBuffer(observations, actions, rewards,
    dones, log_probs, values, states, action_masks=None, returns=None,
    advantages=None)`. `transitions` and `sequences` need the `[T, N]`
    layout; the methods of `lerax.buffer.AbstractBuffer` (`batches`,
    `sample`, `gather`, ...) work on any leading axes, e.g. the earlier
    lerax's single-env `[T]` rollouts.

    Attributes:
        observations: Observations the actions were taken in.
        actions: Actions as sampled by the policy (before any clipping to the
            env's bounds), so `log_probs` are their log-probabilities.
        log_probs: Log-probabilities of `actions` under the behaviour policy.
        values: Value estimates of `observations`.
        rewards: Rewards, with `gamma * V(final_observation)` added on steps
            truncated by a time limit (not on terminated steps).
        dones: Whether the episode ended at the step (terminated or truncated).
        episode_starts: Whether the step is the first of an episode (the
            policy state was reset before it).
        action_masks: Action masks the actions were sampled under (or None).
        policy_states: The policy state each step was taken from (None for
            stateless policies); recurrent losses restart from them at
            episode starts. `states` is the earlier lerax's name.
        advantages: Advantage estimates (NaN until computed).
        returns: Value targets (NaN until computed).
    """

    observations: Any
    actions: Any
    log_probs: Float[Array, "*batch"]
    values: Float[Array, "*batch"]
    rewards: Float[Array, "*batch"]
    dones: Bool[Array, "*batch"]
    episode_starts: Bool[Array, "*batch"]
    action_masks: Any
    policy_states: Any
    advantages: Float[Array, "*batch"]
    returns: Float[Array, "*batch"]

    def __init__(
        self,
        observations: Any,
        actions: Any,
        rewards: Float[Array, "*batch"],
        dones: Bool[Array, "*batch"],
        log_probs: Float[Array, "*batch"],
        values: Float[Array, "*batch"],
        states: Any = None,
        action_masks: Any = None,
        returns: Float[Array, "*batch"] | None = None,
        advantages: Float[Array, "*batch"] | None = None,
        *,
        episode_starts: Bool[Array, "*batch"] | None = None,
        policy_states: Any = _UNSET,
    ):
        """Args:
        observations: See `observations` above; the positional order is the
            earlier lerax's.
        actions: See `actions` above.
        rewards: See `rewards` above.
        dones: See `dones` above.
        log_probs: See `log_probs` above.
        values: See `values` above.
        states: The earlier lerax's name of `policy_states` (None: a
            stateless policy); give one or the other.
        action_masks: See `action_masks` above.
        returns: See `returns` above; None fills them with NaN (compute
            them with `compute_returns_and_advantages`).
        advantages: See `advantages` above; None fills them with NaN.
        episode_starts: See `episode_starts` above. None derives them from
            `dones`: a step starts an episode if the step before it (along
            the first axis, time) ended one, as the algorithms reset the
            policy state after every done. The first step is marked False,
            since the rollout may continue an episode begun before it; the
            recurrent losses (`sequences`) start every sequence from its
            first stored state anyway, so only later starts matter. Pass
            them when the first step is known to start an episode.
        policy_states: See `policy_states` above.

        `rewards`, `log_probs`, `values`, `returns` and `advantages` may be
        any array-likes (arrays, NumPy arrays, lists): floating-point ones
        keep their dtype and integer ones become the default float dtype;
        bool ones are refused (likely `dones` passed in the wrong place).
        `dones` and `episode_starts` become bool (nonzero numbers are True),
        as in the earlier lerax. Only dtypes are looked at, so traced values
        pass.

        Raises:
            TypeError: If both `states` and `policy_states` are given, or a
                field's dtype does not fit (see the conversions above).
            ValueError: If a field's leading axes differ from `rewards.shape`.
        """
        if policy_states is _UNSET:
            policy_states = states
        elif states is not None:
            raise TypeError(
                "`RolloutBuffer` takes `policy_states` or its earlier name "
                "`states`, not both."
            )
        rewards = _as_floats("rewards", rewards)
        dones = _as_flags("dones", dones)
        log_probs = _as_floats("log_probs", log_probs)
        values = _as_floats("values", values)
        if episode_starts is None and jnp.ndim(dones) == 0:
            # no time axis to shift along: `__check_init__` names the shape
            episode_starts = dones
        elif episode_starts is None:
            episode_starts = jnp.concatenate(
                [jnp.zeros_like(dones[:1]), dones[:-1]], axis=0
            )
        self.observations = observations
        self.actions = actions
        self.log_probs = log_probs
        self.values = values
        self.rewards = rewards
        self.dones = dones
        self.episode_starts = _as_flags("episode_starts", episode_starts)
        self.action_masks = action_masks
        self.policy_states = policy_states
        self.advantages = (
            _nan_like(values)
            if advantages is None
            else _as_floats("advantages", advantages)
        )
        self.returns = (
            _nan_like(values) if returns is None else _as_floats("returns", returns)
        )

    def __check_init__(self):
        shape = jnp.shape(self.rewards)
        if not shape:
            raise ValueError(
                "`RolloutBuffer(rewards=...)` must have at least one leading axis "
                "(steps, or [steps, envs]), got a scalar."
            )
        for name in (
            "observations",
            "actions",
            "log_probs",
            "values",
            "dones",
            "episode_starts",
            "action_masks",
            "policy_states",
            "advantages",
            "returns",
        ):
            for leaf in jax.tree.leaves(getattr(self, name)):
                if jnp.shape(leaf)[: len(shape)] != shape:
                    raise ValueError(
                        f"`RolloutBuffer({name}=...)` must have the leading axes of "
                        f"`rewards`, {shape}, got shape {jnp.shape(leaf)}."
                    )

    @property
    def states(self) -> Any:
        """`policy_states`, under the earlier lerax's name."""
        return self.policy_states

    @property
    def shape(self) -> tuple[int, ...]:
        """The batch axes, `rewards.shape` (`(T, N)`)."""
        return tuple(jnp.shape(self.rewards))

    def map_rows(self, fn: Callable[[Array], Array]) -> "RolloutBuffer":
        """This buffer with `fn` applied to every array leaf (all its fields
        are per-step rows)."""
        return jax.tree.map(fn, self)

    @property
    def num_steps(self) -> int:
        """`T`, the steps per env."""
        return self.rewards.shape[0]

    @property
    def num_envs(self) -> int:
        """`N`, the number of envs."""
        self._require_steps_by_envs("num_envs")
        return self.rewards.shape[1]

    def _require_steps_by_envs(self, method: str) -> None:
        if len(self.shape) != 2:
            raise ValueError(
                f"`RolloutBuffer.{method}` needs the [num_steps, num_envs] layout, "
                f"but this buffer's batch shape is {self.shape}; add an env axis "
                "(e.g. `buffer.map_rows(lambda x: x[:, None])`) or use `batches`."
            )

    def _per_step(self) -> dict[str, Any]:
        return {
            "observations": self.observations,
            "actions": self.actions,
            "log_probs": self.log_probs,
            "values": self.values,
            "episode_starts": self.episode_starts,
            "action_masks": self.action_masks,
            "advantages": self.advantages,
            "returns": self.returns,
            "policy_states": self.policy_states,
        }

    def transitions(self, num_batches: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """All `T * N` transitions shuffled into `num_batches` minibatches.

        Returns:
            A dict of arrays with leading axes `[num_batches, T * N // num_batches]`.

        Raises:
            ValueError: If `num_batches` is not an int that divides `T * N`.
        """
        total = self.num_steps * self.num_envs
        num_batches = _check_divides(
            "transitions", num_batches, total, "T * N transitions"
        )
        return self._shuffled(num_batches, total // num_batches, key)

    def sample(
        self,
        batch_size: int,
        *,
        key: Key[Array, ""],
        batch_axes: int | Sequence[int] | None = None,
    ) -> "RolloutBuffer":
        """`batch_size` distinct transitions drawn uniformly (without
        replacement, as the earlier lerax).

        Args:
            batch_size: Transitions to draw.
            key: PRNG key.
            batch_axes: The batch axes drawn over (None: all of them, so
                transitions from any step of any env).

        Returns:
            A `RolloutBuffer` with leading axis `[batch_size]` (followed by
            any batch axes not in `batch_axes`).

        Raises:
            ValueError: If `batch_size` is not an int in [1, rows].
        """
        flat = self.flatten_axes(batch_axes)
        total, batch_size = flat._check_batch_size(batch_size)
        return flat.gather(permutation(key, total)[:batch_size])

    def compute_returns_and_advantages(
        self, last_value: Float[Array, " N"], gae_lambda: float, gamma: float
    ) -> "RolloutBuffer":
        """This rollout with `advantages` and `returns` from
        `lerax.advantage.GAE(gamma, gae_lambda)` over its `rewards`,
        `values` and `dones` (the earlier lerax's method; the algorithms call
        their estimator themselves).

        Args:
            last_value: The value of each env's observation after the last
                step (bootstraps the unfinished episodes).
            gae_lambda: GAE's lambda in [0, 1].
            gamma: The discount factor in [0, 1].
        """
        from ..advantage import GAE

        advantages, returns = GAE(gamma=gamma, gae_lambda=gae_lambda)(
            self.rewards, self.values, self.dones, last_value
        )
        return dataclasses.replace(self, advantages=advantages, returns=returns)

    def _shuffled(self, num_batches: int, batch: int, key: Key[Array, ""]) -> Any:
        total = self.num_steps * self.num_envs
        order = permutation(key, total)[: num_batches * batch]

        def split(x):
            flat = jnp.reshape(x, (total,) + x.shape[2:])
            return jnp.reshape(flat[order], (num_batches, batch) + x.shape[2:])

        return jax.tree.map(split, self._per_step())

    def sequences(self, num_batches: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """Whole env sequences shuffled into `num_batches` minibatches (for
        recurrent policies, which re-run their core over each sequence).

        Returns:
            A dict of arrays with leading axes `[num_batches, N // num_batches, T]`.

        Raises:
            ValueError: If `num_batches` is not an int that divides `N`.
        """
        num_batches = _check_divides(
            "sequences", num_batches, self.num_envs, "N env sequences"
        )
        per_batch = self.num_envs // num_batches
        order = permutation(key, self.num_envs)[: num_batches * per_batch]

        def split_time_major(x):
            x = jnp.swapaxes(x, 0, 1)[order]
            return jnp.reshape(x, (num_batches, per_batch) + x.shape[1:])

        return jax.tree.map(split_time_major, self._per_step())
