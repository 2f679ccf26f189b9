"""`AbstractAlgorithm`: `init`, `train` and `learn`, written once."""

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Int, Key

from ..env import AbstractEnvLike
from ..policy import AbstractPolicy
from ..utils import filter_scan


class AbstractTrainingState(eqx.Module):
    """Everything a training run carries between iterations.

    It is an ordinary value: inspect it, keep it, pass it back to `train` to
    continue, or save it.

    Attributes:
        env: The environment (curricula may change its constants).
        policy: The policy being trained.
        iteration: Iterations done so far.
        key: The PRNG key for the next iteration.
    """

    env: eqx.AbstractVar[AbstractEnvLike]
    policy: eqx.AbstractVar[AbstractPolicy]
    iteration: eqx.AbstractVar[Int[Array, ""]]
    key: eqx.AbstractVar[Key[Array, ""]]


class AbstractAlgorithm(eqx.Module):
    """A training algorithm: an immutable bundle of hyper-parameters.

    Subclasses define `init` (build the training state), `iteration` (one
    rollout-and-update step) and `steps_per_iteration`; `train` and `learn`
    compose them into one compiled program.

    Attributes:
        num_envs: Environments stepped in parallel.
        num_steps: Steps per env per iteration.
    """

    num_envs: eqx.AbstractVar[int]
    num_steps: eqx.AbstractVar[int]

    @abc.abstractmethod
    def init(
        self,
        env: AbstractEnvLike,
        policy: AbstractPolicy,
        *,
        key: Key[Array, ""],
        total_timesteps: int | None = None,
    ) -> Any:
        """Builds the initial training state (`total_timesteps`, the planned
        budget, drives exploration schedules where an algorithm has one).

        Raises:
            TypeError: If the policy does not fit the algorithm or the env.
        """

    @abc.abstractmethod
    def iteration(self, state: Any) -> tuple[Any, dict[str, Array]]:
        """One iteration: collect experience, update; returns `(state, metrics)`."""

    @property
    def steps_per_iteration(self) -> int:
        """Env steps per iteration (`num_envs * num_steps`)."""
        return self.num_envs * self.num_steps

    def num_iterations(self, total_timesteps: int) -> int:
        """Iterations needed for `total_timesteps` (rounded down).

        Raises:
            ValueError: If the budget is smaller than one iteration.
        """
        if not isinstance(total_timesteps, int) or isinstance(total_timesteps, bool):
            raise TypeError(
                f"`total_timesteps` must be an int, got {total_timesteps!r}."
            )
        iterations = total_timesteps // self.steps_per_iteration
        if iterations < 1:
            raise ValueError(
                f"`total_timesteps={total_timesteps}` is less than one iteration "
                f"({self.num_envs} envs x {self.num_steps} steps = "
                f"{self.steps_per_iteration}); raise it or lower `num_envs`/`num_steps`."
            )
        return iterations

    @eqx.filter_jit
    def train(self, state: Any, num_iterations: int) -> tuple[Any, dict[str, Array]]:
        """Runs `num_iterations` iterations as one compiled `lax.scan`.

        Args:
            state: A training state from `init` or a previous `train`.
            num_iterations: How many iterations to run (static).

        Returns:
            The new state and the metrics of every iteration, each an array
            with a leading `num_iterations` axis.
        """
        return filter_scan(lambda s, _: self.iteration(s), state, length=num_iterations)

    @eqx.filter_jit
    def learn(
        self,
        env: AbstractEnvLike,
        policy: AbstractPolicy,
        total_timesteps: int,
        *,
        key: Key[Array, ""],
        callback: Any = None,
    ) -> AbstractPolicy:
        """Trains `policy` on `env` for `total_timesteps` env steps.

        The whole run (initialisation and every iteration) is one compiled,
        pure program, so it can be `jax.vmap`-ed over keys (seeds) or over
        hyper-parameters.

        Args:
            env: The environment.
            policy: The initial policy.
            total_timesteps: The step budget (rounded down to whole iterations).
            key: A JAX PRNG key.
            callback: Reserved for callbacks (must be None for now).

        Returns:
            The trained policy.
        """
        if callback is not None:
            raise NotImplementedError(
                "Callbacks are not available yet; pass `callback=None`."
            )
        num_iterations = self.num_iterations(total_timesteps)
        state = self.init(env, policy, key=key, total_timesteps=total_timesteps)
        state, _ = self.train(state, num_iterations)
        return state.policy


def explained_variance(predictions: Array, targets: Array) -> Array:
    """`1 - Var[targets - predictions] / Var[targets]` (NaN when targets are constant)."""
    variance = jnp.var(targets)
    return jnp.where(
        variance > 0, 1.0 - jnp.var(targets - predictions) / variance, jnp.nan
    )


def check_positive(owner: str, **values: Any) -> None:
    """Raises `ValueError` for a concrete value that is not > 0."""
    for name, value in values.items():
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and value <= 0
        ):
            raise ValueError(f"`{owner}({name}=...)` must be > 0, got {value}.")


def check_int(owner: str, **values: Any) -> None:
    """Raises `ValueError` unless each value is an int >= 1."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"`{owner}({name}=...)` must be an int >= 1, got {value!r}."
            )
