"""Every field of summary.json, checkpoint.pt, metrics.csv (a cell of its first row) and
snapshots.json (its list, a field of its first row and of that row's first layer), replaced by a value of every JSON type, by
out-of-range and boundary values, or deleted: ``runs``, ``visualize`` and ``compare`` keep their
promises (``gnnviz.runs.schema`` is the one table of what the fields may hold).

- ``runs`` lists every run, the good one with its status, the changed one as it is or damaged;
- ``visualize`` and ``compare`` exit 0 or with one documented error line, never a catch-all;
- a value the schema refuses is never drawn: the command fails naming the file and the field, and
  nothing is written into the run;
- nothing is left half-written.

The cases are generated from the schema tables. ``make test`` runs a seeded sample;
``GNNVIZ_FULL_SWEEP=1`` (CI) runs every case.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil

import pytest
import torch

from gnnviz.env import flag
from gnnviz.errors import ExitCode, RunError
from gnnviz.runs.schema import (
    CHECKPOINT,
    CHECKPOINT_REQUIRED,
    COMPARE,
    METRICS_ROW,
    SNAPSHOT_LAYER,
    SNAPSHOT_ROW,
    SNAPSHOTS,
    SNAPSHOTS_REQUIRED,
    SUMMARY,
    SUMMARY_REQUIRED,
    Field,
    _problem,
    check_metrics,
)
from gnnviz.runs.store import _cell
from tests.support.cli import run_cli
from tests.support.runs import entries, temp_files

DELETE = object()  # the field removed from the file
NAMED_AS = {"format": "foreign checkpoint"}  # fields whose refusal has a message of its own


def values_for(field: Field) -> list:
    """Every JSON type, the field's bounds and one step beyond them, huge and empty values."""
    out: list = [None, True, False, 0, -1, 1, 2**31, 2**63, 1.5, float("nan"), float("inf"), "", "x", [], [1], {}, {"a": 1}]
    for bound in (field.lo, field.hi):
        if bound is not None and abs(bound) < 2**62:
            b = int(bound)
            out += [b - 1, b, b + 1]
    out += list(field.choices[:1]) + ["no-such-choice"] * bool(field.choices)
    if field.kind == "list":
        out += [[None], [{"seed": "x"}], [{"status": "done"}], ["a"]]
    if field.kind == "dict" and field.items:
        out += [{k: 5 for k in field.items}, {k: [] for k in field.items}]
    out.append(DELETE)
    return out


# file (where in it) -> (its table, the fields it must have)
TABLES = {
    "summary.json": (SUMMARY, SUMMARY_REQUIRED),
    "checkpoint.pt": (CHECKPOINT, CHECKPOINT_REQUIRED),
    "metrics.csv": (METRICS_ROW, tuple(METRICS_ROW)),
    "snapshots.json": (SNAPSHOTS, SNAPSHOTS_REQUIRED),
    "snapshots.json[0]": (SNAPSHOT_ROW, ("epoch", "layers")),
    "snapshots.json[0].layers[0]": (SNAPSHOT_LAYER, tuple(SNAPSHOT_LAYER)),
}


def cases() -> list[tuple[str, str, object]]:
    made = []
    for file, (table, _) in TABLES.items():
        for name, field in table.items():
            made += [(file, name, v) for v in values_for(field)]
    return made


ALL = cases()
CHOSEN = ALL if flag("GNNVIZ_FULL_SWEEP") else random.Random(0).sample(ALL, 48)


def _csv_text(value) -> str:
    """A JSON value as a CSV cell: null empty, containers as JSON, the rest as Python writes them."""
    return "" if value is None else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _refused(run, file: str, name: str, value) -> bool:
    """Whether the schema must refuse this file after the change (``run``: the changed copy)."""
    table, required = TABLES[file]
    if value is DELETE:
        return name in required
    if file == "metrics.csv":  # a cell is read as a number where it is one; the epochs must rise
        try:
            check_metrics(
                run / file, [{k: _cell(v) for k, v in r.items()} for r in csv.DictReader(io.StringIO((run / file).read_text()))]
            )
        except RunError:
            return True
        return False
    return _problem(value, table[name]) is not None


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from gnnviz.config import load_config
    from gnnviz.experiment import train

    out = tmp_path_factory.mktemp("sweep")
    cfg = load_config(
        None, ["dataset.name=karate", "training.epochs=3", "training.patience=0", "model.hidden=8", "training.snapshots=1"]
    )
    return train(cfg, out=out, name="good", quiet=True)


