"""`ReplayBuffer`: a pre-allocated ring buffer living in the training state."""

from typing import Any, final

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
from jaxtyping import Array, Bool, Float, Int, Key

from ..space import AbstractSpace
from ._base import AbstractBuffer


def _check_rows(name: str, store: Any, new: Any, n: int) -> None:
    """Checks, at trace time, that `new` holds `n` rows for the buffer field
    `name` stored in `store` (same structure, shape `(n, *row_shape)` per leaf,
    no floating-point values for integer or bool rows)."""
    if jax.tree.structure(store) != jax.tree.structure(new):
        raise ValueError(
            f"`ReplayBuffer.add`: `{name}` must have the structure of the buffer's "
            f"rows, {jax.tree.structure(store)}, got {jax.tree.structure(new)}."
        )
    for (path, row), leaf in zip(
        jtu.tree_flatten_with_path(store)[0], jax.tree.leaves(new), strict=True
    ):
        field = f"{name}{jtu.keystr(path)}"
        shape = jnp.shape(leaf)
        expected = (n,) + row.shape[1:]
        if shape != expected:
            raise ValueError(
                f"`ReplayBuffer.add`: `{field}` must have shape {expected} (n={n} "
                f"transitions, as in `rewards`, each of the row shape "
                f"{row.shape[1:]}), got {shape}. Give one row per transition; "
                "nothing is broadcast."
            )
        dtype = jnp.result_type(leaf)
        if jnp.issubdtype(dtype, jnp.inexact) and not jnp.issubdtype(
            row.dtype, jnp.inexact
        ):
            raise TypeError(
                f"`ReplayBuffer.add`: `{field}` has floating-point dtype {dtype} "
                f"but the buffer stores {row.dtype} there (shape {expected}); it "
                "would be truncated. Pass values of the space's dtype, e.g. "
                f"`jnp.asarray(x, jnp.{row.dtype})` after rounding deliberately."
            )


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
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"`buffer_size` must be a positive int, got {capacity!r}.")

        def rows(example):
            return jax.tree.map(
                lambda x: jnp.zeros((capacity,) + jnp.shape(x), jnp.result_type(x)),
                example,
            )

        observation = observation_space.canonical()
        return ReplayBuffer(
            observations=rows(observation),
            actions=rows(action_space.canonical()),
            rewards=jnp.zeros((capacity,), jnp.float32),
            next_observations=rows(observation),
            terminated=jnp.zeros((capacity,), bool),
            action_masks=None if mask_example is None else rows(mask_example),
            next_action_masks=None if mask_example is None else rows(mask_example),
            policy_states=rows(policy_state_example),
            next_policy_states=rows(policy_state_example),
            position=jnp.zeros((), jnp.int32),
            size=jnp.zeros((), jnp.int32),
        )

    @property
    def capacity(self) -> int:
        """The number of rows."""
        return self.rewards.shape[0]

    def add(
        self,
        observations: Any,
        actions: Any,
        rewards: Float[Array, " n"],
        next_observations: Any,
        terminated: Bool[Array, " n"],
        next_action_masks: Any = None,
        action_masks: Any = None,
        policy_states: Any = None,
        next_policy_states: Any = None,
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

        Raises:
            ValueError: If the buffer stores masks or policy states and none
                are given, or a field's structure or shapes do not match its
                rows.
            TypeError: If a floating-point value is given for integer or
                bool rows.
        """
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
                "axes first, e.g. `rewards.reshape(-1)`."
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
                _check_rows(name, store, new, n)
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

    def sample(self, batch_size: int, *, key: Key[Array, ""]) -> dict[str, Any]:
        """`batch_size` transitions drawn uniformly (with replacement) from the
        filled rows. Sample only after something was added: an empty
        buffer gives its zero-filled first row (the off-policy loop samples
        after `learning_starts >= batch_size` steps).

        Returns:
            A dict with the batched fields under their attribute names
            (`observations`, `actions`, `rewards`, `next_observations`,
            `terminated`, `action_masks`, `next_action_masks`,
            `policy_states`, `next_policy_states`); fields the buffer does
            not store are None.
        """
        if (
            not isinstance(batch_size, int)
            or isinstance(batch_size, bool)
            or batch_size < 1
        ):
            raise ValueError(
                f"`ReplayBuffer.sample(batch_size=...)` must be an int >= 1, got "
                f"{batch_size!r}."
            )
        index = jr.randint(key, (batch_size,), 0, jnp.maximum(self.size, 1))
        take = lambda x: x[index]  # noqa: E731
        return {
            "observations": jax.tree.map(take, self.observations),
            "actions": jax.tree.map(take, self.actions),
            "rewards": self.rewards[index],
            "next_observations": jax.tree.map(take, self.next_observations),
            "terminated": self.terminated[index],
            "action_masks": None
            if self.action_masks is None
            else jax.tree.map(take, self.action_masks),
            "next_action_masks": None
            if self.next_action_masks is None
            else jax.tree.map(take, self.next_action_masks),
            "policy_states": jax.tree.map(take, self.policy_states),
            "next_policy_states": jax.tree.map(take, self.next_policy_states),
        }
