"""Smoke test: `examples/export_onnx.py` runs and reports agreement."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax2onnx")
pytest.importorskip("onnxruntime")

EXAMPLE = Path(__file__).parents[2] / "examples" / "export_onnx.py"


@pytest.mark.slow(13)
def test_export_example_runs(tmp_path):
    # no training (the PPO run is the example's default): the export path only
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--timesteps", "0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "actions identical: 100.0%" in result.stdout
    assert (tmp_path / "cartpole_policy.onnx").is_file()