def _change(run, file: str, name: str, value) -> None:
    if file == "metrics.csv":
        rows = list(csv.DictReader(io.StringIO((run / file).read_text())))
        for r in rows[:1]:
            if value is DELETE:
                del r[name]
            else:
                r[name] = _csv_text(value)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (run / file).write_text(out.getvalue())
        return
    if file.startswith("snapshots.json"):
        whole = json.loads((run / "snapshots.json").read_text())
        data = whole
        if file != "snapshots.json":
            data = whole["snapshots"][0]
            if file.endswith("layers[0]"):
                data = data["layers"][0]
        if value is DELETE:
            data.pop(name, None)
        else:
            data[name] = value
        (run / "snapshots.json").write_text(json.dumps(whole))
        return
    path = run / file
    if file == "summary.json":
        data = json.loads(path.read_text())
    else:
        data = torch.load(path, weights_only=True)
    if value is DELETE:
        data.pop(name, None)
    else:
        data[name] = value
    if file == "summary.json":
        path.write_text(json.dumps(data))
    else:
        torch.save(data, path)


def _label(value) -> str:
    return "deleted" if value is DELETE else repr(value)[:30]


@pytest.mark.parametrize(("file", "name", "value"), CHOSEN, ids=[f"{f}:{n}={_label(v)}" for f, n, v in CHOSEN])
def test_a_changed_field_breaks_no_promise(capsys, tmp_path, base, file, name, value):
    folder = tmp_path / "runs"
    folder.mkdir()
    good = folder / "good"
    shutil.copytree(base, good)
    shutil.rmtree(good / "viz", ignore_errors=True)
    run = folder / "changed"
    shutil.copytree(good, run)
    _change(run, file, name, value)
    refused = _refused(run, file, name, value)
    file = file.partition("[")[0]  # the file a message names
    documented = {int(c) for c in ExitCode}

    code, out, err = run_cli(capsys, "runs", folder)
    assert code == 0 and "unexpected" not in err, err
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == {"good", "changed"}, out
    assert "completed" in rows["good"], out
    if refused and file == "summary.json":
        assert "damaged" in rows["changed"] and name in rows["changed"], rows["changed"]

    before = entries(run)
    for args in (("visualize", "--run", run, "--quiet"), ("compare", good, run, "--out", tmp_path / "cmp", "--quiet")):
        code, out, err = run_cli(capsys, *args)
        assert code in documented, (args[0], code, err)
        assert "unexpected" not in err, (args[0], err)
        if code != 0:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (args[0], err)
        if refused:
            assert code != 0, f"{args[0]} drew a run whose {file} field '{name}' is {_label(value)}"
            assert file in err and (name in err or NAMED_AS.get(name, "\0") in err or value is DELETE), (args[0], err)
        if code != 0:
            assert entries(run) == before, f"{args[0]} wrote into the run it refused"
            assert not (tmp_path / "cmp").exists() or not any((tmp_path / "cmp").iterdir()), "compare left files"
        assert temp_files(folder) == [] and temp_files(tmp_path) == []


def test_every_field_of_every_table_is_swept():
    """The sweep is generated from the tables: a new field is swept without a new test line."""
    swept = {(f, n) for f, n, _ in ALL}
    assert swept == {(f, n) for f, (table, _) in TABLES.items() for n in table}
    assert len(ALL) > 18 * sum(len(table) for table, _ in TABLES.values())


COMPARE_CASES = values_for(COMPARE["files"]) + [["../outside.txt"], ["index.html", 3]]
COMPARE_CHOSEN = COMPARE_CASES if flag("GNNVIZ_FULL_SWEEP") else random.Random(0).sample(COMPARE_CASES, 5)


@pytest.mark.parametrize("value", COMPARE_CHOSEN, ids=[_label(v) for v in COMPARE_CHOSEN])
def test_an_earlier_compare_json_is_checked_before_its_file_list_is_trusted(capsys, tmp_path, base, value):
    """compare --out onto an earlier compare removes the files its compare.json lists: a list that is
    not a list of paths is refused (exit 2, naming the file and the field) and nothing there changes."""
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (tmp_path / "outside.txt").write_text("not compare's")
    marker = {} if value is DELETE else {"files": value}
    (out / "compare.json").write_text(json.dumps(marker))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "cmp" in p.parts}
    refused = (value is DELETE) or _problem(value, COMPARE["files"]) is not None
    other = tmp_path / "other"
    shutil.copytree(base, other)
    code, out_text, err = run_cli(capsys, "compare", base, other, "--out", out, "--quiet", "--top-k", "1")
    if refused:
        assert code == ExitCode.USAGE, err
        assert err.count("\n") == 1 and err.startswith(f"error: --out {out}: {out / 'compare.json'} "), err
        assert "field 'files" in err or "has no 'files'" in err, err
        assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "cmp" in p.parts} == before
    else:
        assert code == 0, err
        assert (tmp_path / "outside.txt").read_text() == "not compare's"  # never outside its folder
