"""The `lerax` command line, run as a separate process (`python -m lerax`)."""

import csv
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.algorithm import evaluate_policy
from lerax.cli import CLIError, build_config, main, parser
from lerax.cli._commands import load_run
from lerax.cli._config import build, read_toml

from ..render.helpers import mp4_fps

SRC = Path(__file__).resolve().parents[2] / "src"
# 8 envs x 16 steps = 128 steps per iteration: 8 iterations, a few seconds.
TINY = [
    "--total-timesteps",
    "1024",
    "--set",
    "num_steps=16",
    "--set",
    "num_epochs=2",
    "--set",
    "eval_episodes=4",
]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    pythonpath: str | None = None,
    devices: int | None = None,
) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if devices is not None:  # XLA's CPU devices, fixed when JAX starts
        flag = f"--xla_force_host_platform_device_count={devices}"
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}"
    env["PYTHONPATH"] = os.pathsep.join(
        [*filter(None, [pythonpath]), str(SRC), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "lerax", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def assert_same_metrics(names, ours, theirs):
    """Two runs' metrics rows agree in every column, up to float rounding."""
    for name in names:
        np.testing.assert_allclose(
            [float(row[name]) for row in ours],
            [float(row[name]) for row in theirs],
            rtol=1e-4,
            atol=1e-5,
            err_msg=name,
        )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("train") / "run"
    result = run_cli(
        "train", "PPO", "CartPole-v1", "--seed", "3", "--out", str(out), *TINY
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def test_train_writes_policy_config_metrics_and_plot(run_dir):
    out, result = run_dir
    assert "Traceback" not in result.stderr
    match = re.search(r"Evaluation: return (-?[\d.]+) ± ([\d.]+)", result.stdout)
    assert match, result.stdout

    # config.toml: every hyper-parameter, versions, seed; rebuilds the same config
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["run"]["seed"] == 3
    assert saved["run"]["env"] == "CartPole-v1"
    assert saved["run"]["total_timesteps"] == 1024
    assert saved["algorithm"]["num_steps"] == 16
    assert saved["algorithm"]["num_envs"] == 8  # embedded default
    assert saved["algorithm"]["target_kl"] == "none"
    assert {"lerax", "jax"} <= set(saved["versions"])
    assert saved["result"]["mean_return"] == pytest.approx(
        float(match.group(1)), abs=0.06
    )
    rebuilt = build_config(file=out / "config.toml")
    for section in ("run", "algorithm", "policy"):
        assert rebuilt[section] == saved[section] | (
            {"target_kl": None, "value_clip_coefficient": None}
            if section == "algorithm"
            else {}
        )

    # metrics.csv: one row per iteration, timesteps column
    columns, rows = read_csv(out / "metrics.csv")
    assert columns[:3] == ["seed", "iteration", "timesteps"]
    assert {"episode_return", "policy_loss", "value_loss", "learning_rate"} <= set(
        columns
    )
    assert len(rows) == 8
    assert [int(r["timesteps"]) for r in rows] == [128 * i for i in range(1, 9)]
    assert {r["seed"] for r in rows} == {"3"}

    # learning_curve.png: a valid PNG image
    png = (out / "learning_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    matplotlib_image = pytest.importorskip("matplotlib.image")
    assert matplotlib_image.imread(out / "learning_curve.png").ndim == 3

    # policy.eqx: loads into the policy the config describes and acts
    setup = build(rebuilt)
    policy = setup.load_policy(out / "policy.eqx")
    returns, _ = evaluate_policy(setup.env, policy, key=jr.key(0), num_episodes=2)
    assert bool(jnp.all(returns > 0))


def test_evaluate_prints_a_return(run_dir, tmp_path, capsys):
    out, _ = run_dir
    result = run_cli("evaluate", str(out), "--episodes", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(
        r"return -?[\d.]+ ± [\d.]+ .* over 3 deterministic episodes", result.stdout
    )
    # without --episodes and --seed: the evaluation training ended with,
    # whose return it prints again
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    printed = capsys.readouterr().out
    trained = tomllib.loads((out / "config.toml").read_text())["result"]
    shown = float(re.search(r"return (-?[\d.]+) ±", printed).group(1))
    assert shown == pytest.approx(trained["mean_return"], abs=0.051)
    assert "over 4 deterministic episodes" in printed
    # a run trained with a seed `lerax train` now refuses still evaluates
    old = tmp_path / "old"
    shutil.copytree(out, old)
    config = (old / "config.toml").read_text().replace("seed = 3\n", "seed = -1\n")
    assert "\nseed = -1\n" in config
    (old / "config.toml").write_text(config)
    assert main(["evaluate", str(old), "--episodes", "1", "--stochastic"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("over 1 stochastic episode")


def test_list_shows_algorithms_and_envs():
    result = run_cli("list")
    assert result.returncode == 0
    for name in ("PPO", "SACDiscrete", "CartPole-v1", "Pendulum-v1", "MLPSACPolicy"):
        assert name in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["train", "PPOO"], "Did you mean 'PPO'?"),
        (["train", "PPO", "CartPol-v1"], "Did you mean 'CartPole-v1'?"),
        (["train", "--set", "num_env=4"], "Did you mean 'num_envs'?"),
        (["train", "--set", "num_envs=abc"], "expected int, got 'abc'"),
        (["train", "--set", "gamma=true"], "expected float"),
        (["train", "--set", "policy.activation=rellu"], "expected one of 'tanh'"),
        # without a command the first word is an algorithm, unless it is
        # close to a command's name (before argparse sees --episodes)
        (["evalute", "DIR", "--episodes", "4"], "did you mean `evaluate`?"),
        (["recrod", "DIR"], "did you mean `record`?"),
        (["PPOO"], "Did you mean 'PPO'?"),
    ],
)
def test_bad_input_exits_2_with_a_suggestion(args, expected, capsys):
    # in-process (the same `main` the `lerax` process runs; the process's
    # exit status is checked below)
    status = main(args)
    output = capsys.readouterr()
    text = output.err.replace("\n", "")
    assert status == 2, text
    assert expected in text  # on stderr, as argparse's errors
    assert output.out == ""
    assert "Traceback" not in text


def test_bad_input_exits_the_process_with_status_2():
    result = run_cli("train", "PPOO")
    assert result.returncode == 2, result.stdout + result.stderr
    text = result.stderr
    assert "Did you mean 'PPO'?" in text and result.stdout == ""
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "args, expected",
    [
        (["train", "--set", "num_envs=0"], "`PPO(num_envs=...)` must be an int >= 1"),
        (["train", "--set", "gamma=2"], "`PPO(gamma=...)` must be in [0, 1], got 2.0"),
        (["train", "--set", "eval_episodes=0"], "run.eval_episodes must be >= 1"),
        (
            ["train", *TINY, "--set", f"eval_episodes={2**31}", "--out", "{tmp}/run"],
            "run.eval_episodes must be at most 2,147,483,647, got 2147483648.",
        ),
        (["train", "--checkpoint-every", "0"], "--checkpoint-every must be >= 1"),
        (
            ["train", "--num-seeds", "2", "--checkpoint-every", "1024"],
            "`--checkpoint-every` works with one seed",
        ),
        (["train", "--out", "{tmp}/a-file"], "is a file; pass a folder"),
        (["train", "--resume", "{tmp}/nothing"], "No checkpoint at"),
        (["evaluate", "{tmp}/nothing"], "is not a `lerax train` output folder"),
        (["evaluate", "{tmp}/nothing", "--episodes", "0"], "--episodes must be 1 to"),
        (
            ["record", "{tmp}", "--out", "v.mp4", "--max-steps", str(2**31)],
            "--max-steps must be 1 to 2,147,483,647, got 2147483648.",
        ),
        (["record", "{tmp}", "--out", "v.avi"], "must end in .mp4 or .gif"),
        (["record", "{tmp}", "--out", "v.mp4", "--fps", "0"], "--fps must be >= 1"),
        (["benchmark", "--total-timesteps", "10"], "less than one iteration"),
        (
            ["benchmark", "--num-envs", "3", "--num-steps", "5"],
            "--num-envs 3 x --num-steps 5 = 15 steps per iteration, which the "
            "benchmark's 4 minibatches cannot split evenly",
        ),
        # a linear schedule (PPO's default) starts at the rate: checked as a
        # number (a short budget: no long run should the check be skipped)
        (
            ["train", "--set", "learning_rate=nan", "--out", "{tmp}/run", *TINY],
            "PPO: `PPO(learning_rate=...)` must be > 0, got nan.",
        ),
        (
            ["train", "--set", "learning_rate=-0.001", "--out", "{tmp}/run", *TINY],
            "PPO: `PPO(learning_rate=...)` must be > 0, got -0.001.",
        ),
        (
            ["train", "A2C", "--set", 'lr_schedule="linear"', "--set"]
            + ["learning_rate=inf", "--out", "{tmp}/run", "--total-timesteps", "1024"],
            "A2C: `A2C(learning_rate=...)` must be finite, got inf.",
        ),
        (
            ["train", "--devices", "0", "--out", "{tmp}/run"],
            "--devices must be >= 1 (the number of devices to train on), got 0.",
        ),
        (
            ["train", "--set", "policy.class=MLPQPolicy", "--out", "{tmp}/run"],
            "PPO cannot train on CartPole-v1: `PPO` trains an "
            "`AbstractActorCriticPolicy`",
        ),
        # JAX keys hold 32 bits of a seed: 2**32 would train as seed 0
        (
            ["train", "--seed", "-1", "--out", "{tmp}/run"],
            "run.seed (--seed) must be between 0 and 4,294,967,295",
        ),
        (["train", "--seed", str(2**32), "--out", "{tmp}/run"], "got 4294967296."),
        (
            ["train", "--seed", str(2**32 - 1), "--num-seeds", "2"],
            "with 2 seeds (up to 4294967296); lower it to at most 4294967294.",
        ),
        (["evaluate", "{tmp}", "--seed", str(2**64)], "--seed must be between 0"),
        (["record", "{tmp}", "--out", "v.mp4", "--seed", "-3"], "got -3."),
        # integers past 64 bits, floats past a double
        (
            ["train", "SAC", "--set", f"buffer_size={10**20}", "--out", "{tmp}/run"],
            f"algorithm.buffer_size in `--set buffer_size=...`: {10**20} is out "
            "of range; integers must fit in 64 bits",
        ),
        (
            ["train", "--set", f"gamma={10**400}"],
            "algorithm.gamma in `--set gamma=...`: 1000",
        ),
    ],
)
def test_bad_values_exit_2_before_anything_runs(args, expected, tmp_path, capsys):
    # in-process: each case stops before compiling anything
    (tmp_path / "a-file").write_text("")
    status = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    output = capsys.readouterr()
    assert status == 2, output
    assert expected in output.err.replace("\n", "")
    assert "iterations of" not in output.out  # the run was not announced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no output


@pytest.mark.parametrize(
    "logger, module", [("wandb", "wandb"), ("tensorboard", "tensorboardX")]
)
def test_a_missing_logger_extra_fails_before_the_folder_is_made(
    logger, module, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, module, None)  # import fails: not installed
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--logger", logger]) == 1
    output = capsys.readouterr()
    assert 'pip install "lerax[logging]"' in output.err
    assert "iterations of" not in output.out
    assert not out.exists()


def test_unreadable_config_files_exit_2_naming_the_fix(tmp_path, capsys):
    # a run folder passed as --config, and files that are not UTF-8 text
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text('[run]\nenv = "CartPole-v1"\n')
    (tmp_path / "latin1.toml").write_bytes(b'[run]\nenv = "\xe9"\n')
    cases = {
        str(run): f"is a folder; pass its {str(run / 'config.toml')!r}",
        str(tmp_path): "is a folder; pass a .toml file",
        str(tmp_path / "latin1.toml"): "is not UTF-8 text",
    }
    for path, expected in cases.items():
        status = main(["train", "--config", path, "--out", str(tmp_path / "out")])
        output = capsys.readouterr().err.replace("\n", "")
        assert status == 2, output
        assert expected in output
    assert not (tmp_path / "out").exists()


def test_bad_devices_exit_2_before_anything_is_written(tmp_path):
    # a fresh process: the command makes the 3 CPU devices itself, over
    # which PPO's 8 envs do not split
    out = tmp_path / "run"
    result = run_cli("train", "--devices", "3", "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "--devices 3: 8 envs cannot be split evenly over the 3 devices; use a "
        "multiple of 3 for num_envs (`--set num_envs=...`) or a --devices that "
        "divides 8." in result.stderr
    )
    assert "iterations of" not in result.stdout and "Traceback" not in result.stderr
    assert not out.exists()


def test_a_new_run_refuses_a_folder_holding_another_runs_checkpoints(tmp_path, capsys):
    # they would outlive the new run, and `--resume` would continue them
    # under its settings
    out = tmp_path / "run"
    stale = out / "checkpoints" / "checkpoint_000000004096.ckpt"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"run A")
    other = tmp_path / "other" / "checkpoint_000000000512.ckpt"
    other.parent.mkdir()
    other.write_bytes(b"run C")
    before = sorted(tmp_path.rglob("*"))
    for args in (
        ["--seed", "1"],
        ["--seed", "1", "--checkpoint-every", "512"],
        ["--resume", str(other)],  # another run's continuation
    ):
        status = main(["train", "--out", str(out), *args, *TINY])
        text = capsys.readouterr().err.replace("\n", "")
        assert status == 2, text
        assert (
            f"--out {str(out)!r} holds the checkpoints of an earlier run in "
            f"{str(out / 'checkpoints')!r}" in text
        )
        assert f"Continue that run with `lerax train --resume {out}`" in text
        assert "iterations of" not in text
    assert sorted(tmp_path.rglob("*")) == before
    assert stale.read_bytes() == b"run A"


def test_export_writes_a_model_that_acts_as_the_saved_policy(
    run_dir, tmp_path, capsys, monkeypatch
):
    pytest.importorskip("onnxruntime")
    from lerax.export import onnx_policy_fn

    out, _ = run_dir
    target = tmp_path / "model.onnx"
    status = main(["export", str(out), "--out", str(target), "--action-mask"])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "agree on 64 sampled observations" in text
    assert "['observation', 'action_mask'] -> ['action', 'value']" in text
    # independently of the command's own check: the saved policy in JAX
    policy = build(build_config(file=out / "config.toml")).load_policy(
        out / "policy.eqx"
    )
    observations = jr.normal(jr.key(5), (32, 4)) * jnp.array([[1.0, 2.0, 0.1, 2.0]])
    masks = jnp.ones((32, 2), bool).at[::3, 1].set(False)
    got = onnx_policy_fn(target)(np.asarray(observations), action_mask=masks)
    for i in range(32):
        _, action = policy(None, observations[i], action_mask=masks[i])
        assert got["action"][i] == int(action)
        assert got["value"][i] == pytest.approx(
            float(policy.value(None, observations[i])[1]), abs=1e-5
        )
    assert (got["action"][::3] == 0).all()  # masked out: never 1
    # the default file, next to policy.eqx
    assert main(["export", str(out)]) == 0
    assert (out / "policy.onnx").is_file()
    capsys.readouterr()
    # bad input: exit status 2, a message, nothing written
    (tmp_path / "folder.onnx").mkdir()
    for args, message in [
        (["--out", str(tmp_path / "m.txt")], "--out must name an .onnx file"),
        (["--opset", "5"], "--opset must be >= 13"),
        (["--opset", "99"], "is out of range"),
        (["--out", str(tmp_path / "folder.onnx")], "is a folder; give a file"),
        (["--out", str(target / "m.onnx")], "is a file, not a folder"),
    ]:
        assert main(["export", str(out), *args]) == 2
        assert message in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "not a `lerax train` output folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.onnx", "model.onnx"]
    assert not any((tmp_path / "folder.onnx").iterdir())

    # a model that fails the check against JAX is not written: the earlier
    # export stays
    import lerax.export

    def disagreeing(model):
        return lambda observations, **inputs: {"action": np.full(64, -1)}

    monkeypatch.setattr(lerax.export, "onnx_policy_fn", disagreeing)
    earlier = target.read_bytes()
    assert main(["export", str(out), "--out", str(target)]) == 1
    assert f"so {str(target)!r} was not written" in capsys.readouterr().err
    assert target.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.onnx", "model.onnx"]


def test_config_is_written_before_training(tmp_path, monkeypatch, capsys):
    # a run that crashes mid-way leaves its configuration for `--resume`
    from lerax.cli import _train

    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(_train, "_train", crash)
    out = tmp_path / "run"
    # an earlier run's outputs (one with 2 seeds, normalised, exported) and a
    # file of the user's
    earlier = [
        "policy.eqx",
        "policy.normalization.eqx",
        "metrics.csv",
        "learning_curve.png",
        "policy.onnx",
        "policies/seed_0.eqx",
        "policies/seed_0.normalization.eqx",
    ]
    for name in [*earlier, "notes.txt"]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("earlier")
    status = main(["train", "--out", str(out), "--set", "num_envs=4", *TINY])
    assert status == 1 and "killed" in capsys.readouterr().err
    written = tomllib.loads((out / "config.toml").read_text())
    assert written["algorithm"]["num_envs"] == 4 and "result" not in written
    # they went when the new run started: they would pass for its results
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "notes.txt"]
    assert main(["evaluate", str(out)]) == 1
    assert "has not finished: there is no policy.eqx yet" in capsys.readouterr().err


