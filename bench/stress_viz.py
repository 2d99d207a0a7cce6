"""Stress: ``gnnviz visualize`` under CPU contention, interrupted at random moments, never hangs.

    make stress                                   # 200 runs of the karate GAT run (about 15 minutes)
    python bench/stress_viz.py --runs 20 --run outputs/<karate run>

Each iteration starts ``gnnviz visualize`` in a subprocess while a busy-loop process runs on every
core, waits a random time (uniform over 0 to 1.2x the length of an uninterrupted visualize of the
same cache state, so every stage gets hit), then sends SIGINT or SIGTERM, or nothing. It then checks:

- the process ends within ``--timeout`` seconds (else a hang: it is killed and counted);
- exit code 0 (finished first), 130 (SIGINT) or 143 (SIGTERM), as the README promises; a signal
  that lands while Python is still starting, before gnnviz installs its handlers, ends the process
  by the signal itself (-2/-15 here, 130/143 in a shell) and is tallied apart;
- at most one line on stderr and no traceback;
- no temporary file left in the output folder or the cache;
- every figure from the first, uninterrupted call is still there and byte-identical (each file is
  either the old one or a complete new one; drawing is deterministic), ``index.html`` complete.

About a third of the iterations start with an empty cache (a cold visualize: forward pass, layout,
t-SNE), the rest warm. Prints a JSON summary; exits 1 if any invariant broke.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GNNVIZ = [sys.executable, "-m", "gnnviz"]
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "none": None}
EXPECTED = {"SIGINT": 130, "SIGTERM": 143}


def busy_loops(count: int) -> list[subprocess.Popen]:
    """One pure-Python busy loop per requested core: the contention visualize must survive."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _visualize(run: Path, out: Path, cache: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    env = {**os.environ, "GNNVIZ_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    cmd = [*GNNVIZ, "visualize", "--run", str(run), "--out", str(out), "--quiet", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _timed_full_run(run: Path, out: Path, cache: Path, timeout: float, extra: tuple[str, ...]) -> float:
    start = time.perf_counter()
    proc = _visualize(run, out, cache, extra)
    _, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"the uninterrupted visualize failed ({proc.returncode}): {err.strip()}")
    return time.perf_counter() - start


def stress(
    run: Path,
    runs: int,
    *,
    timeout: float = 120.0,
    busy: int | None = None,
    seed: int = 0,
    cold_share: float = 0.33,
    extra: tuple[str, ...] = (),
) -> dict:
    """Run the loop described in the module docstring; returns the tally (``broken`` lists failures).

    extra: more ``gnnviz visualize`` options (e.g. ``--top-k 0`` for a shorter run).
    """
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="gnnviz-stress-"))
    out, warm_cache = work / "viz", work / "cache"
    loops = busy_loops((os.cpu_count() or 1) if busy is None else busy)
    tally: dict[str, int] = {}
    broken: list[str] = []
    hangs = early = 0
    loads: list[float] = []
    try:
        # Baselines under the same contention: a cold and a warm uninterrupted call.
        cold_seconds = _timed_full_run(run, work / "cold", work / "cold-cache", timeout, extra) if cold_share > 0 else 0.0
        _timed_full_run(run, out, warm_cache, timeout, extra)
        warm_seconds = _timed_full_run(run, out, warm_cache, timeout, extra)
        reference = {k: v for k, v in _files(out).items() if k not in ("timings.json", "index.html")}
        for i in range(runs):
            cold = rng.random() < cold_share
            cache = work / f"cache-cold-{i}" if cold else warm_cache
            name = rng.choice(list(SIGNALS))
            delay = rng.uniform(0, 1.2 * (cold_seconds if cold else warm_seconds))
            proc = _visualize(run, out, cache, extra)
            time.sleep(delay)
            sent = SIGNALS[name] is not None and proc.poll() is None
            if sent:
                proc.send_signal(SIGNALS[name])
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                hangs += 1
                proc.kill()
                _, err = proc.communicate()
                broken.append(f"run {i}: hang ({name} after {delay:.2f} s)")
                continue
            rc = proc.returncode
            loads.append(os.getloadavg()[0])
            key = f"{name if sent else 'none'} -> {rc}"
            tally[key] = tally.get(key, 0) + 1
            ok_codes = {0} if not sent else {0, EXPECTED[name], -SIGNALS[name]}
            where = f"run {i} ({'cold' if cold else 'warm'}, {name} after {delay:.2f} s, exit {rc})"
            if rc not in ok_codes:
                broken.append(f"{where}: unexpected exit code; stderr {err.strip()[-300:]!r}")
            if rc < 0:
                early += 1  # ended by the signal itself, before gnnviz's handlers existed
            elif "Traceback" in err:
                broken.append(f"{where}: traceback on stderr: {err.strip()[-400:]!r}")
            if len(err.strip().splitlines()) > 1 and rc >= 0:
                broken.append(f"{where}: {len(err.strip().splitlines())} lines on stderr")
            temps = [p for d in (out, cache) if d.exists() for p in d.rglob("*") if p.name.startswith(".")]
            if temps:
                broken.append(f"{where}: temporary files left: {[str(p) for p in temps[:3]]}")
            now = _files(out)
            for f, data in reference.items():
                if now.get(f) != data:
                    broken.append(f"{where}: {f} {'missing' if f not in now else 'changed'}")
            if not now.get("index.html", b"").endswith(b"</html>\n"):
                broken.append(f"{where}: index.html incomplete")
            if cold:
                _rmtree(cache)
            print(f"call {i + 1}/{runs}: {key}, hangs {hangs}, broken {len(broken)}", file=sys.stderr, flush=True)
    finally:
        for p in loops:
            p.kill()
            p.wait()
        _rmtree(work)
    return {
        "runs": runs,
        "hangs": hangs,
        "exit_codes": dict(sorted(tally.items())),
        "ended_by_signal_during_startup": early,
        "broken": broken,
        "busy_loops": len(loops),
        "uninterrupted_seconds": {"cold": round(cold_seconds, 2), "warm": round(warm_seconds, 2)},
        "load_average_1min": {"min": min(loads, default=0.0), "max": max(loads, default=0.0)},
        "timeout_seconds": timeout,
    }


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _karate_run(folder: Path) -> Path:
    env = {**os.environ, "GNNVIZ_OFFLINE": "1"}
    cmd = [*GNNVIZ, "train", "--config", "configs/gat_karate.yaml", "--out", str(folder), "--name", "stress", "--quiet"]
    subprocess.run(cmd, check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    return folder / "stress"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--run", type=Path, help="a karate GAT run directory [default: train one]")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds after which a run counts as hung")
    ap.add_argument("--busy", type=int, default=None, help="busy-loop processes [default: one per core]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cold-share", type=float, default=0.33, help="share of runs that start with an empty cache")
    ap.add_argument("viz_args", nargs="*", help="more visualize options, after --, e.g. -- --top-k 0")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or _karate_run(Path(tmp))
        result = stress(
            run,
            args.runs,
            timeout=args.timeout,
            busy=args.busy,
            seed=args.seed,
            cold_share=args.cold_share,
            extra=tuple(args.viz_args),
        )
    print(json.dumps(result, indent=2))
    sys.exit(1 if result["broken"] else 0)


if __name__ == "__main__":
    main()
