"""One small PPO run with every reporting callback, its outputs read back."""

import html.parser
import io
import os
from types import SimpleNamespace

import equinox as eqx
import jax
import jax.random as jr
import numpy as np
import pytest
from rich.console import Console

from lerax.algorithm import evaluate_policy
from lerax.callback import (
    AbstractCallback,
    CallbackList,
    ConsoleBackend,
    EvalCallback,
    LoggingCallback,
    ProgressBarCallback,
    TensorBoardBackend,
    WandbBackend,
)
from lerax.callback._base import overrides
from lerax.policy import MLPActorCriticPolicy

from .helpers import ALGO, CARTPOLE, STEPS, Recorder, policy, train
from .wandb_reader import read_offline_run

ITERATIONS, LOG_INTERVAL, EVAL_EVERY = 12, 3, 4


def pooled(metrics, start, stop, axis=None):
    """Mean return/length over the episodes of iterations [start, stop)."""
    count = np.asarray(metrics["episodes"])[start:stop]
    out = []
    for name in ("episode_return", "episode_length"):
        values = np.nan_to_num(np.asarray(metrics[name])[start:stop])
        out.append(np.sum(values * count) / np.sum(count))
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logging")
    saved = {k: os.environ.get(k) for k in ("WANDB_MODE", "WANDB_DIR", "WANDB_SILENT")}
    os.environ.update(WANDB_MODE="offline", WANDB_DIR=str(tmp), WANDB_SILENT="true")
    try:
        recorder, eval_recorder = Recorder(), Recorder()
        console = io.StringIO()
        tensorboard = TensorBoardBackend(log_dir=tmp / "tb")
        wandb = WandbBackend(project="lerax-test", mode="offline", dir=tmp)
        logger = LoggingCallback(
            [
                recorder,
                ConsoleBackend(Console(file=console, width=400)),
                tensorboard,
                wandb,
            ],
            log_interval=LOG_INTERVAL,
            name="test-run",
            hparams={"seed": 1},
        )
        evaluator = EvalCallback(
            CARTPOLE,
            eval_freq=EVAL_EVERY * STEPS,
            num_episodes=4,
            best_model_path=tmp / "best",
            backend=eval_recorder,
        )
        progress = ProgressBarCallback(console=Console(file=io.StringIO()))
        callback = CallbackList([logger, evaluator, progress])
        state = ALGO.init(CARTPOLE, policy(), key=jr.key(1), callback=callback)
        state, metrics = ALGO.train(state, ITERATIONS, callback=callback)
        logger.close()
    finally:
        # W&B leaves its service threads running in this worker after the
        # run is finished; the two segfaults seen inside XLA's compiler in
        # suite runs both hit a worker holding them
        import wandb as wandb_library

        wandb_library.teardown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return SimpleNamespace(
        tmp=tmp,
        state=state,
        metrics=metrics,
        recorder=recorder,
        eval_recorder=eval_recorder,
        console=console.getvalue(),
        tensorboard=tensorboard,
    )


LOG_STEPS = [i * STEPS for i in range(LOG_INTERVAL, ITERATIONS + 1, LOG_INTERVAL)]


def test_logs_once_per_interval_with_pooled_episode_means(run):
    rows = run.recorder.scalars
    assert [step for step, _ in rows] == LOG_STEPS
    for step, scalars in rows:
        stop = step // STEPS
        ret, length = pooled(run.metrics, stop - LOG_INTERVAL, stop)
        np.testing.assert_allclose(scalars["episode/return"], ret, rtol=1e-5)
        np.testing.assert_allclose(scalars["episode/length"], length, rtol=1e-5)
        for name in ("policy_loss", "value_loss", "entropy_loss", "learning_rate"):
            np.testing.assert_allclose(
                scalars[f"train/{name}"], run.metrics[name][stop - 1], rtol=1e-5
            )
        assert "train/explained_variance" in scalars
        assert scalars["time/steps_per_second"] > 0


