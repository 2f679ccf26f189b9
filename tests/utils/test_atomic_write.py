"""`atomic_write` reports unusable paths against the requested path."""

import os

import pytest

from lerax.utils import atomic_write


def test_writes_and_creates_folders(tmp_path):
    path = atomic_write(tmp_path / "sub" / "a.bin", lambda file: file.write(b"x"))
    assert path.read_bytes() == b"x"
    assert os.listdir(tmp_path / "sub") == ["a.bin"]


def test_folder_path_is_refused_naming_it(tmp_path):
    (tmp_path / "out.bin").mkdir()
    calls = []
    with pytest.raises(IsADirectoryError) as info:
        atomic_write(tmp_path / "out.bin", calls.append)
    message = str(info.value)
    assert f"Cannot write {str(tmp_path / 'out.bin')!r}: it is a folder" in message
    assert "Give a file path instead" in message and ".tmp" not in message
    assert calls == []  # refused before anything is written
    assert os.listdir(tmp_path) == ["out.bin"]
    assert os.listdir(tmp_path / "out.bin") == []


@pytest.mark.parametrize("depth", [1, 2])
def test_file_above_the_path_is_refused_naming_it(tmp_path, depth):
    (tmp_path / "notes").write_text("a file")
    path = tmp_path / "notes" / "deeper" / "out.bin"
    if depth == 1:
        path = tmp_path / "notes" / "out.bin"
    with pytest.raises(NotADirectoryError) as info:
        atomic_write(path, lambda file: file.write(b"x"))
    message = str(info.value)
    assert str(path) in message
    assert f"{str(tmp_path / 'notes')!r} is a file, not a folder" in message
    assert "Choose another path" in message
    assert not isinstance(info.value, FileExistsError)
    assert os.listdir(tmp_path) == ["notes"]
    assert (tmp_path / "notes").read_text() == "a file"
