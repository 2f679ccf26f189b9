"""`AbstractAlgorithm`: `init`, `train` and `learn`, written once."""

import abc
import dataclasses
import typing
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, Bool, Int, Key

from ..callback._base import (
    IterationContext,
    ResetContext,
    TrainingContext,
    as_callback,
    overrides,
)
from ..callback._host import (
    first_device,
    host_call_tokens,
    host_calls_after,
    host_device,
    spanning_devices,
)
from ..env import AbstractEnvLike
from ..policy import AbstractPolicy
from ..utils import filter_cond, filter_scan
from ._collector import initial_carries
from ._sharding import (
    check_mesh,
    reporting_device,
    shard_training_state,
    splits_envs,
)


class AbstractTrainingState(eqx.Module):
    """Everything a training run carries between iterations.

    It is an ordinary value: inspect it, keep it, pass it back to `train` to
    continue, or checkpoint it (`lerax.callback.save_checkpoint`).

    Attributes:
        env: The environment (curricula may change its constants).
        policy: The policy being trained.
        actors: The per-env carries (`ActorCarry`, leading axis envs): env
            states (with any normalisation statistics), observations, policy
            states and running episode figures.
        iteration: Iterations done so far.
        key: The PRNG key for the next iteration.
        callback_state: The training callback's iteration-level state (its
            per-env step states live with the env states).
        stopped: Whether a callback's `continue_training` stopped training.
    """

    env: eqx.AbstractVar[AbstractEnvLike]
    policy: eqx.AbstractVar[AbstractPolicy]
    actors: eqx.AbstractVar[Any]
    iteration: eqx.AbstractVar[Int[Array, ""]]
    key: eqx.AbstractVar[Key[Array, ""]]
    callback_state: eqx.AbstractVar[Any]
    stopped: eqx.AbstractVar[Bool[Array, ""]]


# Callback keys are derived from the iteration's key with this salt and never
# consume it, so callbacks cannot change what is learned.
_CALLBACK_SALT = 0x6C62