def test_hparams_logged_once(run):
    assert run.recorder.names == ["test-run"]
    assert len(run.recorder.hparams) == 1
    hparams = run.recorder.hparams[0]
    assert hparams["algorithm"] == "PPO"
    assert hparams["algorithm.num_steps"] == ALGO.num_steps
    assert hparams["policy"] == "MLPActorCriticPolicy"
    assert hparams["policy.num_parameters"] > 0
    assert hparams["seed"] == 1
    assert run.recorder.closes == 1


def test_tensorboard_event_files(run):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    events = EventAccumulator(str(run.tmp / "tb" / "test-run"))
    events.Reload()
    tags = events.Tags()
    assert {"episode/return", "train/value_loss", "train/learning_rate"} <= set(
        tags["scalars"]
    )
    returns = events.Scalars("episode/return")
    assert [e.step for e in returns] == LOG_STEPS
    expected = [s["episode/return"] for _, s in run.recorder.scalars]
    np.testing.assert_allclose([e.value for e in returns], expected, rtol=1e-5)
    assert tags["tensors"] == ["hparams/text_summary"]
    assert len(events.Tensors("hparams/text_summary")) == 1


def test_wandb_offline_history(run):
    (path,) = (run.tmp / "wandb").glob("offline-run-*/run-*.wandb")
    history, config = read_offline_run(path)
    history = [row for row in history if "episode/return" in row]
    assert [row["global_step"] for row in history] == LOG_STEPS
    expected = [s["episode/return"] for _, s in run.recorder.scalars]
    np.testing.assert_allclose([row["episode/return"] for row in history], expected)
    assert config["algorithm"] == "PPO" and config["seed"] == 1


def test_console_prints_one_line_per_log_and_hparams(run):
    assert "Run test-run" in run.console
    assert "Hyper-parameters" in run.console and "algorithm.num_steps" in run.console
    lines = [line for line in run.console.splitlines() if line.startswith("step ")]
    assert [line.split(" |")[0] for line in lines] == [f"step {s:,}" for s in LOG_STEPS]
    assert all("episode/return" in line for line in lines)


def test_eval_best_policy_matches_independent_evaluation(run):
    evaluation = run.state.callback_state[1]
    assert int(evaluation.num_evals) == ITERATIONS // EVAL_EVERY
    rows = run.eval_recorder.scalars
    assert [step for step, _ in rows] == [
        i * STEPS for i in range(EVAL_EVERY, ITERATIONS + 1, EVAL_EVERY)
    ]
    best = max(s["eval/mean_return"] for _, s in rows)
    np.testing.assert_allclose(float(evaluation.best_return), best, rtol=1e-6)
    returns, _ = evaluate_policy(
        CARTPOLE,
        evaluation.best_policy(run.state.policy),
        key=jr.key(0),
        num_episodes=4,
    )
    np.testing.assert_allclose(float(np.mean(returns)), best, rtol=1e-5)
    saved = MLPActorCriticPolicy.deserialize(
        run.tmp / "best", CARTPOLE, value_width=16, action_width=16
    )
    for a, b in zip(
        jax.tree.leaves(eqx.filter(saved, eqx.is_array)),
        jax.tree.leaves(evaluation.best_params),
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bad_arguments():
    with pytest.raises(TypeError, match="logging backends"):
        LoggingCallback("tensorboard")
    with pytest.raises(ValueError, match="log_interval"):
        LoggingCallback(ConsoleBackend(), log_interval=0)
    with pytest.raises(ValueError, match="eval_freq"):
        EvalCallback(CARTPOLE, eval_freq=0)


def test_eval_paths_blocked_by_a_file_are_refused_before_training(tmp_path):
    # a file where a folder goes: refused when built, rather than a JAX
    # runtime error at the first new best policy, deep into training
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="best_model_path.*is a file"):
        EvalCallback(CARTPOLE, eval_freq=1, best_model_path=tmp_path / "file" / "best")
    with pytest.raises(ValueError, match="video_dir.*is a file"):
        EvalCallback(CARTPOLE, eval_freq=1, video_dir=tmp_path / "file")
    EvalCallback(CARTPOLE, eval_freq=1, best_model_path=tmp_path / "new" / "best")


