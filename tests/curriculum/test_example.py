"""Smoke test of `examples/curriculum_pendulum.py` on a tiny budget."""

import importlib.util
import math
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "curriculum_pendulum.py"


@pytest.mark.slow(15)
def test_example_runs(capsys):
    spec = importlib.util.spec_from_file_location("curriculum_pendulum", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(total_timesteps=2 * 8 * 256, chunks=2)
    out = capsys.readouterr().out
    assert "mass 1.00" in out and "length 1.00" in out  # ramp of one iteration
    assert math.isfinite(result)
