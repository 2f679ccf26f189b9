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


@pytest.mark.parametrize("error", [PermissionError, FileNotFoundError])
def test_a_folder_that_takes_no_files_is_named_not_the_temporary_file(
    tmp_path, monkeypatch, error
):
    # the error named a hidden `.out.bin.<hex>.tmp`; `/proc` gives
    # FileNotFoundError, a folder without write permission PermissionError
    import errno as errnos

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise error(errnos.EACCES, "refused", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(error) as info:
        atomic_write(tmp_path / "out.bin", lambda file: file.write(b"x"))
    message = str(info.value)
    assert f"Cannot write {str(tmp_path / 'out.bin')!r}" in message
    assert repr(str(tmp_path)) in message and ".tmp" not in message
    assert isinstance(info.value.__cause__, error)
    assert os.listdir(tmp_path) == []


def test_unwritable_folder_finds_the_nearest_existing_folder(tmp_path, monkeypatch):
    from lerax.utils._serialization import unwritable_folder

    assert unwritable_folder(tmp_path / "a" / "b") is None
    access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, **kw: False if str(p) == str(tmp_path) else access(p, mode),
    )
    assert unwritable_folder(tmp_path / "a" / "b") == tmp_path
    (tmp_path / "a").mkdir()
    assert unwritable_folder(tmp_path / "a" / "b") is None