@pytest.mark.slow(14)
def test_eval_stop_at_return():
    """Training stops after the first evaluation whose mean return reaches
    `stop_at_return`, with the policy of exactly that many iterations."""
    iterations = 8
    recorder = Recorder()
    free = EvalCallback(CARTPOLE, eval_freq=STEPS, num_episodes=4, backend=recorder)
    _, _ = train(free, iterations)
    means = [
        float(s["eval/mean_return"])
        for _, s in recorder.scalars
        if "eval/mean_return" in s
    ]
    assert len(means) == iterations
    # the first evaluation that beats every earlier one (after the first)
    first = next(i for i in range(1, iterations) if means[i] > max(means[:i]))
    stop = EvalCallback(
        CARTPOLE, eval_freq=STEPS, num_episodes=4, stop_at_return=means[first]
    )
    state, metrics = train(stop, iterations)
    assert bool(state.stopped)
    assert int(state.iteration) == first + 1
    assert float(state.callback_state.best_return) == means[first]
    assert np.isnan(np.asarray(metrics["episode_return"])[first + 1 :]).all()
    plain, _ = train(None, first + 1)
    for a, b in zip(
        jax.tree.leaves(eqx.filter(state.policy, eqx.is_array)),
        jax.tree.leaves(eqx.filter(plain.policy, eqx.is_array)),
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="stop_at_return"):
        EvalCallback(CARTPOLE, eval_freq=1, stop_at_return=float("nan"))


def test_eval_without_threshold_adds_no_stop_check():
    """Without `stop_at_return` the loop has no stop check: `stopped` stays
    a constant False and every iteration runs (none is skipped)."""
    plain = EvalCallback(CARTPOLE, eval_freq=STEPS, num_episodes=2)
    stopping = EvalCallback(
        CARTPOLE, eval_freq=STEPS, num_episodes=2, stop_at_return=-1.0
    )
    assert not overrides(plain, "continue_training")
    assert overrides(stopping, "continue_training")
    assert overrides(CallbackList([plain, stopping]), "continue_training")
    assert overrides(plain, "on_iteration")
    state, metrics = train(plain, 3)
    assert not bool(state.stopped)
    assert not np.isnan(np.asarray(metrics["episode_return"])[1:]).any()
    state, metrics = train(stopping, 3)  # any return reaches -1: stops at once
    assert bool(state.stopped) and int(state.iteration) == 1


def host_calls(callback) -> int:
    """How many host callbacks the compiled training program contains."""
    import re

    def run(key):
        state = ALGO.init(CARTPOLE, policy(), key=key, callback=callback)
        return eqx.filter(ALGO.train(state, 2, callback=callback), eqx.is_array)

    text = jax.jit(run).lower(jr.key(0)).as_text()
    return len(re.findall(r"custom_call @\w*callback", text))


def test_eval_with_nothing_to_report_adds_no_host_callback(tmp_path):
    """An evaluation whose results only live in the training state (no
    backend, no best-model file) leaves the program free of host callbacks,
    so it needs no host round trip and JAX's persistent compilation cache
    can reuse it in another process (a callback's pointer is part of the
    cache key, so a program with one never matches); with a reader it
    reports."""
    quiet = EvalCallback(CARTPOLE, eval_freq=STEPS, num_episodes=2)
    assert host_calls(quiet) == 0
    assert host_calls(EvalCallback(CARTPOLE, eval_freq=STEPS, backend=Recorder())) > 0
    best = EvalCallback(
        CARTPOLE, eval_freq=STEPS, best_model_path=tmp_path / "best.eqx"
    )
    assert host_calls(best) > 0
    # the quiet evaluation still evaluates
    state, _ = train(quiet, 2)
    evaluated = state.callback_state
    assert int(evaluated.num_evals) == 2
    assert np.isfinite(float(evaluated.mean_return))
    assert float(evaluated.mean_return) >= 8.0  # CartPole lasts >= 8 steps


