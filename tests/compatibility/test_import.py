"""`lerax.compatibility` imports its names lazily."""

import subprocess
import sys

import pytest

import lerax.compatibility


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        lerax.compatibility.no_such_name  # noqa: B018
    assert "LeraxToGymEnv" in dir(lerax.compatibility)


def test_package_import_does_not_import_gymnasium():
    code = (
        "import sys, lerax.compatibility; "
        "assert 'gymnasium' not in sys.modules and 'gymnax' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
