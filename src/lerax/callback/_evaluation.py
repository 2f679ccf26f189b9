"""`EvalCallback`: periodic evaluation on a separate env, keeping the best policy."""

import importlib.util
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Bool, Float, Int, Key

from ..render._video import DEFAULT_FPS, resolve_fps
from ..utils import filter_cond
from ..wrapper._sync import frozen_statistics
from ._backend import AbstractLoggingBackend
from ._base import (
    AbstractCallback,
    IterationContext,
    ResetContext,
    TrainingContext,
    python_scalar,
)
from ._host import HostRef, file_in_the_way, host_device, to_float
from ._progress import running


@final
class EvalState(eqx.Module):
    """`EvalCallback`'s state (part of the training state, so checkpointed).

    Attributes:
        num_evals: Evaluations done.
        last_step: Env step of the latest evaluation (-1 before the first).
        mean_return: Mean return of the latest evaluation (NaN before).
        std_return: Standard deviation of its returns.
        mean_length: Mean episode length of the latest evaluation.
        best_return: Best mean return so far (-inf before the first).
        best_step: Env step at which the best policy was evaluated.
        best_params: The arrays of the policy that scored `best_return`
            (the initial policy's before the first evaluation), as
            `equinox.filter(policy, equinox.is_array)`; `best_policy(...)`
            rebuilds the policy.
    """

    num_evals: Int[Array, ""]
    last_step: Int[Array, ""]
    mean_return: Float[Array, ""]
    std_return: Float[Array, ""]
    mean_length: Float[Array, ""]
    best_return: Float[Array, ""]
    best_step: Int[Array, ""]
    best_params: Any

    def best_policy(self, like: Any) -> Any:
        """The best policy, with the non-array parts (activations, ...) of
        `like` (e.g. the trained policy)."""
        return eqx.combine(
            self.best_params, eqx.filter(like, eqx.is_array, inverse=True)
        )


