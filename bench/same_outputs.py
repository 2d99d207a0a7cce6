"""Does a code change leave gnnviz's outputs byte-identical? Trains and visualizes the same runs
with two source trees and compares what they wrote.

    python bench/same_outputs.py --before REV [--after REV] [--configs gat_karate gat_cora]

``--before``/``--after`` are git revisions (``--after`` defaults to the working tree). Each tree
runs ``python -m gnnviz train`` and ``visualize`` in a child process with its own ``PYTHONPATH``,
data root and cache folder (so nothing one tree computed is reused by the other). Compared:

- ``metrics.csv``: every column but ``seconds`` (a timing);
- ``checkpoint.pt``: every tensor of the weights bit for bit, and every other entry;
- ``config.yaml`` and ``graph.pt`` bytes; ``summary.json`` without its timings, times, pids, hosts and peak memory;
- every file ``visualize`` wrote, bytes, except ``viz/timings.json`` and, in JSON, JS and HTML
  files, the run's own path and the values of the same clock/process/host fields.

Exit 0 when everything agrees, 1 with one line per difference otherwise. The restructure of
issue 16 was checked with it (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("GNNVIZ_DATA_MIRROR", REPO.parent / "shared" / "datasets"))
# summary.json fields that differ between any two runs of the same code: clocks, processes, hosts,
# and the process's peak memory (a measurement: importing other modules moves it by a fraction of a MB)
VOLATILE = re.compile(r"(second|time|started|finished|pid|host|elapsed|memory)", re.I)
TIMINGS = {"viz/timings.json"}  # how long each step of visualize took: nothing else


def source_tree(rev: str | None, scratch: Path) -> Path:
    """The repository at ``rev`` unpacked under ``scratch`` (``None``: the working tree itself)."""
    if rev is None:
        return REPO
    out = scratch / f"src-{rev.replace('/', '_')}"
    out.mkdir()
    blob = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(out, filter="data")
    return out


def run_tree(tree: Path, work: Path, configs: list[str]) -> dict[str, Path]:
    """Train and visualize each config with the code in ``tree``; the run directory of each."""
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg", GNNVIZ_DATA_MIRROR=str(MIRROR))
    env["GNNVIZ_DATA_ROOT"] = str(work / "data")
    env["GNNVIZ_CACHE_DIR"] = str(work / "cache")
    runs = {}
    for name in configs:
        cmd = [sys.executable, "-m", "gnnviz", "train", "--config", str(tree / "configs" / f"{name}.yaml")]
        cmd += ["--out", str(work / "outputs"), "--name", name, "--quiet"]
        done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"train {name} with {tree} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        run = Path(done.stdout.strip().splitlines()[-1])
        done = subprocess.run([sys.executable, "-m", "gnnviz", "visualize", "--run", str(run), "--quiet"], env=env, cwd=tree,
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            sys.exit(f"visualize {name} with {tree} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        runs[name] = run
    return runs


def _strip(obj):
    """``obj`` without the fields that hold clocks, processes or hosts."""
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not VOLATILE.search(k)}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _metrics(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _checkpoint_differences(a: Path, b: Path) -> list[str]:
    import torch

    x, y = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    out = []
    for key in sorted(set(x) | set(y)):
        u, v = x.get(key), y.get(key)
        if isinstance(u, dict) and u and all(isinstance(t, torch.Tensor) for t in u.values()):
            same = isinstance(v, dict) and u.keys() == v.keys() and all(torch.equal(u[k], v[k]) for k in u)
        else:
            same = _strip(u) == _strip(v) if isinstance(u, dict) else u == v
        if not same:
            out.append(f"checkpoint.pt[{key!r}]")
    return out


def _text_without_timings(path: Path, run: Path) -> str:
    """The file's text with the run's own path and the values of clock, process and host fields
    (as JSON keys or as an HTML table's rows) blanked."""
    text = path.read_text(errors="replace").replace(str(run), "<run>")
    if path.suffix == ".json":
        return json.dumps(_strip(json.loads(text)), sort_keys=True)
    text = re.sub(
        r'("(\w+)"\s*:\s*)("[^"]*"|[-+\w.]+)', lambda m: m.group(1) + ("<v>" if VOLATILE.search(m.group(2)) else m.group(3)), text
    )
    text = re.sub(
        r"(<th>(\w+)</th><td>)([^<]*)", lambda m: m.group(1) + ("<v>" if VOLATILE.search(m.group(2)) else m.group(3)), text
    )
    return re.sub(r"<p>Drawn in: [^<]*</p>", "<p>Drawn in: <v></p>", text)  # the page's line of timings.json


def differences(a: Path, b: Path) -> list[str]:
    """What differs between run directories ``a`` and ``b`` (and everything visualize wrote in them)."""
    files_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    out = [f"only in before: {f}" for f in sorted(files_a - files_b)]
    out += [f"only in after: {f}" for f in sorted(files_b - files_a)]
    for f in sorted(files_a & files_b):
        pa, pb = a / f, b / f
        if f in TIMINGS:
            continue
        if f == "metrics.csv":
            same = _metrics(pa) == _metrics(pb)
        elif f == "checkpoint.pt":
            out += _checkpoint_differences(pa, pb)
            continue
        elif pa.read_bytes() == pb.read_bytes():
            continue
        elif pa.suffix in (".json", ".html", ".js"):
            same = _text_without_timings(pa, a) == _text_without_timings(pb, b)
        else:
            same = False
        if not same:
            out.append(f)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="git revision of the reference code")
    ap.add_argument("--after", default=None, help="git revision to compare (default: the working tree)")
    ap.add_argument("--configs", nargs="+", default=["gat_karate", "gat_cora"], help="configs/<name>.yaml to run")
    ap.add_argument("--keep", type=Path, default=None, help="an empty folder to keep both trees' runs in, to look at")
    args = ap.parse_args()
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        sys.exit(f"--keep {args.keep} is not empty; name a new or empty folder")
    with tempfile.TemporaryDirectory(prefix="gnnviz-same-") as tmp:
        scratch = Path(tmp) if args.keep is None else args.keep
        scratch.mkdir(parents=True, exist_ok=True)
        trees = {"before": source_tree(args.before, scratch), "after": source_tree(args.after, scratch)}
        runs = {side: run_tree(tree, scratch / side, args.configs) for side, tree in trees.items()}
        bad = 0
        for name in args.configs:
            diff = differences(runs["before"][name], runs["after"][name])
            compared = sum(1 for p in runs["before"][name].rglob("*") if p.is_file())
            print(f"{name}: {compared} files compared, {len(diff)} differ")
            for d in diff:
                print(f"  differs: {d}")
            bad += len(diff)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
