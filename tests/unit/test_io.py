"""gnnviz.io: files replaced atomically, one or several at a time."""

import errno
import os

import pytest

from gnnviz import io


def failing_fsync(monkeypatch, at: int):
    """``os.fsync`` in gnnviz.io raising ENOSPC on its ``at``-th call (a disk filling up)."""
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(io.os, "fsync", fsync)


@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_failure_while_writing_several_files_leaves_every_one_as_it_was(tmp_path, monkeypatch, at):
    paths = [tmp_path / name for name in ("a.png", "b.png", "index.json")]
    for p in paths[:2]:
        p.write_bytes(b"old " + p.name.encode())
    failing_fsync(monkeypatch, at)
    with pytest.raises(OSError) as caught:
        io.atomic_write_files([(p, b"new " + p.name.encode()) for p in paths])
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(paths[at - 1])
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]  # no temporary file, no new file
    assert [p.read_bytes() for p in paths[:2]] == [b"old a.png", b"old b.png"]


def test_several_files_written_together_are_all_new(tmp_path):
    paths = [tmp_path / name for name in ("a.png", "b.png")]
    paths[0].write_bytes(b"old")
    io.atomic_write_files([(p, p.name.encode()) for p in paths])
    assert [p.read_bytes() for p in paths] == [b"a.png", b"b.png"] and sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]
