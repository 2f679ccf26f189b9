"""`ReplayBuffer`: a pre-allocated ring buffer living in the training state."""

from collections.abc import Callable
from typing import Any, final

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Int, Key

from ..space import AbstractSpace
from ._base import AbstractBuffer, as_count
from ._rows import check_capacity, check_rows, empty_rows

# an argument of the earlier lerax's `add` not given (None is a value there)
_UNSET: Any = object()
# the earlier lerax's `add` arguments, in its positional order
_EARLIER_ADD = (
    "observation",
    "next_observation",
    "action",
    "reward",
    "done",
    "timeout",
    "state",
    "next_state",
    "action_mask",
)


# appended to the shape errors of `add`'s batched form, since a call meant
# in the earlier form can be read as the batched one
_BATCHED_FORM_NOTE = (
    " (The call was read as the batched form `add(observations, actions, "
    "rewards, next_observations, terminated, ...)`, every field with a leading "
    "axis of n transitions, because no keyword of the earlier form was given "
    "and the fourth positional argument, `next_observations` there, is not a "
    "single scalar. For one transition in the earlier form `add(observation, "
    "next_observation, action, reward, done, timeout, ...)`, whose fourth "
    "argument is `reward` and whose fields have no leading axis, pass the "
    "reward as a scalar, e.g. `reward.reshape(())`, or name the arguments, "
    "e.g. `add(observation=..., ..., reward=...)`.)"
)


def _is_one_value(x: Any) -> bool:
    leaves = jax.tree.leaves(x)
    return len(leaves) == 1 and leaves[0] is x and jnp.ndim(x) == 0 and x is not None