def test_a_stopped_run_logs_the_episodes_since_its_last_log():
    # the evaluation stops the run at its first iteration, between logs
    # (every 3 iterations): those episodes are logged at the stopping step
    recorder = Recorder()
    callback = CallbackList(
        [
            LoggingCallback(recorder, log_interval=3),
            EvalCallback(CARTPOLE, eval_freq=STEPS, num_episodes=2, stop_at_return=-1),
        ]
    )
    state, metrics = train(callback, 6)
    assert int(state.iteration) == 1
    assert [step for step, _ in recorder.scalars] == [STEPS]
    logged = recorder.scalars[0][1]
    assert logged["episode/count"] == float(metrics["episodes"][0]) > 0
    np.testing.assert_allclose(
        logged["episode/return"], float(metrics["episode_return"][0]), rtol=1e-6
    )


def test_closing_a_logger_makes_its_next_run_a_new_one():
    recorder = Recorder()
    logger = LoggingCallback(recorder, log_interval=1)
    train(logger, 1)
    logger.close()
    train(logger, 1)
    assert len(recorder.names) == 2 and recorder.names[0] != recorder.names[1]


def test_tensorboard_runs_of_one_name_get_their_own_folders(tmp_path):
    backends = [TensorBoardBackend(log_dir=tmp_path) for _ in range(3)]
    for backend in backends:
        backend.open("run")
        backend.log_scalars({"x": 1.0}, 0)
        backend.flush()
    assert [b.run_dir.name for b in backends] == ["run", "run_1", "run_2"]
    for backend in backends:
        backend.close()


def test_a_reused_eval_callback_saves_each_runs_own_best(tmp_path):
    # the best-model file holds the best policy of the run that wrote it: a
    # second run with the same callback replaces it with its own best, also
    # when that is below the first run's
    path = tmp_path / "best.eqx"
    callback = EvalCallback(
        CARTPOLE, eval_freq=STEPS, num_episodes=4, seed=7, best_model_path=path
    )
    bests = []
    for seed, iterations in ((1, 6), (2, 1)):
        state, _ = train(callback, iterations, seed=seed)
        bests.append(float(state.callback_state.best_return))
        saved = MLPActorCriticPolicy.deserialize(
            path, CARTPOLE, value_width=16, action_width=16
        )
        returns, _ = evaluate_policy(CARTPOLE, saved, key=jr.key(7), num_episodes=4)
        np.testing.assert_allclose(float(np.mean(returns)), bests[-1], rtol=1e-6)
    assert bests[1] < bests[0]


def test_an_eval_callback_listed_first_keeps_the_loggers_run_name():
    # EvalCallback and LoggingCallback share a backend: the run is named after
    # the logger's `name` whichever callback comes first in the list
    recorder = Recorder()
    evaluation = EvalCallback(
        CARTPOLE, eval_freq=STEPS, num_episodes=1, max_steps=20, backend=recorder
    )
    logger = LoggingCallback(recorder, log_interval=1, name="my-run")
    train(CallbackList([evaluation, logger]), 2)
    assert recorder.names == ["my-run"]
    assert len(recorder.hparams) == 1
    logged = {(step, tag) for step, scalars in recorder.scalars for tag in scalars}
    assert {(STEPS, "eval/mean_return"), (2 * STEPS, "eval/mean_return")} <= logged
    assert {(STEPS, "episode/return"), (2 * STEPS, "train/loss")} <= logged
    logger.close()


def test_a_second_learn_with_the_same_logger_is_a_new_tensorboard_run(tmp_path):
    # a fresh `learn` restarts the step count: its curves go to a folder of
    # their own rather than over the first run's steps; `train` in chunks
    # stays one run
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    logger = LoggingCallback(TensorBoardBackend(tmp_path), log_interval=1, name="r")
    for seed in (1, 2):
        ALGO.learn(CARTPOLE, policy(), 2 * STEPS, key=jr.key(seed), callback=logger)
    state = ALGO.init(CARTPOLE, policy(), key=jr.key(3), callback=logger)
    for _ in range(2):
        state, _ = ALGO.train(state, 1, callback=logger)
    logger.close()
    runs = sorted(p.name for p in tmp_path.iterdir())
    assert runs == ["r", "r_1", "r_2"]
    for run in runs:
        events = EventAccumulator(str(tmp_path / run))
        events.Reload()
        steps = [e.step for e in events.Scalars("episode/return")]
        assert steps == [STEPS, 2 * STEPS], (run, steps)
        assert len(events.Tensors("hparams/text_summary")) == 1