@final
class EvalCallback(AbstractCallback):
    """Every `eval_freq` env steps, evaluates the current policy on a
    separate env and keeps the best one.

    The evaluation runs inside the compiled program with
    `lerax.algorithm.evaluate_policy` (`num_episodes` episodes in parallel,
    deterministic actions by default). Its results and the best policy live
    in the callback state: after `algo.train(...)`,
    `state.callback_state.best_policy(state.policy)` (inside a
    `CallbackList`, use the matching element of `state.callback_state`). Optionally the best policy is also saved (atomically,
    with the policy's `serialize`) to `best_model_path` each time it
    improves (with the normalisation statistics it was evaluated behind,
    when synced, in `lerax.wrapper.normalization_path(best_model_path)`), the results are logged (`eval/mean_return`,
    `eval/std_return`, `eval/mean_length`, `eval/best_return`) to logging
    backends, and one episode per evaluation is recorded to a video with
    `lerax.render` (needs the `render` extra; skipped with a warning when it
    is missing).

    Under `jax.vmap` over seeds each seed keeps its own best policy;
    `best_model_path` then holds the best over all seeds.

    Attributes:
        env: The evaluation env (give it a time limit).
        eval_freq: Env steps between evaluations (summed over training envs;
            an evaluation runs after each iteration that crosses a multiple).
        num_episodes: Episodes per evaluation.
        deterministic: Act deterministically.
        max_steps: Step cap of an evaluation episode.
        seed: Seed of the evaluation episodes. Every evaluation uses the
            same episodes (common random numbers), so policies are compared
            on equal terms and `evaluate_policy(env, best_policy,
            key=jax.random.key(seed), num_episodes=...)` reproduces
            `best_return`.
        best_model_path: Where to save the best policy (None: don't).
        video_dir: Folder for one video per evaluation (None: no video).
        video_fps: Frames per second of the videos: by default the env's
            `render_fps` (real time; `lerax.render.DEFAULT_FPS`, 30, when
            the env gives none).
        stop_at_return: Stop training once an evaluation's mean return
            reaches this value (like Stable-Baselines3's
            `StopTrainingOnRewardThreshold`; None: never). The remaining
            iterations of the compiled loop then do no work.
        sync_normalization: Evaluate with the training statistics: before
            each evaluation, the evaluation env's `NormalizeObservation` /
            `NormalizeReward` wrappers are frozen at the training env's
            statistics, which its envs share
            (`lerax.wrapper.sync_normalization`; as Stable-Baselines3's
            `EvalCallback` syncs `VecNormalize`). Wrap the evaluation env's
            observations as the training env's; leave `NormalizeReward` out
            of it to evaluate raw returns.
        logs: Whether the results go to logging backends.
        host_ref: The handle on the host side (`EvalHost`). A new
            `EvalCallback` with the same settings (backends aside) runs the
            compiled program of an earlier one.
    """

    env: Any
    eval_freq: int = eqx.field(static=True)
    num_episodes: int = eqx.field(static=True)
    deterministic: bool = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    seed: int = eqx.field(static=True)
    best_model_path: str | None = eqx.field(static=True)
    video_dir: str | None = eqx.field(static=True)
    video_fps: float = eqx.field(static=True)
    stop_at_return: float | None = eqx.field(static=True)
    sync_normalization: bool = eqx.field(static=True)
    logs: bool = eqx.field(static=True)
    host_ref: HostRef

    def __init__(
        self,
        env: Any,
        *,
        eval_freq: int,
        num_episodes: int = 10,
        deterministic: bool = True,
        max_steps: int = 10_000,
        seed: int = 0,
        best_model_path: str | Path | None = None,
        backend: AbstractLoggingBackend | Sequence[AbstractLoggingBackend] = (),
        video_dir: str | Path | None = None,
        video_fps: float | None = None,
        stop_at_return: float | None = None,
        sync_normalization: bool = True,
    ):
        """Args:
        env: See `env` above.
        eval_freq: See `eval_freq` above (int >= 1).
        num_episodes: See `num_episodes` above (int >= 1).
        deterministic: See `deterministic` above.
        max_steps: See `max_steps` above; also the longest video.
        seed: See `seed` above.
        best_model_path: See `best_model_path` above (`.eqx` is appended
            when missing).
        backend: Logging backends for the results (e.g. the ones of a
            `LoggingCallback`; opened at its first report if not yet open, so a
            `LoggingCallback` sharing them names the run whatever the order).
        video_dir: See `video_dir` above.
        video_fps: Frames per second of the videos (a finite number > 0),
            or None for the env's `render_fps` (see `video_fps` above).
        stop_at_return: See `stop_at_return` above (a finite number or None).
        sync_normalization: See `sync_normalization` above.

        Raises:
            ValueError: If `eval_freq`, `num_episodes` or `max_steps` is not
                an int >= 1, `video_fps` (when None, the env's
                `render_fps`) is not a finite number > 0, or a file stands
                where the folder of `best_model_path` or `video_dir` goes.
            TypeError: If a backend is not an `AbstractLoggingBackend`.
        """
        from ._logging import LogSink, as_backends

        eval_freq, num_episodes, max_steps = (
            python_scalar(eval_freq),
            python_scalar(num_episodes),
            python_scalar(max_steps),
        )
        for name, value in (
            ("eval_freq", eval_freq),
            ("num_episodes", num_episodes),
            ("max_steps", max_steps),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"`EvalCallback({name}=...)` must be an int >= 1, got {value!r}."
                )
        if stop_at_return is not None:
            # Python or NumPy reals (a threshold read from a config array)
            if isinstance(stop_at_return, (bool, np.bool_)) or (
                not isinstance(stop_at_return, (int, float, np.integer, np.floating))
                or not math.isfinite(stop_at_return)
            ):
                raise ValueError(
                    "`EvalCallback(stop_at_return=...)` must be a finite number or "
                    f"None, got {stop_at_return!r}."
                )
            stop_at_return = float(stop_at_return)
        self.stop_at_return = stop_at_return
        # found now rather than at the first save, deep into training
        for name, folder in (
            (
                "best_model_path",
                None if best_model_path is None else Path(best_model_path).parent,
            ),
            ("video_dir", video_dir),
        ):
            blocking = None if folder is None else file_in_the_way(folder)
            if blocking is not None:
                raise ValueError(
                    f"`EvalCallback({name}=...)` needs a folder at {str(blocking)!r}, "
                    "which is a file; choose another path."
                )
        try:
            video_fps = resolve_fps(env, video_fps, "EvalCallback", "video_fps")
        except ValueError:
            if video_fps is not None or video_dir is not None:
                raise
            # no videos: an env rate that is not a number (an array of a
            # vmapped env, say) does not matter
            video_fps = float(DEFAULT_FPS)
        self.sync_normalization = bool(sync_normalization)
        if video_dir is not None and importlib.util.find_spec("lerax.render") is None:
            warnings.warn(
                "`EvalCallback(video_dir=...)` needs `lerax.render`, which is not "
                "available; no videos will be recorded.",
                stacklevel=2,
            )
            video_dir = None
        self.env = env
        self.eval_freq = eval_freq
        self.num_episodes = num_episodes
        self.deterministic = deterministic
        self.max_steps = max_steps
        self.seed = int(seed)
        self.best_model_path = None if best_model_path is None else str(best_model_path)
        self.video_dir = None if video_dir is None else str(video_dir)
        self.video_fps = video_fps
        backends = as_backends(backend, "EvalCallback")
        self.logs = bool(backends)
        self.host_ref = HostRef(
            EvalHost(
                LogSink(backends, None, open_late=True) if backends else None,
                self.best_model_path,
                self.video_dir,
                self.video_fps,
            )
        )

    @property
    def host(self) -> "EvalHost":
        """The host side: logs the results, saves the best policy, writes
        the videos."""
        return self.host_ref.host

    def reset(self, ctx: ResetContext, *, key: Key[Array, ""]) -> EvalState:
        del key
        nan = jnp.array(jnp.nan, jnp.float32)
        return EvalState(
            num_evals=jnp.zeros((), jnp.int32),
            last_step=jnp.array(-1, jnp.int32),
            mean_return=nan,
            std_return=nan,
            mean_length=nan,
            best_return=jnp.array(-jnp.inf, jnp.float32),
            best_step=jnp.array(-1, jnp.int32),
            best_params=eqx.filter(ctx.policy, eqx.is_array),
        )

    def on_training_start(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        if self.logs or self.best_model_path is not None:
            from ._logging import run_prefix

            prefix = run_prefix(ctx.algorithm, ctx.state.env)
            best = ctx.callback_state.best_return
            self.host_ref.call("start", ctx.num_timesteps, best, bound=(prefix,))
        return ctx.callback_state

    def on_training_end(self, ctx: TrainingContext, *, key: Key[Array, ""]) -> Any:
        del key
        if self.logs or self.best_model_path is not None:
            self.host_ref.call("end", ctx.num_timesteps)
        return ctx.callback_state

    def eval_env(self, state: Any) -> Any:
        """The env an evaluation during training `state` runs on: `env`,
        with its normalisation synced to the training statistics when
        `sync_normalization` is on."""
        if not self.sync_normalization:
            return self.env
        from ..wrapper import sync_normalization

        return sync_normalization(self.env, state.env, state.actors.env_state)

    def evaluate(
        self, policy: Any, *, key: Key[Array, ""], env: Any = None
    ) -> tuple[Float[Array, " episodes"], Float[Array, " episodes"]]:
        """One evaluation of `policy`: `(returns, lengths)` of the episodes
        (on `env`, default this callback's `env`)."""
        from ..algorithm import evaluate_policy

        return evaluate_policy(
            self.env if env is None else env,
            policy,
            key=key,
            num_episodes=self.num_episodes,
            deterministic=self.deterministic,
            max_steps=self.max_steps,
        )

    def on_iteration(self, ctx: IterationContext, *, key: Key[Array, ""]) -> Any:
        step = ctx.num_timesteps
        previous = step - ctx.algorithm.steps_per_iteration
        due = step // self.eval_freq > previous // self.eval_freq
        # checked again on the host: see `HostRef.call`
        live = due & running(ctx)
        del key
        policy = ctx.state.policy
        eval_key = jr.key(self.seed)
        video_key = jr.fold_in(eval_key, 1)
        env = self.eval_env(ctx.state)

        def run(state: EvalState) -> EvalState:
            returns, lengths = self.evaluate(policy, key=eval_key, env=env)
            mean = jnp.mean(returns)
            better = mean > state.best_return
            new_arrays, static = eqx.partition(policy, eqx.is_array)
            best = jax.tree.map(
                lambda n, o: jnp.where(better, n, o), new_arrays, state.best_params
            )
            state = EvalState(
                num_evals=state.num_evals + 1,
                last_step=jnp.asarray(step, jnp.int32),
                mean_return=mean,
                std_return=jnp.std(returns),
                mean_length=jnp.mean(lengths),
                best_return=jnp.where(better, mean, state.best_return),
                best_step=jnp.where(better, step, state.best_step).astype(jnp.int32),
                best_params=best,
            )
            saved = None
            if self.best_model_path is not None:
                saved = (new_arrays, frozen_statistics(env))
            if self.logs or saved is not None:
                # nothing to report otherwise: no host round trip, and a
                # program without callbacks can be cached across processes
                self.host_ref.call(
                    "report",
                    step,
                    state.mean_return,
                    state.std_return,
                    state.mean_length,
                    state.best_return,
                    better,
                    saved,
                    bound=(static, self.env),
                    when=live,
                )
                if self.logs and host_device() is None:
                    # every seed's result is in: log them now (`LogSink`)
                    self.host_ref.call("complete", step, when=live)
            if self.video_dir is not None:
                states, dones = self._record(env, policy, video_key)
                self.host_ref.call(
                    "video", step, states, dones, bound=(self.env,), when=live
                )
            return state

        return filter_cond(due, run, lambda s: s, ctx.callback_state)

    def unused_hooks(self) -> frozenset[str]:
        # without a threshold the loop needs no stop check
        if self.stop_at_return is None:
            return frozenset({"continue_training"})
        return frozenset()

    def continue_training(
        self, ctx: IterationContext, *, key: Key[Array, ""]
    ) -> Bool[Array, ""] | bool:
        del key
        if self.stop_at_return is None:
            return True
        return ~(ctx.callback_state.best_return >= self.stop_at_return)

    def _record(
        self, env: Any, policy: Any, key: Key[Array, ""]
    ) -> tuple[Any, Bool[Array, " T"]]:
        from ..algorithm._collector import _step, initial_carry
        from ..utils._prng import fused_keys, fused_split

        carry_key, run_key = jr.split(key)
        carry = initial_carry(env, policy, key=fused_keys(carry_key))

        def actor(policy_state, observation, mask, key):
            policy_state, action = policy(
                policy_state,
                observation,
                key=None if self.deterministic else key,
                action_mask=mask,
            )
            return policy_state, action, action, {}

        def body(carry, key):
            env_state = carry.env_state
            # the frames end at the episode's end: no restart needed
            carry, transition = _step(env, policy, actor, carry, key, autoreset=False)
            return carry, (env_state, transition.done)

        # keys drawn from inside the loop (see `collect`)
        _, (states, dones) = jax.lax.scan(
            body, carry, fused_split(run_key, self.max_steps)
        )
        return states, dones


class EvalHost:
    """The host side of `EvalCallback` (mutable, never traced)."""

    def __init__(
        self,
        sink: Any,
        best_model_path: str | None,
        video_dir: str | None,
        video_fps: float,
    ) -> None:
        self.sink = sink
        self.best_model_path = best_model_path
        self.video_dir = video_dir
        self.video_fps = video_fps
        self.saved_return = -math.inf
        self._video_failed = False
        self._starting: int | None = None

    def start(self, prefix: str, step: Any, best: Any) -> None:
        """A `train`/`learn` call starts at `step` from a state whose best
        evaluation so far is `best` (under `vmap`, one call per seed, the
        best of them counts): the best-model file holds a policy of this
        run, so only a better one replaces it. The log sink, if any, opens
        its backends (see `LogSink`)."""
        step, best = int(step), to_float(best)
        if self._starting == step:  # another seed of the same start
            self.saved_return = max(self.saved_return, best)
        else:
            self._starting, self.saved_return = step, best
        if self.sink is not None:
            self.sink.start(prefix, {}, step)

    def complete(self, step: Any) -> None:
        """Every seed's evaluation at `step` was reported: the log sink
        writes them (see `LogSink.complete`)."""
        if self.sink is not None:
            self.sink.complete(step)

    def end(self, step: Any) -> None:
        """A `train`/`learn` call ends: the log sink writes what is pending."""
        self._starting = None
        if self.sink is not None:
            self.sink.end(step)

    def report(
        self,
        static: Any,
        env: Any,
        step: Any,
        mean: Any,
        std: Any,
        length: Any,
        best: Any,
        better: Any,
        arrays: Any,
    ) -> None:
        mean = to_float(mean)
        self._starting = None
        if self.sink is not None:
            self.sink.report(
                step,
                {
                    "eval/mean_return": mean,
                    "eval/std_return": std,
                    "eval/mean_length": length,
                    "eval/best_return": best,
                },
            )
        if arrays is not None and bool(better) and mean > self.saved_return:
            from ..wrapper._sync import (
                frozen_with,
                normalization_path,
                save_normalization,
            )

            arrays, statistics = jax.tree.map(np.asarray, arrays)
            policy = eqx.combine(arrays, static)
            path = policy.serialize(self.best_model_path)
            if statistics:  # the policy is only usable behind them
                frozen = frozen_with(env, statistics)
                save_normalization(normalization_path(path), frozen)
            self.saved_return = mean

    def video(self, env: Any, step: Any, states: Any, dones: Any) -> None:
        if self._video_failed:
            return
        dones = np.asarray(dones)
        length = int(np.argmax(dones)) + 1 if dones.any() else len(dones)
        states = jax.tree.map(lambda x: np.asarray(x)[:length], states)
        path = Path(self.video_dir) / f"eval_{int(step):012d}.mp4"
        try:
            from ..render import record_video  # type: ignore[attr-defined]

            record_video(env, states, path, fps=self.video_fps)
        except ImportError as error:
            self._video_failed = True
            warnings.warn(
                f"`EvalCallback` could not record a video ({error}); videos are "
                'off for this run (install the extra: `pip install "lerax[render]"`).',
                stacklevel=2,
            )
        except Exception as error:  # noqa: BLE001
            self._video_failed = True
            warnings.warn(
                f"`EvalCallback` could not record the video {str(path)!r} "
                f"({type(error).__name__}: {error}); videos are off for this run.",
                stacklevel=2,
            )