@final
class ReplayBuffer(AbstractBuffer):
    """Transitions stored in fixed-size arrays, overwritten oldest first.

    Every field has a leading `capacity` axis. `next_observations` holds the
    true next observation (the pre-reset one at episode ends) and
    `terminated` is kept apart from truncation, so time-limited steps are
    bootstrapped. For stateful policies (a recurrent hidden state, a step
    counter, ...) each row also holds the policy state the action was chosen
    with and the policy state after the step (before any episode-end reset),
    so losses can evaluate the policy on each observation with the state it
    had then; for stateless policies both are None and cost nothing.
    Sampling draws indices uniformly with replacement, so its cost depends on
    the batch size, not on the capacity.

    Three ways to build one: `ReplayBuffer.create(capacity, ...)`; the
    earlier lerax's `ReplayBuffer(size, observation_space, action_space,
    state)` (`size` is then the capacity); or every field by keyword.

    Compared with the earlier lerax: `size` is the number of filled rows
    (`current_size` too), not the capacity (`capacity`); rows store
    `terminated` (`done and not timeout`) instead of `dones` and `timeouts`,
    which are offered as read-only views; `sample` returns a dict and draws
    with replacement.

    Attributes:
        observations: Observations.
        actions: Actions taken.
        rewards: Rewards.
        next_observations: Observations after the step (before any reset).
        terminated: Whether the step terminated the episode.
        action_masks: Action masks of the states acted in (None for envs
            without masks).
        next_action_masks: Action masks of the next states (None for envs
            without masks).
        policy_states: Policy states the actions were chosen with (a pytree
            of arrays; None for stateless policies).
        next_policy_states: Policy states after the step, before any reset
            at an episode end (None for stateless policies).
        position: Next row to write.
        size: Rows filled so far (at most `capacity`).
    """

    observations: Any
    actions: Any
    rewards: Float[Array, " capacity"]
    next_observations: Any
    terminated: Bool[Array, " capacity"]
    action_masks: Any
    next_action_masks: Any
    policy_states: Any
    next_policy_states: Any
    position: Int[Array, ""]
    size: Int[Array, ""]

    def __init__(
        self,
        size: int | Int[Array, ""],
        observation_space: AbstractSpace | None = None,
        action_space: AbstractSpace | None = None,
        state: Any = None,
        *,
        observations: Any = None,
        actions: Any = None,
        rewards: Float[Array, " capacity"] | None = None,
        next_observations: Any = None,
        terminated: Bool[Array, " capacity"] | None = None,
        action_masks: Any = None,
        next_action_masks: Any = None,
        policy_states: Any = None,
        next_policy_states: Any = None,
        position: Int[Array, ""] | None = None,
    ):
        """Args:
        size: With `observation_space`: the capacity (the earlier lerax's
            form). Otherwise the `size` field above (rows filled).
        observation_space: The env's observation space (the earlier lerax's
            form; rows are zero-filled, not filled from `canonical()`).
        action_space: The env's action space (the earlier lerax's form).
        state: An example policy state (the earlier lerax's form; None: a
            stateless policy).
        observations: See `observations` above (the field form; so are the
            following).
        actions: See `actions` above.
        rewards: See `rewards` above.
        next_observations: See `next_observations` above.
        terminated: See `terminated` above.
        action_masks: See `action_masks` above.
        next_action_masks: See `next_action_masks` above.
        policy_states: See `policy_states` above.
        next_policy_states: See `next_policy_states` above.
        position: See `position` above.

        Raises:
            TypeError: If the two forms are mixed or a field is missing.
            ValueError: If the earlier form's `size` is not a positive int.
        """
        fields = dict(
            observations=observations,
            actions=actions,
            rewards=rewards,
            next_observations=next_observations,
            terminated=terminated,
            action_masks=action_masks,
            next_action_masks=next_action_masks,
            policy_states=policy_states,
            next_policy_states=next_policy_states,
            position=position,
        )
        if observation_space is not None or action_space is not None:
            given = sorted(k for k, v in fields.items() if v is not None)
            if given or observation_space is None or action_space is None:
                raise TypeError(
                    "`ReplayBuffer(size, observation_space, action_space, state)` "
                    "needs both spaces and takes no field keywords (got "
                    f"{given or 'a missing space'}); build from fields with "
                    "keywords only, or use `ReplayBuffer.create`."
                )
            capacity = check_capacity(size, "`ReplayBuffer(size=...)`")
            fields = empty_rows(capacity, observation_space, action_space, None, state)
            fields["position"] = jnp.zeros((), jnp.int32)
            size = jnp.zeros((), jnp.int32)
        else:
            required = ("observations", "actions", "rewards", "next_observations")
            missing = [
                k for k in required + ("terminated", "position") if fields[k] is None
            ]
            if missing:
                raise TypeError(
                    f"`ReplayBuffer(...)` is missing the fields {missing}. Build it "
                    "with `ReplayBuffer.create(capacity, observation_space, "
                    "action_space)` or `ReplayBuffer(size, observation_space, "
                    "action_space, state)`."
                )
        self.observations = fields["observations"]
        self.actions = fields["actions"]
        self.rewards = fields["rewards"]
        self.next_observations = fields["next_observations"]
        self.terminated = fields["terminated"]
        self.action_masks = fields["action_masks"]
        self.next_action_masks = fields["next_action_masks"]
        self.policy_states = fields["policy_states"]
        self.next_policy_states = fields["next_policy_states"]
        self.position = fields["position"]
        self.size = size

    @staticmethod
    def create(
        capacity: int,
        observation_space: AbstractSpace,
        action_space: AbstractSpace,
        mask_example: Any = None,
        policy_state_example: Any = None,
    ) -> "ReplayBuffer":
        """An empty buffer for `capacity` transitions of the given spaces.

        Args:
            capacity: Rows (transitions) kept.
            observation_space: The env's observation space.
            action_space: The env's action space.
            mask_example: An action mask (None: the env has no masks); rows
                for the masks of both states are allocated like it.
            policy_state_example: A policy state, e.g. `policy.reset(key=...)`
                (None: a stateless policy); rows for the states before and
                after each step are allocated like it.

        Raises:
            ValueError: If `capacity` is not a positive int.
        """
        capacity = check_capacity(capacity, "`ReplayBuffer.create(capacity=...)`")
        return ReplayBuffer(
            size=jnp.zeros((), jnp.int32),
            position=jnp.zeros((), jnp.int32),
            **empty_rows(
                capacity,
                observation_space,
                action_space,
                mask_example,
                policy_state_example,
            ),
        )

    @property
    def capacity(self) -> int:
        """The number of rows."""
        return self.rewards.shape[-1]

    @property
    def current_size(self) -> Int[Array, ""]:
        """`size`, the rows filled, under the earlier lerax's name."""
        return self.size

    @property
    def states(self) -> Any:
        """`policy_states`, under the earlier lerax's name."""
        return self.policy_states

    @property
    def next_states(self) -> Any:
        """`next_policy_states`, under the earlier lerax's name."""
        return self.next_policy_states

    @property
    def dones(self) -> Bool[Array, " capacity"]:
        """The earlier lerax's `dones` as far as rows keep them: `terminated`.

        Truncated ends are not stored; with `timeouts` all False, the
        earlier bootstrap mask `~dones | timeouts` equals `~terminated`.
        """
        return self.terminated

    @property
    def timeouts(self) -> Bool[Array, " capacity"]:
        """All False, beside `dones` (see there)."""
        return jnp.zeros_like(self.terminated)

    @property
    def shape(self) -> tuple[int, ...]:
        """The batch axes, `rewards.shape` (`(capacity,)`; `(num_envs,
        capacity)` for one buffer per env stacked by `jax.vmap`)."""
        return tuple(jnp.shape(self.rewards))

    def map_rows(self, fn: Callable[[Array], Array]) -> "ReplayBuffer":
        """A buffer of `fn` applied to every row field. Its rows count as
        filled: `size` is the new last batch axis's length and `position` 0
        (per leading axis before it, as stacked buffers).

        Rows never written are mapped too (`gather`, `batches` see every
        row); `sample` draws from the filled rows only.
        """
        rows = jax.tree.map(
            fn,
            (
                self.observations,
                self.actions,
                self.rewards,
                self.next_observations,
                self.terminated,
                self.action_masks,
                self.next_action_masks,
                self.policy_states,
                self.next_policy_states,
            ),
        )
        shape = jnp.shape(rows[2])
        return ReplayBuffer(
            observations=rows[0],
            actions=rows[1],
            rewards=rows[2],
            next_observations=rows[3],
            terminated=rows[4],
            action_masks=rows[5],
            next_action_masks=rows[6],
            policy_states=rows[7],
            next_policy_states=rows[8],
            position=jnp.zeros(shape[:-1], jnp.int32),
            size=jnp.full(shape[:-1], shape[-1], jnp.int32),
        )

    def add(
        self,
        observations: Any = None,
        actions: Any = None,
        rewards: Float[Array, " n"] | None = None,
        next_observations: Any = None,
        terminated: Bool[Array, " n"] | None = None,
        next_action_masks: Any = None,
        action_masks: Any = None,
        policy_states: Any = None,
        next_policy_states: Any = None,
        *,
        observation: Any = _UNSET,
        next_observation: Any = _UNSET,
        action: Any = _UNSET,
        reward: Any = _UNSET,
        done: Any = _UNSET,
        timeout: Any = _UNSET,
        state: Any = _UNSET,
        next_state: Any = _UNSET,
        action_mask: Any = _UNSET,
    ) -> "ReplayBuffer":
        """Writes a batch of `n` transitions (leading axis `n` on every leaf).

        Masks and policy states are written only if the buffer stores them
        (it was created with a mask or policy-state example). Every given
        field must have the buffer's structure for it, and each leaf the shape
        `(n, *row_shape)` of its rows, where `n = rewards.shape[0]`; nothing
        is broadcast. Values are cast to the rows' dtypes, except that
        floating-point values are refused for integer or bool rows (a float
        action would be truncated). These checks run when traced and cost
        nothing in compiled code.

        The earlier lerax's form, `add(observation, next_observation, action,
        reward, done, timeout, state, next_state, action_mask=None)`, writes
        one transition without a leading axis (`terminated = done and not
        timeout`; `state`/`next_state` are ignored by a buffer without
        policy states, `action_mask` by one without masks). It is recognised
        by any of its keyword names, or by a single scalar as the fourth
        positional argument (its `reward`, where this form has
        `next_observations` with a leading `n` axis); its positional
        arguments then take its names in its order.

        Raises:
            ValueError: If the buffer stores masks or policy states and none
                are given, or a field's structure or shapes do not match its
                rows.
            TypeError: If a floating-point value is given for integer or
                bool rows, a required argument is missing, or the two forms
                are mixed.
        """
        earlier = dict(
            observation=observation,
            next_observation=next_observation,
            action=action,
            reward=reward,
            done=done,
            timeout=timeout,
            state=state,
            next_state=next_state,
            action_mask=action_mask,
        )
        slots = (
            observations,
            actions,
            rewards,
            next_observations,
            terminated,
            next_action_masks,
            action_masks,
            policy_states,
            next_policy_states,
        )
        if _is_one_value(next_observations) or any(
            v is not _UNSET for v in earlier.values()
        ):
            for name, value in zip(_EARLIER_ADD, slots, strict=True):
                if value is None:
                    continue
                if earlier[name] is not _UNSET:
                    raise TypeError(
                        f"`ReplayBuffer.add` got `{name}` twice (by position and "
                        "by keyword)."
                    )
                earlier[name] = value
            return self._add_one(**earlier)
        missing = [
            name
            for name, value in zip(
                ("observations", "actions", "rewards", "next_observations"),
                slots[:4],
                strict=True,
            )
            if value is None
        ] + (["terminated"] if terminated is None else [])
        if missing:
            raise TypeError(f"`ReplayBuffer.add` is missing {missing}.")
        if self.next_action_masks is not None and (
            next_action_masks is None or action_masks is None
        ):
            raise ValueError(
                "This replay buffer stores action masks: pass `action_masks` and "
                "`next_action_masks` to `add`."
            )
        if self.policy_states is not None and (
            policy_states is None or next_policy_states is None
        ):
            raise ValueError(
                "This replay buffer stores policy states: pass `policy_states` and "
                "`next_policy_states` to `add`."
            )
        rewards = jnp.asarray(rewards)
        if rewards.ndim != 1:
            raise ValueError(
                "`ReplayBuffer.add`: `rewards` must have shape (n,), one reward per "
                f"added transition, got {rewards.shape}. Flatten the env and time "
                "axes first, e.g. `rewards.reshape(-1)`." + _BATCHED_FORM_NOTE
            )
        n = rewards.shape[0]
        fields = {
            "observations": (self.observations, observations),
            "actions": (self.actions, actions),
            "rewards": (self.rewards, rewards),
            "next_observations": (self.next_observations, next_observations),
            "terminated": (self.terminated, terminated),
            "action_masks": (self.action_masks, action_masks),
            "next_action_masks": (self.next_action_masks, next_action_masks),
            "policy_states": (self.policy_states, policy_states),
            "next_policy_states": (self.next_policy_states, next_policy_states),
        }
        for name, (store, new) in fields.items():
            if store is not None:
                try:
                    check_rows(name, store, new, n)
                except ValueError as error:
                    if jnp.ndim(terminated) != 0:
                        raise
                    # a single `terminated` flag: likely the earlier form
                    raise ValueError(f"{error}{_BATCHED_FORM_NOTE}") from None
        # with n > capacity only the last `capacity` rows survive; writing just
        # those keeps the scatter free of duplicate indices, whose order XLA
        # leaves unspecified
        kept = min(n, self.capacity)
        index = (self.position + (n - kept) + jnp.arange(kept)) % self.capacity

        def write(store, new):
            new = jnp.asarray(new)
            if kept < n:
                new = new[n - kept :]
            return store.at[index].set(new.astype(store.dtype))

        return ReplayBuffer(
            observations=jax.tree.map(write, self.observations, observations),
            actions=jax.tree.map(write, self.actions, actions),
            rewards=write(self.rewards, rewards),
            next_observations=jax.tree.map(
                write, self.next_observations, next_observations
            ),
            terminated=write(self.terminated, terminated),
            action_masks=None
            if self.action_masks is None
            else jax.tree.map(write, self.action_masks, action_masks),
            next_action_masks=None
            if self.next_action_masks is None
            else jax.tree.map(write, self.next_action_masks, next_action_masks),
            policy_states=None
            if self.policy_states is None
            else jax.tree.map(write, self.policy_states, policy_states),
            next_policy_states=None
            if self.next_policy_states is None
            else jax.tree.map(write, self.next_policy_states, next_policy_states),
            position=(self.position + n) % self.capacity,
            size=jnp.minimum(self.size + n, self.capacity),
        )

    def _add_one(
        self,
        observation: Any,
        next_observation: Any,
        action: Any,
        reward: Any,
        done: Any,
        timeout: Any,
        state: Any,
        next_state: Any,
        action_mask: Any,
    ) -> "ReplayBuffer":
        """`add` in the earlier lerax's form (one transition)."""
        missing = [
            name
            for name, value in zip(
                _EARLIER_ADD[:6],
                (observation, next_observation, action, reward, done, timeout),
                strict=True,
            )
            if value is _UNSET
        ]
        if missing:
            raise TypeError(f"`ReplayBuffer.add` is missing {missing}.")
        if self.action_masks is not None:
            raise ValueError(
                "This replay buffer stores action masks, which the earlier "
                "`add(observation, ..., action_mask=None)` cannot fill (it has no "
                "next-state mask): call `add(observations=..., ..., action_masks=..., "
                "next_action_masks=...)` with a leading axis of transitions."
            )
        del action_mask  # the earlier buffers stored no masks either
        one = lambda x: jax.tree.map(lambda y: jnp.asarray(y)[None], x)  # noqa: E731
        stateful = self.policy_states is not None
        ended = jnp.asarray(done).astype(bool) & ~jnp.asarray(timeout).astype(bool)
        return self.add(
            one(observation),
            one(action),
            one(reward),
            one(next_observation),
            one(ended),
            policy_states=one(state) if stateful and state is not _UNSET else None,
            next_policy_states=(
                one(next_state) if stateful and next_state is not _UNSET else None
            ),
        )

    def sample(self, batch_size: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """`batch_size` transitions drawn uniformly (with replacement) from the
        filled rows. Sample only after something was added: called eagerly
        (a concrete `size`), an empty buffer raises; traced (under `jit`,
        `scan`, ...), where the size is not known, an empty buffer gives its
        zero-filled first row without a check (the off-policy loop samples
        after `learning_starts >= batch_size` steps).

        Buffers stacked by `jax.vmap` (one per env, as the earlier lerax
        kept them) are sampled across envs: an env uniformly, then one of
        its filled rows (uniform over all filled rows when the envs hold as
        many, as when they are filled in step).

        Returns:
            A dict with the batched fields under their attribute names
            (`observations`, `actions`, `rewards`, `next_observations`,
            `terminated`, `action_masks`, `next_action_masks`,
            `policy_states`, `next_policy_states`); fields the buffer does
            not store are None. (`gather` returns a `ReplayBuffer`.)

        Raises:
            ValueError: If `batch_size` is not a Python or NumPy int >= 1, or
                a concrete `size` is 0 (for stacked buffers: any env's).
        """
        batch_size = as_count(batch_size, "`ReplayBuffer.sample(batch_size=...)`", 1)
        if not isinstance(self.size, jax.core.Tracer):
            # concrete only (eager calls); traced sizes are left unchecked
            sizes = np.asarray(self.size).reshape(-1)
            if sizes.size and not sizes.all():
                where = (
                    ""
                    if np.ndim(self.size) == 0
                    else (
                        f" (the empty buffers: flat env indices "
                        f"{np.flatnonzero(sizes == 0).tolist()})"
                    )
                )
                raise ValueError(
                    "`ReplayBuffer.sample`: the buffer is empty (`size` is 0)"
                    f"{where}, so there is nothing to draw; it would return "
                    "zero-filled rows. `add` transitions before sampling, e.g. "
                    "only sample once `buffer.size >= batch_size`."
                )
        if len(self.shape) == 1:
            index = jr.randint(key, (batch_size,), 0, jnp.maximum(self.size, 1))
            rows = self
        else:  # stacked: flatten the env axes, then pick (env, row) pairs
            rows = self.flatten_axes(tuple(range(len(self.shape) - 1)))
            sizes = jnp.reshape(self.size, (-1,))
            env_key, row_key = jr.split(key)
            env = jr.randint(env_key, (batch_size,), 0, sizes.shape[0])
            row = jr.randint(row_key, (batch_size,), 0, jnp.maximum(sizes[env], 1))
            index = (env, row)
        take = lambda x: x[index]  # noqa: E731
        return {
            "observations": jax.tree.map(take, rows.observations),
            "actions": jax.tree.map(take, rows.actions),
            "rewards": rows.rewards[index],
            "next_observations": jax.tree.map(take, rows.next_observations),
            "terminated": rows.terminated[index],
            "action_masks": None
            if rows.action_masks is None
            else jax.tree.map(take, rows.action_masks),
            "next_action_masks": None
            if rows.next_action_masks is None
            else jax.tree.map(take, rows.next_action_masks),
            "policy_states": jax.tree.map(take, rows.policy_states),
            "next_policy_states": jax.tree.map(take, rows.next_policy_states),
        }
