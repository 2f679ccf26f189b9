"""The interop examples run end to end (tiny budgets, separate processes)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow(11)
@pytest.mark.parametrize(
    "script, args, expected",
    [
        ("sb3_on_lerax.py", ["--timesteps", "512"], "SB3 PPO on lerax CartPole-v1"),
        ("gymnax_interop.py", ["--timesteps", "512"], "LeraxToGymnaxEnv(Pendulum)"),
    ],
)
def test_example_runs(script, args, expected):
    pytest.importorskip("gymnax")
    if script.startswith("sb3"):
        pytest.importorskip("stable_baselines3")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout, result.stdout