def test_seeds_stopped_under_vmap_report_nothing_more(tmp_path):
    # under `jax.vmap` the loop's skip/run `cond` on a per-seed `stopped` flag
    # runs both branches: the host calls of a stopped seed's discarded
    # iterations must not reach the backends, the bar or the best model
    logs, evals, screen = Recorder(), Recorder(), io.StringIO()
    callback = CallbackList(
        [
            LoggingCallback(logs, log_interval=2, name="r"),
            EvalCallback(
                CARTPOLE,
                eval_freq=STEPS,
                num_episodes=2,
                max_steps=100,
                stop_at_return=25.0,
                best_model_path=tmp_path / "best",
                backend=evals,
            ),
            ProgressBarCallback(console=Console(file=screen, width=200), interval=1),
        ]
    )

    def run(key):
        state = ALGO.init(CARTPOLE, policy(), key=key, callback=callback)
        return ALGO.train(state, 6, callback=callback)

    state, metrics = jax.vmap(run)(jr.split(jr.key(0), 3))
    last = int(np.max(state.iteration)) * STEPS
    assert last < 6 * STEPS, "the seeds should stop early"
    assert [step for step, _ in logs.scalars] == [last]
    assert logs.scalars[-1][1]["episode/count"] == int(np.sum(metrics["episodes"]))
    assert [step for step, _ in evals.scalars] == [
        STEPS * (i + 1) for i in range(last // STEPS)
    ]
    assert f"{last + STEPS:,}/" not in screen.getvalue(), screen.getvalue()
    saved = MLPActorCriticPolicy.deserialize(
        tmp_path / "best.eqx", CARTPOLE, value_width=16, action_width=16
    )
    returns, _ = evaluate_policy(
        CARTPOLE, saved, key=jr.key(0), num_episodes=2, max_steps=100
    )
    best = np.max(state.callback_state[1].best_return)
    np.testing.assert_allclose(float(np.mean(returns)), float(best), rtol=1e-6)


class _CellText(html.parser.HTMLParser):
    """The rows of an HTML table: each cell's text, `<br>` as a newline."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "br" and self._cell is not None:
            self._cell += "\n"

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


# TensorBoard's own Markdown renderer (bleach) warns that html5lib's sanitizer
# is deprecated when imported
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tensorboard_hparams_table_shows_values_as_written(tmp_path):
    """Values with `|`, line breaks, Markdown or HTML characters each stay in
    their own cell of the table TensorBoard renders, shown as written."""
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )
    from tensorboard.plugin_util import markdown_to_safe_html

    hparams = {
        "algorithm": "PPO",
        "note": "a | b || c",
        "multi": "line one\nline two",
        "markup": "*not bold* __x__ `code` [link](y) <b>raw</b> & \\ end",
        "a|key": 3,
        "learning_rate": 0.001,
    }
    backend = TensorBoardBackend(log_dir=tmp_path)
    backend.open("run")
    backend.log_hparams(hparams)
    backend.close()
    events = EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    (event,) = events.Tensors("hparams/text_summary")
    markdown = event.tensor_proto.string_val[0].decode("utf-8")
    parser = _CellText()
    parser.feed(markdown_to_safe_html(markdown))
    rows = [[cell.strip() for cell in row] for row in parser.rows]
    assert rows[0] == ["name", "value"]
    assert rows[1:] == [[k, str(v)] for k, v in hparams.items()]


def test_hparams_describe_a_learning_rate_schedule_for_every_backend():
    """A schedule is shown as one (named after its optax factory) with its
    value at update 0, also when the hyper-parameters are read while tracing
    (as `LoggingCallback` does); the console shows the same text."""
    import optax

    from lerax.algorithm import PPO
    from lerax.callback._logging import extract_hparams

    algo = PPO(num_envs=4, learning_rate=optax.linear_schedule(2.5e-4, 0.0, 100))
    seen = {}

    @jax.jit
    def traced(x):
        seen.update(extract_hparams(algo, policy()))
        return x

    traced(0)
    text = "schedule (polynomial_schedule), 0.00025 at update 0"
    assert seen["algorithm.learning_rate"] == text
    assert extract_hparams(algo, policy())["algorithm.learning_rate"] == text
    lambda_lr = PPO(learning_rate=lambda count: 1e-3 / (1 + count))
    assert (
        extract_hparams(lambda_lr, policy())["algorithm.learning_rate"]
        == "schedule, 0.001 at update 0"
    )
    buffer = io.StringIO()
    console = ConsoleBackend(Console(file=buffer, width=200))
    console.open("run")
    console.log_hparams(seen)
    console.close()
    assert text in buffer.getvalue()
    assert "<locals>" not in buffer.getvalue()


def test_hparams_keep_numpy_scalars():
    from lerax.algorithm import PPO
    from lerax.callback._logging import extract_hparams

    # recorded as the number written (float32 0.99 is 0.9900000095367432)
    algo = PPO(gamma=np.float32(0.99), learning_rate=jax.numpy.asarray(3e-4))
    hparams = extract_hparams(algo, policy())
    assert hparams["algorithm.gamma"] == 0.99
    assert hparams["algorithm.learning_rate"] == 3e-4


def test_console_hparams_are_plain_text_not_rich_markup():
    buffer = io.StringIO()
    backend = ConsoleBackend(Console(file=buffer, width=200))
    backend.open("run")
    backend.log_hparams({"closing": "[/]", "style": "[red]x[/red]", "[b]key": 1})
    backend.close()
    text = buffer.getvalue()
    assert "[/]" in text and "[red]x[/red]" in text and "[b]key" in text


def test_a_backend_that_cannot_open_gets_no_hparams_call(tmp_path):
    """A file where TensorBoard's run folder would go: the run goes to
    `name_1`; a backend that fails to open warns once, about opening."""
    from lerax.callback._logging import LogSink

    (tmp_path / "run").write_text("not a folder")
    tensorboard = TensorBoardBackend(log_dir=tmp_path)
    sink = LogSink((tensorboard,), "run")
    sink.start("prefix", {"seed": 1}, 0)
    assert tensorboard.run_dir == tmp_path / "run_1"
    sink.close()

    class Broken(Recorder):
        def open(self, name):
            raise OSError("disk full")

    broken = Broken()
    with pytest.warns(UserWarning, match="failed to open") as record:
        LogSink((broken,), "run").start("prefix", {"seed": 1}, 0)
    assert len(record) == 1 and broken.hparams == []


def test_extra_hparams_given_as_arrays_are_recorded_as_numbers():
    """Arrays and NumPy scalars (a seed from `jnp.arange`, say) are recorded
    as Python values, without Equinox's warning about arrays in static
    fields (an error under this suite's settings); names become strings."""
    recorder = Recorder()
    logger = LoggingCallback(
        recorder,
        hparams={
            "seed": jax.numpy.asarray(3),
            "scale": np.float32(0.1),
            "sizes": np.array([[64, 64], [32, 32]]),
            7: "seven",
        },
    )
    train(logger, 1)
    logger.close()
    hparams = recorder.hparams[0]
    assert hparams["seed"] == 3 and type(hparams["seed"]) is int
    assert hparams["scale"] == 0.1 and type(hparams["scale"]) is float
    assert hparams["sizes"] == ((64, 64), (32, 32))
    assert hparams["7"] == "seven"
    with pytest.raises(TypeError, match="'seed' is a traced array"):
        jax.jit(lambda s: LoggingCallback(recorder, hparams={"seed": s}) and s)(1)


def test_a_second_learn_with_an_eval_callback_alone_is_a_new_run():
    # an EvalCallback logging to a backend by itself opens it, so a fresh
    # `learn` (its steps starting again) opens a new run; sharing the
    # backend with a LoggingCallback, the logger's run is left to it
    alone = Recorder()
    evaluation = EvalCallback(
        CARTPOLE, eval_freq=STEPS, num_episodes=1, max_steps=20, backend=alone
    )
    for seed in (1, 2):
        ALGO.learn(CARTPOLE, policy(), 2 * STEPS, key=jr.key(seed), callback=evaluation)
    assert len(alone.names) == 2 and alone.names[0] != alone.names[1]
    assert alone.closes >= 1
    assert [step for step, _ in alone.scalars] == [STEPS, 2 * STEPS] * 2
    for order in ("eval first", "logger first"):
        shared = Recorder()
        evaluation = EvalCallback(
            CARTPOLE, eval_freq=STEPS, num_episodes=1, max_steps=20, backend=shared
        )
        logger = LoggingCallback(shared, log_interval=1, name="my-run")
        callbacks = (
            [evaluation, logger] if order == "eval first" else [logger, evaluation]
        )
        for seed in (1, 2):
            ALGO.learn(
                CARTPOLE,
                policy(),
                2 * STEPS,
                key=jr.key(seed),
                callback=CallbackList(callbacks),
            )
        logger.close()
        # one close per new run and at the end: the eval sink closed nothing
        assert shared.names == ["my-run", "my-run"], order
        assert shared.closes == 2, order
        evals = [s for s, scalars in shared.scalars if "eval/mean_return" in scalars]
        assert evals == [STEPS, 2 * STEPS] * 2, order


class _StopAt(AbstractCallback):
    """Stops each seed after its own number of iterations."""

    at: jax.Array

    def continue_training(self, ctx, *, key):
        return ctx.iteration < self.at


def test_a_seed_stopped_early_under_vmap_keeps_its_last_episodes():
    # seed 0 stops after 5 iterations, after its last log (at 3) but before
    # the other seed's next ones: the episodes it finished since are
    # reported at its end, below steps already logged, and must still be
    # counted (they join the batch's last log) rather than dropped as stale
    logs = Recorder()
    logging = LoggingCallback(logs, log_interval=3, name="r")

    def run(key, at):
        callback = CallbackList([logging, _StopAt(at)])
        state = ALGO.init(CARTPOLE, policy(), key=key, callback=callback)
        return ALGO.train(state, 10, callback=callback)

    state, metrics = jax.jit(jax.vmap(run))(
        jr.split(jr.key(1), 2), jax.numpy.array([5, 1000])
    )
    assert state.iteration.tolist() == [5, 10]
    # a stopped seed's discarded iterations are left out
    finished = np.asarray(metrics["episodes"])
    # per iteration: mean return of its episodes (NaN without one)
    sums = np.nan_to_num(np.asarray(metrics["episode_return"])) * finished
    total = int(np.sum(finished[0, :5]) + np.sum(finished[1]))
    assert sum(s["episode/count"] for _, s in logs.scalars) == total
    # and the mean return of all logs together is that of every episode
    pooled = sum(s["episode/count"] * s["episode/return"] for _, s in logs.scalars)
    expected = np.sum(sums[0, :5]) + np.sum(sums[1])
    np.testing.assert_allclose(pooled, expected, rtol=1e-4)


def test_logs_reach_the_backends_when_they_are_computed(tmp_path):
    # a log (and an evaluation) at step S is written before the next
    # iteration runs, not when a later report arrives: a live console shows
    # the latest metrics, and a crash loses nothing already computed
    events = []

    class Marker(AbstractCallback):
        def on_iteration(self, ctx, *, key):
            jax.debug.callback(
                lambda step: events.append(("iteration", int(step))),
                ctx.num_timesteps,
                ordered=True,
            )
            return ctx.callback_state

    class Events(Recorder):
        def log_scalars(self, scalars, step):
            kind = "eval" if any(k.startswith("eval/") for k in scalars) else "log"
            events.append((kind, step))

    backend = Events()
    callback = [
        LoggingCallback(backend, log_interval=2, name="r"),
        EvalCallback(CARTPOLE, eval_freq=2 * STEPS, num_episodes=2, backend=backend),
        Marker(),
    ]
    ALGO.learn(CARTPOLE, policy(), 6 * STEPS, key=jr.key(0), callback=callback)
    expected = []
    for i in range(1, 7):
        if i % 2 == 0:
            expected += [("log", i * STEPS), ("eval", i * STEPS)]
        expected.append(("iteration", i * STEPS))
    assert events == expected