def test_a_failed_evaluation_keeps_the_trained_policy(tmp_path, monkeypatch, capsys):
    # the evaluation after training (e.g. out of memory with a large
    # eval_episodes) must not throw away what was trained
    from lerax.cli import _train

    def crash(*args, **kwargs):
        raise RuntimeError("RESOURCE_EXHAUSTED")

    def trained(algo, state, done, iterations, callback, mesh):  # no compiling
        return state, {"episode_return": np.array([9.0, 12.0])}

    monkeypatch.setattr(_train, "_train", trained)
    monkeypatch.setattr(_train, "_evaluate", crash)
    out = tmp_path / "run"
    status = main(["train", "--out", str(out), *TINY, "--total-timesteps", "128"])
    output = capsys.readouterr()
    text = output.out
    assert status == 1 and "RESOURCE_EXHAUSTED" in output.err
    assert "128 steps (1 iteration of 128)" in text
    assert "Trained 128 steps" in text
    for name in ("policy.eqx", "metrics.csv", "learning_curve.png"):
        assert (out / name).is_file(), name
    assert "result" not in tomllib.loads((out / "config.toml").read_text())
    config, setup, policy, env = load_run(out)  # loads
    assert config["run"]["total_timesteps"] == 128


def test_metrics_csv_writes_float32_values_as_short_as_they_read_back(tmp_path):
    from lerax.cli._train import _earlier_metrics, _write_csv

    rates = np.array([1e-3, 7.5e-4, -6.7055225e-08], np.float32)
    metrics = {"learning_rate": rates, "episodes": np.array([2, 8, 9], np.int32)}
    _write_csv(tmp_path / "metrics.csv", metrics, [0], 0, 128)
    _, rows = read_csv(tmp_path / "metrics.csv")
    assert [r["learning_rate"] for r in rows] == ["0.001", "0.00075", "-6.7055225e-08"]
    # and read back exactly (a resumed run keeps this history)
    first, earlier = _earlier_metrics(tmp_path / "metrics.csv", metrics, 3)
    assert first == 0
    np.testing.assert_array_equal(earlier["learning_rate"], rates)


