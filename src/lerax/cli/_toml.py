"""A small TOML writer for flat configuration tables (`tomllib` only reads)."""

import json
import math
from pathlib import Path
from typing import Any

from ..utils import atomic_write


def dumps(data: dict[str, dict[str, Any]], header: str = "") -> str:
    """TOML text of `{section: {key: value}}` with str, bool, int, float or
    None values (None is written as the string `"none"`)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for section, values in data.items():
        if lines:
            lines.append("")
        lines.append(f"[{_key(section)}]")
        for key, value in values.items():
            lines.append(f"{_key(key)} = {_value(value)}")
    return "\n".join(lines) + "\n"


def write(path: Path, data: dict[str, dict[str, Any]], header: str = "") -> None:
    """Writes `dumps(data, header)` to `path` atomically."""
    text = dumps(data, header).encode("utf-8")
    atomic_write(Path(path), lambda file: file.write(text))


def _key(key: str) -> str:
    bare = key and all(c.isalnum() or c in "-_" for c in key)
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"Cannot write {value!r} ({type(value).__name__}) to TOML.")