def check_timesteps(total_timesteps: Any) -> int:
    """Returns a step budget as a Python int.

    Accepts Python and NumPy integers and whole-number floats (`1e5`, as
    budgets are often written).

    Raises:
        TypeError: If it is not a number (or is a bool).
        ValueError: If it is negative, not a whole number, or does not fit
            the int32 step counters.
    """
    value = total_timesteps
    number = isinstance(value, (int, float, np.integer, np.floating))
    if not number or isinstance(value, (bool, np.bool_)):
        hint = (
            " (a JAX array: pass a Python int, which sets the program's length)"
            if isinstance(value, jax.Array)
            else ""
        )
        raise TypeError(f"`total_timesteps` must be an int, got {value!r}{hint}.")
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            raise ValueError(
                f"`total_timesteps` must be a whole number of steps, got {value!r}."
            )
    value = int(value)
    if value < 0:
        raise ValueError(f"`total_timesteps` must be >= 0, got {value}.")
    if value >= 2**31:
        raise ValueError(
            f"`total_timesteps={value:,}` does not fit the int32 step "
            f"counters (JAX's default integers): at most {2**31 - 1:,}. Train "
            "in several `learn`/`train` calls of fewer steps each."
        )
    return value


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

    def __post_init__(self):
        # NumPy integer scalars (from `np.arange`, a config array, a sweep
        # table) become Python ints, and NumPy booleans given for a switch
        # Python bools: Equinox treats them as arrays, which sizes, loop
        # counts and switches cannot be inside the compiled program
        for field in dataclasses.fields(self):
            value = getattr(self, field.name, None)
            if isinstance(value, np.integer):
                setattr(self, field.name, int(value))
            elif isinstance(value, np.bool_) and bool in _annotated_kinds(field.type):
                setattr(self, field.name, bool(value))

    @abc.abstractmethod
    def check_state(self, state: Any) -> None:
        """Raises if `state` is not a training state this algorithm can
        advance (see `check_training_state`); called by `train`."""

    @abc.abstractmethod
    def check_layout(self, state: Any) -> None:
        """Raises if the arrays of `state` (or the policy's kind) do not fit
        this algorithm (see `check_fits`); called by `train` while its
        program is traced, so once per state structure and never on a cached
        program."""

    @abc.abstractmethod
    def init(
        self,
        env: AbstractEnvLike,
        policy: AbstractPolicy,
        *,
        key: Key[Array, ""],
        total_timesteps: int | None = None,
        callback: Any = None,
    ) -> Any:
        """Builds the initial training state.

        Args:
            env: The environment.
            policy: The initial policy.
            key: A JAX PRNG key.
            total_timesteps: The planned budget (drives exploration schedules
                where an algorithm has one).
            callback: The callback(s) whose states the training state should
                carry (they can also be attached later by `train`).

        Raises:
            TypeError: If the policy does not fit the algorithm or the env.
        """

    @abc.abstractmethod
    def iteration(self, state: Any, callback: Any = None) -> tuple[Any, dict, Any]:
        """One iteration: collect experience, update.

        Returns:
            `(state, metrics, rollout)`: the new state, scalar metrics and the
            iteration's transitions (leading axes `[num_steps, num_envs]`).
        """

    @property
    @abc.abstractmethod
    def warmup_steps(self) -> int:
        """Env steps of uniformly random actions before learning starts (0
        for on-policy algorithms)."""

    @property
    def steps_per_iteration(self) -> int:
        """Env steps per iteration (`num_envs * num_steps`)."""
        return self.num_envs * self.num_steps

    def num_iterations(self, total_timesteps: int) -> int:
        """Iterations needed for `total_timesteps` (rounded down).

        Raises:
            ValueError: If the budget is smaller than one iteration, leaves an
                off-policy algorithm no step past `learning_starts`, or does
                not fit the 32-bit step counters.
        """
        check_static_fields(f"{type(self).__name__}.num_iterations", self)
        total_timesteps = check_timesteps(total_timesteps)
        iterations = total_timesteps // self.steps_per_iteration
        if iterations < 1:
            raise ValueError(
                f"`total_timesteps={total_timesteps}` is less than one iteration "
                f"({self.num_envs} envs x {self.num_steps} steps = "
                f"{self.steps_per_iteration}); raise it or lower `num_envs`/`num_steps`."
            )
        starts = self.warmup_steps
        if iterations * self.steps_per_iteration < starts:
            raise ValueError(
                f"`total_timesteps={total_timesteps}` ends before "
                f"`learning_starts={starts}`: the run would only collect random "
                "transitions and never learn; raise it or lower `learning_starts`."
            )
        return iterations

    def attach_callback(
        self, state: Any, callback: Any, *, carry_key: Key[Array, ""] | None = None
    ) -> Any:
        """Gives `state` the initial states of `callback` if it has none yet.

        Then applies the callback's `prepare_state` (at `init` and before every
        `train` loop, so the loop's carry has one structure from its first
        iteration). At `init` (given the `carry_key` the envs were reset
        with), envs that `prepare_state` changed (a curriculum's first
        value) are reset again in the changed env, so their first episodes
        already follow it.

        Raises:
            ValueError: If `state` already carries states of a different
                callback.
        """
        callback = as_callback(callback)
        ctx = ResetContext(env=state.env, policy=state.policy, algorithm=self)
        key = jr.fold_in(state.key, _CALLBACK_SALT)
        reset_key, step_key = jr.split(key)

        def fresh():
            callback_state = (
                callback.reset(ctx, key=reset_key)
                if overrides(callback, "reset")
                else None
            )
            step_states = None
            if overrides(callback, "step_reset"):
                step_states = jax.vmap(lambda k: callback.step_reset(ctx, key=k))(
                    jr.split(step_key, self.num_envs)
                )
            return callback_state, step_states

        expected = eqx.filter_eval_shape(fresh)
        current = (state.callback_state, state.actors.callback_state)
        if not _same_shapes(current, expected):
            if jax.tree.leaves(current):
                raise ValueError(
                    "This training state carries the states of a different "
                    "callback than the one passed; pass the same callback(s) to "
                    "`init` and `train` (or none to `init`)."
                )
            callback_state, step_states = fresh()
            actors = dataclasses.replace(state.actors, callback_state=step_states)
            state = dataclasses.replace(
                state, callback_state=callback_state, actors=actors
            )
        if overrides(callback, "prepare_state"):
            prepared = callback.prepare_state(state, state.callback_state)
            if carry_key is not None and prepared.env is not state.env:
                actors = initial_carries(
                    prepared.env, prepared.policy, self.num_envs, key=carry_key
                )
                actors = dataclasses.replace(
                    actors, callback_state=prepared.actors.callback_state
                )
                prepared = dataclasses.replace(prepared, actors=actors)
            state = prepared
        return state

    def train(
        self,
        state: Any,
        num_iterations: int,
        *,
        callback: Any = None,
        mesh: Mesh | None = None,
    ) -> tuple[Any, dict[str, Array]]:
        """Runs `num_iterations` iterations as one compiled `lax.scan`.

        A state placed on several devices (`shard_training_state`) trains
        data-parallel there.

        Args:
            state: A training state from `init` or a previous `train`.
            num_iterations: How many iterations to run (static).
            callback: A callback, a list of callbacks, or None. If a
                callback's `continue_training` returns False, the remaining
                iterations do no work (their metrics are NaN).
            mesh: Devices to run on, as for `learn`: an `env_mesh()` splits
                the envs over them (`shard_training_state`); a `seed_mesh()`
                says that the seeds this call is `jax.vmap`-ed over are
                spread over them (`shard_seeds`). Callbacks need it inside
                `jax.jit`/`jax.vmap` over several devices, where the state's
                placement cannot be seen; a concrete state's is used as is.

        Returns:
            The new state and the metrics of every iteration, each an array
            with a leading `num_iterations` axis.
        """
        if (
            not isinstance(num_iterations, (int, np.integer))
            or isinstance(num_iterations, bool)
            or num_iterations < 0
        ):
            raise ValueError(
                f"`{type(self).__name__}.train(state, num_iterations)`: "
                f"`num_iterations` must be an int >= 0, got {num_iterations!r}."
            )
        num_iterations = int(num_iterations)
        check_static_fields(f"{type(self).__name__}.train", self)
        self.check_state(state)
        iteration = state.iteration
        if (
            callback is not None
            and not isinstance(iteration, jax.core.Tracer)
            and np.ndim(iteration) == 0
            and int(iteration) == 0
        ):
            from ..callback._checkpoint import refuse_earlier_runs

            refuse_earlier_runs(as_callback(callback))  # a fresh run
        if mesh is not None:
            check_mesh(mesh, self.num_envs)
            if splits_envs(mesh):
                state = shard_training_state(state, mesh)
        device = first_device(state) or reporting_device(mesh) or host_device()
        with spanning_devices(device):
            try:
                return self._train(state, num_iterations, callback, device)
            except ValueError as error:
                if "ordered effects are not supported" not in str(error):
                    raise
                raise ValueError(
                    "Callbacks report to the host, and this program runs over "
                    "several devices that lerax cannot see from inside "
                    "`jax.jit`/`jax.vmap`: pass them as `mesh=` (e.g. "
                    "`mesh=seed_mesh()` when the vmapped seeds are spread with "
                    "`shard_seeds`)."
                ) from error

    @eqx.filter_jit
    def _train(
        self, state: Any, num_iterations: int, callback: Any, placement: Any
    ) -> tuple[Any, dict[str, Array]]:
        # `placement` (static: the device host calls run from, or None) only
        # keys the compilation cache; `host_device()` gives it while tracing
        del placement
        # structure checks: the structure keys the compilation cache, so they
        # run once per program, not on every call
        check_scalar_hyperparameters(self)
        self.check_layout(state)
        callback = as_callback(callback)
        state = self.attach_callback(state, callback)
        spi = self.steps_per_iteration
        end = (state.iteration + num_iterations) * spi
        hook_key = jr.fold_in(state.key, _CALLBACK_SALT + 1)

        def training_context(state):
            return TrainingContext(
                state=state,
                callback_state=state.callback_state,
                algorithm=self,
                num_iterations=num_iterations,
                total_timesteps=end,
            )

        if overrides(callback, "on_training_start"):
            with host_call_tokens() as tokens:
                callback_state = callback.on_training_start(
                    training_context(state), key=jr.fold_in(hook_key, 0)
                )
            # over several devices: the loop waits for the start reports
            # (their tokens are zeros XLA cannot see through)
            iteration = sum(tokens, state.iteration)
            state = dataclasses.replace(
                state, callback_state=callback_state, iteration=iteration
            )

        def run(state):
            key = jr.fold_in(state.key, _CALLBACK_SALT)
            state, metrics, rollout = self.iteration(state, callback)
            ctx = IterationContext(
                state=state,
                metrics=metrics,
                rollout=rollout,
                step_states=state.actors.callback_state,
                callback_state=state.callback_state,
                algorithm=self,
                total_timesteps=end,
            )
            if overrides(callback, "on_iteration"):
                callback_state = callback.on_iteration(ctx, key=jr.fold_in(key, 0))
                state = dataclasses.replace(state, callback_state=callback_state)
                ctx = dataclasses.replace(
                    ctx, state=state, callback_state=callback_state
                )
            if overrides(callback, "continue_training"):
                keep = callback.continue_training(ctx, key=jr.fold_in(key, 1))
                stopped = ~jnp.asarray(keep, bool)
                state = dataclasses.replace(state, stopped=stopped)
                ctx = dataclasses.replace(ctx, state=state)
            if overrides(callback, "apply_curriculum"):
                state, callback_state = callback.apply_curriculum(
                    ctx, key=jr.fold_in(key, 2)
                )
                state = dataclasses.replace(state, callback_state=callback_state)
            if overrides(callback, "on_iteration_end"):
                ctx = dataclasses.replace(
                    ctx,
                    state=state,
                    callback_state=state.callback_state,
                    step_states=state.actors.callback_state,
                )
                callback.on_iteration_end(ctx, key=jr.fold_in(key, 3))
            return state, metrics

        if overrides(callback, "continue_training"):
            # trace the iteration once: its jaxpr gives the metric shapes the
            # skipping branch needs and is the running branch itself
            run = eqx.filter_closure_convert(run, state)
            shapes = run.out_struct[1]

            def skip(state):
                return state, jax.tree.map(
                    lambda s: (
                        jnp.full(s.shape, jnp.nan, s.dtype)
                        if jnp.issubdtype(s.dtype, jnp.floating)
                        else jnp.zeros(s.shape, s.dtype)
                    ),
                    shapes,
                )

            def body(state, _):
                return filter_cond(state.stopped, skip, run, state)

        else:

            def body(state, _):
                return run(state)

        state, metrics = filter_scan(body, state, length=num_iterations)
        if overrides(callback, "on_training_end"):
            # over several devices, host calls are not JAX-ordered: tie the
            # end reports to a value only the finished loop has (XLA computes
            # the final iteration count without running the loop)
            after = jr.key_data(state.key) if host_device() is not None else None
            with host_calls_after(after):
                callback_state = callback.on_training_end(
                    training_context(state), key=jr.fold_in(hook_key, 1)
                )
            state = dataclasses.replace(state, callback_state=callback_state)
        return state, metrics

    def learn(
        self,
        env: AbstractEnvLike,
        policy: AbstractPolicy,
        total_timesteps: int,
        *,
        key: Key[Array, ""],
        callback: Any = None,
        resume_from: str | Path | None = None,
        mesh: Mesh | None = None,
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
            callback: A callback, a list of callbacks, or None.
            resume_from: A checkpoint (or a folder of them) written by
                `CheckpointCallback` (or `lerax.callback.save_checkpoint`) for
                the same algorithm, env, policy, key and callbacks: training
                continues from it up to `total_timesteps`, and the result
                equals that of an uninterrupted run. Another algorithm
                (hyper-parameters), env (constants) or policy (structure,
                activations) is refused naming what differs; the run
                continues from the checkpoint's random state, whatever `key`.
                Without it, a `CheckpointCallback` whose folder holds an
                earlier run's checkpoints is refused.
            mesh: Devices to train data-parallel on (e.g.
                `lerax.algorithm.env_mesh()`): the envs are split over them
                and everything else replicated (`shard_training_state`). The
                result is the same as on one device. A `seed_mesh()` instead
                says that the seeds this call is `jax.vmap`-ed over are
                spread over its devices (`shard_seeds`); the envs are not
                split, and callbacks then report from one of the devices.
                None: default device.

        Returns:
            The trained policy. Behind `NormalizeObservation` the policy
            needs the observation statistics, which live in the training
            state: train with `init`/`train` instead and evaluate with
            `lerax.wrapper.sync_normalization(eval_env, env,
            state.actors.env_state)` (or let an `EvalCallback` do it).
        """
        check_key(f"{type(self).__name__}.learn", key)
        check_static_fields(f"{type(self).__name__}.learn", self)
        num_iterations = self.num_iterations(total_timesteps)
        total_timesteps = check_timesteps(total_timesteps)  # a Python int (static)
        callback = as_callback(callback)
        if mesh is not None:
            check_mesh(mesh, self.num_envs)
        from ..callback._checkpoint import (
            check_algorithm,
            check_structure,
            load_checkpoint,
            read_header,
            refuse_earlier_runs,
            resolve,
        )

        if resume_from is None:
            refuse_earlier_runs(callback)
            with spanning_devices(reporting_device(mesh)):
                return self._learn(env, policy, total_timesteps, key, callback, mesh)
        resume_from = resolve(resume_from)
        check_algorithm(resume_from, self)

        def init():
            return self.init(
                env, policy, key=key, total_timesteps=total_timesteps, callback=callback
            )

        skeleton = eqx.filter_eval_shape(init)
        check_structure(resume_from, skeleton)
        fill = None if read_header(resume_from).get("include_buffer", True) else init()
        state = load_checkpoint(resume_from, skeleton, fill=fill)
        done = int(state.iteration)
        if done > num_iterations:
            raise ValueError(
                f"The checkpoint {str(resume_from)!r} is at iteration {done}, beyond "
                f"the {num_iterations} iterations of `total_timesteps={total_timesteps}`."
            )
        if done < num_iterations:
            state, _ = self.train(
                state, num_iterations - done, callback=callback, mesh=mesh
            )
        return state.policy

    @eqx.filter_jit
    def _learn(self, env, policy, total_timesteps, key, callback, mesh):
        num_iterations = self.num_iterations(total_timesteps)
        state = self.init(
            env, policy, key=key, total_timesteps=total_timesteps, callback=callback
        )
        state, _ = self.train(state, num_iterations, callback=callback, mesh=mesh)
        return state.policy


def _same_shapes(a: Any, b: Any) -> bool:
    # Array leaves must agree in shape and dtype; other leaves (functions,
    # Python values) are rebuilt by the callback itself and are not compared.
    leaves_a, tree_a = jax.tree.flatten(a)
    leaves_b, tree_b = jax.tree.flatten(b)

    def same(x, y):
        shaped = hasattr(x, "shape") and hasattr(x, "dtype")
        if shaped != (hasattr(y, "shape") and hasattr(y, "dtype")):
            return False
        return not shaped or (x.shape == y.shape and x.dtype == y.dtype)

    return tree_a == tree_b and all(same(x, y) for x, y in zip(leaves_a, leaves_b))


def explained_variance(predictions: Array, targets: Array) -> Array:
    """`1 - Var[targets - predictions] / Var[targets]` (NaN when targets are constant)."""
    variance = jnp.var(targets)
    return jnp.where(
        variance > 0, 1.0 - jnp.var(targets - predictions) / variance, jnp.nan
    )


_MAX_NAMED = 10  # quantities named together (2**n messages)


def require_finite(owner: str, values: dict[str, Array], carrier: Any) -> Any:
    """`carrier` with a run-time check that every one of `values` is finite.

    The check travels with `carrier` (pass the updated parameters): an
    `eqx.error_if` on a value nothing reads is compiled away, which is what
    happens to a step's metrics inside `learn`. The error names every
    non-finite quantity (a NaN critic makes the advantages and so the
    policy loss NaN too, so the list shows where it started); beyond
    `_MAX_NAMED` quantities it names the first one in the order of `values`.

    Args:
        owner: The algorithm's name, for the message.
        values: Scalars by name (losses, Q-values, ...).
        carrier: A PyTree of arrays the training goes on with.

    Returns:
        `carrier`, unchanged in value.
    """
    advice = (
        "Lower the learning rate, normalise rewards/observations, or check the "
        "env for NaNs."
    )
    names = list(values)
    bad = [~jnp.all(jnp.isfinite(values[name])) for name in names]
    if len(names) > _MAX_NAMED:
        for name, flag in zip(names, bad):
            carrier = eqx.error_if(
                carrier, flag, f"{owner}: `{name}` is not finite (NaN or inf). {advice}"
            )
        return carrier
    bits = jnp.stack(bad).astype(jnp.int32)
    index = jnp.sum(bits * (2 ** jnp.arange(len(names), dtype=jnp.int32)))
    messages = [
        f"{owner}: not finite (NaN or inf): "
        + ", ".join(f"`{n}`" for k, n in enumerate(names) if mask >> k & 1)
        + f". {advice}"
        for mask in range(2 ** len(names))
    ]
    return eqx.branched_error_if(carrier, jnp.any(bits > 0), index, messages)


def check_training_state(algo: Any, state: Any, state_type: type) -> None:
    """Raises `TypeError` unless `state` is a `state_type` whose envs number
    `algo.num_envs` (a state from another algorithm's `init`, or one batched
    over seeds outside `vmap`, would otherwise train wrongly or fail deep
    inside the program)."""
    name = type(algo).__name__
    if not isinstance(state, state_type):
        raise TypeError(
            f"`{name}.train` advances a `{state_type.__name__}` made by "
            f"`{name}.init`, got a {type(state).__name__}."
        )
    shape = np.shape(state.actors.episode_return)
    if shape != (algo.num_envs,):
        batched = len(shape) > 1 and shape[-1] == algo.num_envs
        raise TypeError(
            f"`{name}.train`: the state holds envs of shape {shape}, but this "
            f"algorithm has num_envs={algo.num_envs}. "
            + (
                "A state batched over seeds trains under `vmap` "
                "(`eqx.filter_vmap(lambda s: algo.train(s, n))`)."
                if batched
                else "Train a state with the algorithm (the same num_envs) that "
                "made it."
            )
        )


def check_given(algo: Any) -> None:
    """Raises `TypeError` for a hyper-parameter left `None` whose annotation
    does not allow it (`gamma=None` would otherwise fail inside JAX)."""
    for field in dataclasses.fields(algo):
        if getattr(algo, field.name, None) is not None:
            continue
        if field.type is None or type(None) in typing.get_args(field.type):
            continue
        default = (
            f" (its default is {field.default!r})"
            if field.default is not dataclasses.MISSING
            else ""
        )
        raise TypeError(
            f"`{type(algo).__name__}({field.name}=None)`: `{field.name}` needs a "
            f"value{default}."
        )


def _annotated_kinds(annotation: Any) -> tuple[Any, ...]:
    """The types an annotation allows (`int | None` -> `(int, NoneType)`),
    reading the names of one written as a string (`from __future__ import
    annotations` in a subclass's module)."""
    if isinstance(annotation, str):
        names = {"int": int, "bool": bool, "float": float}
        return tuple(names.get(part.strip(), part) for part in annotation.split("|"))
    return typing.get_args(annotation) or (annotation,)


def check_static_fields(owner: str, algo: Any) -> None:
    """Raises `TypeError` for a size or a switch (a field annotated `int` or
    `bool`, e.g. `num_envs`, `batch_size`, `check_numerics`) that holds a JAX
    array instead of a Python value.

    The constructor refuses such arrays, so one got there through a JAX
    transformation: `jax.jit` traces, and `jax.vmap` returns, every leaf of
    an algorithm, sizes included, where `eqx.filter_jit`/`eqx.filter_vmap`
    keep Python numbers static. Sizes shape the compiled program and
    switches choose what is compiled, so the run would otherwise fail
    inside it with a tracer error that names no field."""
    name = type(algo).__name__
    for field in dataclasses.fields(algo):
        value = getattr(algo, field.name, None)
        if not isinstance(value, jax.Array):  # tracers are `jax.Array`s too
            continue
        kinds = _annotated_kinds(field.type)
        if float in kinds or not any(kind in (int, bool) for kind in kinds):
            continue  # a numeric hyper-parameter: arrays of it sweep
        kind = "bool" if bool in kinds else "int"
        what = (
            "a traced value"
            if isinstance(value, jax.core.Tracer)
            else f"an array of shape {tuple(np.shape(value))}"
        )
        raise TypeError(
            f"`{owner}`: `{name}({field.name}=...)` is {what}, but it "
            f"{'switches what' if kind == 'bool' else 'sets the size of what'} "
            f"is compiled and must be a Python {kind}. `jax.jit` and `jax.vmap` "
            "turn every field of an algorithm passed to (or returned from) "
            "them into arrays: use `eqx.filter_jit`/`eqx.filter_vmap`, which "
            "keep Python numbers static (stack algorithms with "
            f"`eqx.filter_vmap(lambda v: {name}(..., gamma=v))(values)`), or "
            "close over the algorithm instead of passing it."
        )


def check_scalar_hyperparameters(algo: Any) -> None:
    """Raises `ValueError` for a hyper-parameter array that is not a scalar
    in a run: arrays of values sweep under `jax.vmap`, and used directly they
    would fail inside the program with a shape error that names nothing."""
    name = type(algo).__name__
    arrays = jax.tree_util.tree_leaves_with_path(eqx.filter(algo, eqx.is_array))
    for path, value in arrays:
        if np.ndim(value) != 0:
            field = jax.tree_util.keystr(path).lstrip(".")
            raise ValueError(
                f"`{name}({field}=...)` has shape {tuple(np.shape(value))}, but a "
                "run takes one value: to train one run per value, map over them "
                f"(`jax.vmap(lambda v: {name}({field}=v).learn(...))(values)`, or "
                f"`eqx.filter_vmap` over the `{name}` itself)."
            )


def _array_layout(tree: Any) -> list[tuple[str, tuple[int, ...], Any]]:
    """`(path, shape, dtype)` of every array (or abstract array) in `tree`."""
    abstract = lambda x: isinstance(x, jax.ShapeDtypeStruct)  # noqa: E731
    leaves = jax.tree_util.tree_flatten_with_path(tree, is_leaf=abstract)[0]
    return [
        (jax.tree_util.keystr(path), tuple(x.shape), jnp.dtype(x.dtype))
        for path, x in leaves
        if abstract(x) or eqx.is_array(x)
    ]


def check_fits(algo: Any, what: str, actual: Any, build: Any, *args: Any) -> None:
    """Raises `TypeError` unless `actual`, a part of a training state, holds
    the arrays (paths, shapes and dtypes) that `build(*args)` makes for
    `algo` (evaluated abstractly: nothing is computed).

    A state from another algorithm's `init`, or from this algorithm with
    settings that shape it otherwise (twin critics or one, gradient clipping
    or not, another optimiser), would otherwise fail deep inside the program
    or, worse, train on with parts that mean something else."""
    mine = _array_layout(eqx.filter_eval_shape(build, *args))
    theirs = _array_layout(actual)
    if mine == theirs:
        return
    name = type(algo).__name__

    def show(entry: Any) -> str:
        if entry is None:
            return "nothing"
        path, shape, dtype = entry
        return f"`{what}{path}` {dtype.name}{list(shape)}"

    index = next(
        (i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
        min(len(mine), len(theirs)),
    )
    expected = mine[index] if index < len(mine) else None
    found = theirs[index] if index < len(theirs) else None
    raise TypeError(
        f"`{name}.train`: this state's {what} does not fit this algorithm: it "
        f"holds {show(found)} where `{name}` has {show(expected)}. The state was "
        f"made by another algorithm, or by `{name}` with other settings that "
        "shape it (e.g. `max_grad_norm` on or off, another optimiser, other "
        "critics); train it with the algorithm that made it, or start anew "
        f"with `{name}.init`."
    )


_FOREIGN_ENVS = {
    "gymnasium": ("a Gymnasium env", "GymToLeraxEnv"),
    "gym": ("a Gym env", "GymToLeraxEnv"),
    "gymnax": ("a gymnax env", "GymnaxToLeraxEnv"),
}


def check_env(owner: str, env: Any) -> None:
    """Raises `TypeError` unless `env` is a lerax env (an `AbstractEnvLike`).

    A Gymnasium or gymnax env is named with its adapter in
    `lerax.compatibility`; anything else with what is expected. Either
    would otherwise fail later with a message about spaces or a missing
    attribute."""
    if isinstance(env, AbstractEnvLike):
        return
    roots = {cls.__module__.split(".")[0] for cls in type(env).__mro__}
    for root, (what, adapter) in _FOREIGN_ENVS.items():
        if root in roots:
            raise TypeError(
                f"`{owner}`: `env` is {what} ({type(env).__name__}), not a lerax "
                f"env; wrap it: `lerax.compatibility.{adapter}(env)`."
            )
    raise TypeError(
        f"`{owner}`: `env` must be a lerax env (a `lerax.env.AbstractEnvLike`, "
        f"e.g. `lerax.env.make(...)`), got {type(env).__name__}: {env!r:.80}."
    )


def check_key(owner: str, key: Any) -> None:
    """Raises `TypeError` unless `key` is one JAX PRNG key: a typed key
    (`jax.random.key(seed)`) or a legacy `uint32[2]` key
    (`jax.random.PRNGKey(seed)`). A seed given as an int, or a batch of keys
    given where one is expected, would otherwise fail inside JAX with a
    message that does not say what to pass."""
    dtype = getattr(key, "dtype", None)
    shape = getattr(key, "shape", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    seed = isinstance(key, int) or (
        not typed
        and shape == ()
        and dtype is not None
        and np.issubdtype(dtype, np.integer)
    )
    if seed:
        raise TypeError(
            f"`{owner}`: `key` must be a JAX PRNG key, not an integer seed: pass "
            "`jax.random.key(seed)`."
        )
    if dtype is None or shape is None:
        raise TypeError(
            f"`{owner}`: `key` must be a JAX PRNG key such as "
            f"`jax.random.key(0)`, got {type(key).__name__}."
        )
    legacy = not typed and np.dtype(dtype) == np.uint32
    if typed and shape == ():
        return
    if legacy and shape == (2,):
        return
    if typed or (legacy and shape[-1:] == (2,)):
        count = shape[0] if shape else 1
        raise TypeError(
            f"`{owner}`: `key` must be one PRNG key, got a batch of shape "
            f"{tuple(shape)}. To train several seeds at once, vmap over the "
            "keys: `eqx.filter_vmap(lambda k: algo.learn(env, policy, T, key=k))"
            f"(jax.random.split(key, {count}))`."
        )
    raise TypeError(
        f"`{owner}`: `key` must be a JAX PRNG key such as `jax.random.key(0)`, "
        f"got an array of dtype {np.dtype(dtype).name} and shape {tuple(shape)}."
    )


def check_int(owner: str, /, *, minimum: int = 1, **values: Any) -> None:
    """Raises `ValueError` unless each value is a Python int >= `minimum`
    (these size arrays and loops: an integer array is named with the fix, a
    traced one (a sweep) with why it cannot be swept; NumPy integer scalars
    were made ints by `__post_init__`)."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            integer_array = hasattr(value, "dtype") and np.issubdtype(
                value.dtype, np.integer
            )
            fix = f" Pass a Python int: `{name}=int(...)`." if integer_array else ""
            if isinstance(value, jax.core.Tracer):
                fix = (
                    " It sets a size of the compiled program, so it cannot be "
                    "traced (swept with `jax.vmap`, or given to `jax.jit`): "
                    "train one value at a time, in a Python loop."
                )
            raise ValueError(
                f"`{owner}({name}=...)` must be an int >= {minimum}, got "
                f"{value!r}.{fix}"
            )