def test_seeds_past_2_31_start_each_seed_as_alone():
    # vmapped seeds make the keys `jr.key(seed)` makes for one seed, up to
    # the largest seed (seeds were int32: 2**31 and more overflowed)
    from lerax.cli._train import _initial_state

    config = build_config(assignments=["num_envs=2", "num_steps=4"])
    setup = build(config)
    seeds = [2**31, 2**32 - 1]
    both = _initial_state(setup, config["run"], seeds, None, None)
    for i, seed in enumerate(seeds):
        alone = _initial_state(setup, config["run"], [seed], None, None)
        np.testing.assert_array_equal(jr.key_data(both.key[i]), jr.key_data(alone.key))
        weights = lambda state: jax.tree.leaves(eqx.filter(state.policy, eqx.is_array))
        for ours, theirs in zip(weights(both), weights(alone), strict=True):
            np.testing.assert_array_equal(ours[i], theirs)


@pytest.mark.slow(30)
def test_num_seeds_trains_a_vmapped_batch(tmp_path):
    out = tmp_path / "seeds"
    options = ["train", "--num-seeds", "2", "--set", "normalize_observation=true"]
    result = run_cli(*options, "--logger", "tensorboard", "--out", str(out), *TINY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Mean over 2 seeds" in result.stdout
    assert "policy.normalization.eqx, policies/seed_*.eqx, config.toml" in result.stdout
    _, rows = read_csv(out / "metrics.csv")
    assert len(rows) == 16
    assert sorted({r["seed"] for r in rows}) == ["0", "1"]
    assert (out / "policies" / "seed_0.eqx").is_file()
    assert (out / "policies" / "seed_1.eqx").is_file()
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert any("tfevents" in p.name for p in (out / "tb").rglob("*"))
    best = tomllib.loads((out / "config.toml").read_text())["result"]["best_seed"]
    policy = (out / "policy.eqx").read_bytes()
    assert policy == (out / "policies" / f"seed_{best}.eqx").read_bytes()
    # each seed's own pooled statistics, the best one's next to policy.eqx
    stats = {s: (out / "policies" / f"seed_{s}.normalization.eqx") for s in (0, 1)}
    assert stats[0].read_bytes() != stats[1].read_bytes()
    saved = (out / "policy.normalization.eqx").read_bytes()
    assert saved == stats[best].read_bytes()

    # --devices 2 spreads the seeds over two CPU devices, which the command
    # makes itself: the same training up to float rounding, reported once
    spread = tmp_path / "spread"
    result = run_cli(*options, "--devices", "2", "--out", str(spread), *TINY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "On 2 cpu device(s): the seeds are spread over them." in result.stdout
    assert result.stdout.count("100% 1,024/1,024 steps") == 1
    names, ours = read_csv(spread / "metrics.csv")
    _, theirs = read_csv(out / "metrics.csv")
    assert len(ours) == len(theirs) == 16
    assert_same_metrics(names, ours, theirs)


@pytest.mark.slow(18)
def test_resume_equals_an_uninterrupted_run(tmp_path):
    options = ["--checkpoint-every", "512", *TINY, "--set", 'lr_schedule="constant"']
    full = tmp_path / "full"
    result = run_cli("train", "--out", str(full), *options)
    assert result.returncode == 0, result.stdout + result.stderr
    checkpoints = sorted(
        (p for p in (full / "checkpoints").iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    assert checkpoints
    resumed = tmp_path / "resumed"
    result = run_cli(
        "train", "--resume", str(checkpoints[0]), "--out", str(resumed), *options
    )
    assert result.returncode == 0, result.stdout + result.stderr
    _, rows = read_csv(resumed / "metrics.csv")
    assert int(rows[0]["iteration"]) > 1
    assert (resumed / "policy.eqx").read_bytes() == (full / "policy.eqx").read_bytes()

    # a resumed run keeps its settings: a different one is refused, and so is
    # a budget the checkpoint has already reached
    for extra, expected in [
        (
            ["--set", "policy.activation=relu"],
            "policy.activation = 'relu' (the run has 'tanh')",
        ),
        (["--total-timesteps", "512"], "leaves nothing to train"),
    ]:
        result = run_cli("train", "--resume", str(full), *options, *extra)
        assert result.returncode == 2, result.stdout + result.stderr
        assert expected in result.stderr.replace("\n", "")
    # extending a finished run keeps its metrics history
    _, before = read_csv(full / "metrics.csv")
    more = ["--out", str(full), "--total-timesteps", "1536"]
    result = run_cli("train", "--resume", str(full), *options, *more)
    assert result.returncode == 0, result.stdout + result.stderr
    _, after = read_csv(full / "metrics.csv")
    assert [int(r["iteration"]) for r in after] == list(range(1, 13))
    assert after[: len(before)] == before
    assert (
        tomllib.loads((full / "config.toml").read_text())["result"]["timesteps"] == 1536
    )


# 2 envs x 16 steps: 32 steps per iteration, a checkpoint every 2
RESUMABLE = ["--set", "num_envs=2", "--set", "num_steps=16", "--set", "num_epochs=1"]
RESUMABLE += ["--set", "eval_episodes=1", "--set", 'lr_schedule="constant"']
RESUMABLE += ["--checkpoint-every", "64"]


@pytest.fixture(scope="module")
def resumable_run(tmp_path_factory):
    """A 128-step run with checkpoints every 64 steps (resumed into other
    folders, never into its own)."""
    full = tmp_path_factory.mktemp("resumable") / "full"
    assert (
        main(["train", "--out", str(full), "--total-timesteps", "128", *RESUMABLE]) == 0
    )
    return full


def test_resume_with_another_logger_trains_as_uninterrupted(
    resumable_run, tmp_path, capsys
):
    # the loggers' states are in the checkpoints: a run resumed with
    # another --logger than it was written with starts them afresh
    full, resumed = resumable_run, tmp_path / "resumed"
    budget = ["--total-timesteps", "128"]
    first = full / "checkpoints" / "checkpoint_000000000064.ckpt"
    resume = ["train", "--resume", str(first), "--out", str(resumed), *RESUMABLE]
    status = main([*resume, *budget, "--logger", "console"])
    assert status == 0, capsys.readouterr().out
    assert (resumed / "policy.eqx").read_bytes() == (full / "policy.eqx").read_bytes()
    # and back: a run checkpointed with a logger, resumed without one
    more = ["--total-timesteps", "192"]
    status = main(["train", "--resume", str(resumed), *RESUMABLE, *more])
    assert status == 0, capsys.readouterr().out


def test_extending_a_resumed_run_keeps_the_metrics_it_has(
    resumable_run, tmp_path, capsys
):
    # a run resumed into a new folder holds the metrics from its checkpoint
    # on; extending it keeps them
    full, resumed = resumable_run, tmp_path / "resumed"
    budget = ["--total-timesteps", "128"]
    first = full / "checkpoints" / "checkpoint_000000000064.ckpt"
    # the folder holds another run's metrics, which must not pass for the
    # history of the run resumed
    resumed.mkdir()
    (resumed / "metrics.csv").write_bytes((full / "metrics.csv").read_bytes())
    resume = ["train", "--resume", str(first), "--out", str(resumed), *RESUMABLE]
    assert main([*resume, *budget]) == 0
    _, before = read_csv(resumed / "metrics.csv")
    assert [int(r["iteration"]) for r in before] == [3, 4]
    more = ["--total-timesteps", "192"]
    assert main(["train", "--resume", str(resumed), *RESUMABLE, *more]) == 0
    _, after = read_csv(resumed / "metrics.csv")
    assert [int(r["iteration"]) for r in after] == [3, 4, 5, 6]
    assert after[:2] == before
    capsys.readouterr()


def test_a_resumed_run_goes_on_checkpointing_at_its_interval(
    resumable_run, tmp_path, capsys
):
    # config.toml records --checkpoint-every; a run resumed without it
    # checkpoints at the same interval (it used to stop checkpointing)
    full, resumed = resumable_run, tmp_path / "resumed"
    assert tomllib.loads((full / "config.toml").read_text())["checkpointing"] == {
        "every": 64
    }
    first = full / "checkpoints" / "checkpoint_000000000064.ckpt"
    options = RESUMABLE[: RESUMABLE.index("--checkpoint-every")]
    resume = ["train", "--resume", str(first), "--out", str(resumed), *options]
    assert main([*resume, "--total-timesteps", "192"]) == 0, capsys.readouterr().out
    written = sorted(p.name for p in (resumed / "checkpoints").glob("*.ckpt"))
    assert written == [
        "checkpoint_000000000128.ckpt",
        "checkpoint_000000000192.ckpt",
    ]
    recorded = tomllib.loads((resumed / "config.toml").read_text())
    assert recorded["checkpointing"] == {"every": 64}
    # the record is not a setting: the file still reads as a --config
    assert set(read_toml(resumed / "config.toml")) == {"run", "algorithm", "policy"}
    capsys.readouterr()


def test_record_writes_a_video_of_one_episode(run_dir):
    imageio = pytest.importorskip("imageio")
    out, _ = run_dir
    video = out / "video.mp4"
    result = run_cli("record", str(out), "--out", str(video))
    assert result.returncode == 0, result.stdout + result.stderr
    reader = imageio.get_reader(video, format="FFMPEG")
    try:
        frames = [frame for _, frame in zip(range(50), reader)]
        count = reader.count_frames()
    finally:
        reader.close()
    assert count > 5 and frames[0].ndim == 3 and frames[0].shape[-1] == 3
    assert max(f.std() for f in frames) > 0
    # without --fps: CartPole-v1's real-time rate (Gymnasium's 50)
    assert mp4_fps(video) == 50 and "at 50 fps" in result.stdout


def test_record_fps_sets_the_videos_rate(run_dir, tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg")
    out, _ = run_dir
    video = tmp_path / "slow.mp4"
    args = ["record", str(out), "--out", str(video), "--fps", "20"]
    status = main([*args, "--max-steps", "10"])
    assert status == 0, capsys.readouterr()
    assert "at 20 fps" in capsys.readouterr().out
    assert mp4_fps(video) == 20


def test_record_fps_defaults_to_none_the_envs_rate():
    args = parser().parse_args(["record", "DIR", "--out", "v.mp4"])
    assert args.fps is None
    assert parser().parse_args(["record", "DIR", "--out", "v", "--fps", "24"]).fps == 24


def test_record_without_render_is_a_clean_error(run_dir, tmp_path):
    out, _ = run_dir
    # hide pygame: the render extra counts as missing
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "pygame.py").write_text("raise ImportError('no pygame here')\n")
    result = run_cli(
        "record", str(out), "--out", str(out / "v.mp4"), pythonpath=str(blocker)
    )
    assert result.returncode == 1
    assert "lerax[render]" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_parsing_and_precedence_in_process(tmp_path):
    args = parser().parse_args(
        [
            "train",
            "SAC",
            "Pendulum-v1",
            "--set",
            "gamma=0.9",
            "--set",
            "tau=0.01",
            "--num-seeds",
            "3",
            "--logger",
            "tensorboard",
        ]
    )
    assert (args.command, args.algorithm, args.env_id) == (
        "train",
        "SAC",
        "Pendulum-v1",
    )
    assert args.set == ["gamma=0.9", "tau=0.01"]
    assert args.num_seeds == 3 and args.logger == "tensorboard"
    # evaluate: None, the run's own eval_episodes (and key) by default
    assert parser().parse_args(["evaluate", "d"]).episodes is None

    # embedded defaults < --config file < --set < flags
    file = tmp_path / "c.toml"
    file.write_text(
        '[run]\nalgorithm = "ppo"\nseed = 5\ntotal_timesteps = 4096\n'
        '[algorithm]\nnum_envs = 4\ngamma = 0.9\n[policy]\nactivation = "relu"\n'
    )
    config = build_config(
        file=file,
        assignments=["gamma=0.95", "max_grad_norm=none"],
        overrides={"seed": 7, "num_seeds": None},
    )
    assert config["run"]["algorithm"] == "PPO"
    assert config["run"]["seed"] == 7  # flag over file
    assert config["run"]["total_timesteps"] == 4096  # file over default
    assert config["algorithm"]["num_envs"] == 4  # file over embedded 8
    assert config["algorithm"]["num_steps"] == 32  # embedded default
    assert config["algorithm"]["gamma"] == 0.95  # --set over file
    assert config["algorithm"]["max_grad_norm"] is None
    assert config["policy"]["activation"] == "relu"
    assert config["algorithm"]["clip_coefficient"] == 0.2  # library default
    with pytest.raises(CLIError, match="Did you mean 'gamma'"):
        build_config(assignments=["gama=0.9"])
    sac = build_config(algorithm="SAC", assignments=["depth=3", "q_depth=1"])
    assert sac["policy"]["depth"] == 3 and sac["algorithm"]["q_depth"] == 1
    assert sac["run"]["env"] == "Pendulum-v1"

    # counts written as the RL Zoo writes them (`n_timesteps: !!float 1e6`)
    # are whole numbers; 8.5 envs is not
    zoo = tmp_path / "zoo.toml"
    zoo.write_text("[run]\ntotal_timesteps = 1e6\n[algorithm]\nbuffer_size = 5e4\n")
    config = build_config(algorithm="SAC", file=zoo, assignments=["seed=1e3"])
    assert config["run"]["total_timesteps"] == 1_000_000
    assert config["algorithm"]["buffer_size"] == 50_000
    assert config["run"]["seed"] == 1000 and type(config["run"]["seed"]) is int
    with pytest.raises(CLIError, match="expected int, got 8.5"):
        build_config(assignments=["num_envs=8.5"])
    # booleans and None as Python writes them
    python = build_config(assignments=["normalize_observation=True", "target_kl=None"])
    assert python["run"]["normalize_observation"] is True
    assert python["algorithm"]["target_kl"] is None
    with pytest.raises(CLIError, match="expected bool, got 'yes'"):
        build_config(assignments=["normalize_reward=yes"])
    args = parser().parse_args(["train", "--total-timesteps", "1e5"])
    assert args.total_timesteps == 100_000
    args = parser().parse_args(["train", "--checkpoint-every", "2_048"])
    assert args.checkpoint_every == 2048
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "--total-timesteps", "1500.5"])

    # a config of another algorithm (or policy class) than the one chosen
    # says so, rather than suggesting a look-alike name of the chosen one
    sac = tmp_path / "sac.toml"
    sac.write_text('[run]\nalgorithm = "SAC"\n[algorithm]\npolicy_lr = 1e-3\n')
    with pytest.raises(CLIError, match="configures SAC, and TD3 was chosen") as error:
        build_config(algorithm="TD3", file=sac)
    assert "policy_noise" not in str(error.value)
    ppo = tmp_path / "ppo.toml"
    ppo.write_text('[run]\nalgorithm = "PPO"\n[policy]\naction_width = 32\n')
    with pytest.raises(CLIError, match="are MLPActorCriticPolicy's, and Recurrent"):
        build_config(file=ppo, assignments=["policy.class=RecurrentActorCriticPolicy"])


@pytest.mark.slow(44)
def test_normalised_run_saves_its_statistics_and_evaluates_behind_them(tmp_path):
    out = tmp_path / "normalised"
    result = run_cli(
        "train",
        "PPO",
        "Pendulum-v1",
        "--out",
        str(out),
        "--set",
        "normalize_observation=true",
        "--set",
        "normalize_reward=true",
        *TINY,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policy.normalization.eqx" in result.stdout
    trained = tomllib.loads((out / "config.toml").read_text())
    assert trained["run"]["normalize_observation"] is True
    # `lerax evaluate` with the training evaluation's key reproduces its
    # return: the saved statistics are the ones training evaluated with
    # (fresh statistics would give a different Pendulum return)
    result = run_cli("evaluate", str(out), "--episodes", "4", "--seed", "10000")
    assert result.returncode == 0, result.stdout + result.stderr
    evaluated = float(re.search(r"return (-?[\d.]+) ±", result.stdout).group(1))
    expected = trained["result"]["mean_return"]
    assert evaluated == pytest.approx(expected, abs=0.5)

    # in process: the file holds the pooled training statistics
    setup = build(build_config(file=out / "config.toml"))
    env = setup.load_eval_env(out / "policy.eqx")
    assert env.is_frozen and env.initial_statistics.count > 1000
    returns, _ = evaluate_policy(
        env,
        setup.load_policy(out / "policy.eqx"),
        key=jr.key(10_000),
        num_episodes=4,
    )
    assert float(jnp.mean(returns)) == pytest.approx(expected, abs=0.5)
    with pytest.warns(UserWarning, match="not frozen"):
        unfrozen, _ = evaluate_policy(
            setup.eval_env,
            setup.load_policy(out / "policy.eqx"),
            key=jr.key(10_000),
            num_episodes=4,
        )
    assert abs(float(jnp.mean(unfrozen)) - expected) > 1.0

    # `lerax export` bakes the saved statistics into the model: it takes raw
    # observations and acts as the policy behind the frozen normaliser
    if importlib.util.find_spec("onnxruntime") is not None:
        from lerax.export import onnx_policy_fn
        from lerax.wrapper import NormalizeObservation

        assert main(["export", str(out)]) == 0
        normalizer = env
        while not isinstance(normalizer, NormalizeObservation):
            normalizer = normalizer.env
        raw = jr.uniform(jr.key(3), (16, 3), minval=-8.0, maxval=8.0)
        got = onnx_policy_fn(out / "policy.onnx")(np.asarray(raw))
        policy = setup.load_policy(out / "policy.eqx")
        stats = normalizer.initial_statistics
        for i in range(16):
            _, action = policy(None, normalizer.normalize(raw[i], stats))
            np.testing.assert_allclose(got["action"][i], action, rtol=1e-5, atol=1e-5)

    # a missing or damaged statistics file is a clean error
    (out / "policy.normalization.eqx").write_bytes(b"\x00" * 8)
    result = run_cli("evaluate", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Cannot load the normalisation statistics" in result.stderr
    (out / "policy.normalization.eqx").unlink()
    result = run_cli("evaluate", str(out))
    assert result.returncode == 1
    assert "policy.normalization.eqx' is missing" in result.stderr


@pytest.mark.slow(32)
def test_devices_splits_the_envs_and_trains_the_same_policy(run_dir, tmp_path):
    reference, _ = run_dir  # the same run on one device
    out = tmp_path / "two-devices"
    base = ["train", "PPO", "CartPole-v1", "--seed", "3", *TINY]
    args = [*base, "--out", str(out)]
    result = run_cli(*args, "--devices", "2", devices=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("100% 1,024/1,024 steps") == 1  # reported once
    assert (out / "policy.eqx").read_bytes() == (reference / "policy.eqx").read_bytes()
    returns = [
        tomllib.loads((folder / "config.toml").read_text())["result"]["mean_return"]
        for folder in (out, reference)
    ]
    assert returns[0] == returns[1]

    # three seeds (not a multiple of 2): each seed's envs are split, under the
    # vmap; seed 3 trains as in the one-device run, up to float rounding
    many = tmp_path / "three-seeds"
    options = ["--num-seeds", "3", "--devices", "2"]
    result = run_cli(*base, "--out", str(many), *options, devices=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "On 2 cpu device(s): the envs are split." in result.stdout
    assert result.stdout.count("100% 1,024/1,024 steps") == 1
    names, ours = read_csv(many / "metrics.csv")
    _, theirs = read_csv(reference / "metrics.csv")
    ours = [row for row in ours if row["seed"] == "3"]
    assert len(ours) == len(theirs) == 8
    assert_same_metrics(names, ours, theirs)

    # bad input: exit status 2 before anything compiles
    result = run_cli(*args, "--devices", "3", devices=2)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "--devices 3: there are 2 cpu device(s), a number fixed by XLA_FLAGS "
        "(--xla_force_host_platform_device_count); use 1 to 2." in result.stderr
    )
    result = run_cli(*args, "--devices", "2", "--set", "num_envs=3", devices=2)
    assert result.returncode == 2
    assert "3 envs cannot be split evenly over the 2 devices" in result.stderr
    many = [*args, "--devices", "2", "--set", "num_envs=3", "--num-seeds", "3"]
    result = run_cli(*many, devices=2)
    assert result.returncode == 2
    assert "Or spread the seeds: --num-seeds a multiple of 2." in result.stderr


def test_list_names_the_policies_and_the_algorithms_that_train_them(capsys):
    from lerax.cli._config import ALGORITHMS, POLICIES
    from lerax.cli._train import _check_trainable

    assert main(["list"]) == 0
    text = capsys.readouterr().out
    section = text.split("Policies")[1].split("Environments")[0]
    assert "--set policy.class=NAME" in section
    listed = {}
    for line in section.splitlines()[1:]:
        name, _, algorithms = line.strip().partition(" ")
        listed[name] = [a.strip() for a in algorithms.split(",")]
    assert sorted(listed) == sorted(POLICIES)
    # what is listed is what `lerax train --set policy.class=NAME` accepts
    for name, algorithms in listed.items():
        for algorithm in ALGORITHMS:
            config = build_config(
                algorithm=algorithm, assignments=[f"policy.class={name}"]
            )
            try:
                _check_trainable(build(config), config["run"])
                trains = True
            except CLIError:
                trains = False
            assert trains == (algorithm in algorithms), (name, algorithm)


def test_evaluate_never_prints_a_negative_zero(monkeypatch, tmp_path, capsys):
    import lerax.algorithm
    from lerax.cli import _commands

    config = {"run": {"algorithm": "PPO", "env": "CartPole-v1", "seed": 0}}
    monkeypatch.setattr(_commands, "load_run", lambda d: (config, None, None, None))
    monkeypatch.setattr(
        lerax.algorithm,
        "evaluate_policy",
        lambda *a, **k: (np.array([-0.01, -0.03, 0.0]), np.array([1, 1, 1])),
    )
    assert main(["evaluate", str(tmp_path), "--episodes", "3"]) == 0
    out = capsys.readouterr().out
    assert "return 0.0 ± 0.0 (min 0.0, max 0.0)" in out
    assert "-0.0" not in out


def test_train_output_shows_paths_as_written_and_no_negative_zero(
    monkeypatch, tmp_path, capsys
):
    """A folder name with square brackets (Rich markup) is printed as it is,
    a return that rounds to zero reads 0.0, and the console logger shows
    PPO's linear learning-rate schedule as one."""
    from lerax.cli import _train

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(
        _train, "_evaluate", lambda setup, state, run, n: np.full((n, 1), -0.01)
    )
    out = tmp_path / "[red]exp[/] 1"
    one = ["--set", "eval_episodes=1"]
    assert main(["train", "--out", str(out), "--logger", "console", *TINY, *one]) == 0
    text = capsys.readouterr().out
    assert f"-> {out}" in text
    assert f"Run {out.name}" in text  # the logger's run name
    assert f"Wrote {out / 'policy.eqx'}" in text
    assert "Evaluation: return 0.0 ± 0.0 (1 deterministic episode)" in text
    assert "-0.0" not in text
    (row,) = [line for line in text.splitlines() if "algorithm.learning_rate" in line]
    assert "schedule (polynomial_schedule), 0.001 at update 0" in row
    # the hyper-parameters name the policy's settings and the run's budget
    rows = {
        line.split("│")[1].strip(): line
        for line in text.splitlines()[1:]
        if line.count("│") == 3
    }
    assert "tanh" in rows["policy.activation"]
    assert "64" in rows["policy.feature_width"]
    assert "1024" in rows["total_timesteps"]
    assert "linear" in rows["lr_schedule"]


def test_train_help_says_where_each_logger_writes():
    (train,) = [
        action.choices["train"]
        for action in parser()._actions
        if getattr(action, "choices", None) and "train" in action.choices
    ]
    text = " ".join(train.format_help().split())
    assert "TensorBoard (event files in DIR/tb)" in text
    assert "local files in DIR/wandb" in text


def test_runs_started_in_the_same_second_get_their_own_default_folders(
    monkeypatch, tmp_path, capsys
):
    # a second run (e.g. the next seed of a shell loop) wrote into the
    # first one's folder: the default name is stamped to the second
    import datetime

    from lerax.cli import _train

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 1, 1, 12, 0, 0)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_train, "datetime", Frozen)
    earlier = Path("runs") / "ppo-CartPole-v1-20260101-120000"
    earlier.mkdir(parents=True)
    (earlier / "policy.eqx").write_text("an earlier run's policy")
    assert main(["train", *TINY]) == 0
    text = capsys.readouterr().out
    assert "-> runs/ppo-CartPole-v1-20260101-120000_2" in text
    assert (earlier / "policy.eqx").read_text() == "an earlier run's policy"
    assert (Path("runs") / "ppo-CartPole-v1-20260101-120000_2" / "policy.eqx").is_file()
