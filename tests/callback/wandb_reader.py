"""Reads the history and config of an offline W&B run file (`run-*.wandb`).

The file is a LevelDB-style log (32 KiB blocks of chunks with a 7-byte
header: CRC, length, type) after a 7-byte W&B header; each record is a
`wandb_internal_pb2.Record` protobuf.
"""

import json
import struct
from pathlib import Path

_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _records(data: bytes):
    pos, pending = 7, b""
    while pos + 7 <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < 7:
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk


def read_offline_run(path: Path) -> tuple[list[dict], dict]:
    """`(history rows, config)` of a `run-*.wandb` file."""
    from wandb.proto import wandb_internal_pb2 as pb

    history, config = [], {}
    for raw in _records(path.read_bytes()):
        record = pb.Record()
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append(
                {
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                }
            )
        elif kind == "config":
            for item in record.config.update:
                config[item.key or "/".join(item.nested_key)] = json.loads(
                    item.value_json
                )
    return history, config
