"""Run names: numbered defaults that never collide, and names that cannot leave the output folder."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gnnviz.errors import ConfigError
from gnnviz.runs.layout import create_run_dir
from tests.support.runs import entries


def test_default_names_are_numbered_and_race_free(tmp_path):
    got: list[Path] = []
    barrier = threading.Barrier(8)

    def make() -> None:
        barrier.wait()
        got.append(create_run_dir(tmp_path, None, "karate-gat-20260101-000000"))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(p.name for p in got)
    assert len(set(names)) == 8
    assert names == sorted(["karate-gat-20260101-000000", *(f"karate-gat-20260101-000000-{i}" for i in range(2, 9))])


@pytest.mark.parametrize("name", ["../up", "/etc/abs", "a/b", "..", ".", ".hidden", "a\\b", "x" * 200, "a..b", "sp ace", "<b>"])
def test_names_cannot_escape_the_output_folder(tmp_path, name):
    with pytest.raises(ConfigError, match="is not allowed; use letters, digits"):
        create_run_dir(tmp_path / "out", name, "default")
    assert entries(tmp_path) in ([], ["out"]) and entries(tmp_path / "out") == []
