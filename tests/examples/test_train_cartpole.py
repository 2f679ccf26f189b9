"""Smoke test: the training example runs end to end on a tiny budget."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow(11)
def test_train_cartpole_example(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_cartpole.py"), "4096"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Evaluated return" in result.stdout
    out = tmp_path / "out" / "train_cartpole"
    assert (out / "ppo_cartpole.eqx").is_file()
    assert len(list((out / "checkpoints").glob("*.ckpt"))) >= 1
    assert any(p.name.startswith("events") for p in (out / "tensorboard").rglob("*"))
