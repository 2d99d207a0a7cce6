"""The explorer page's budgets: data size, time to write it, time until it is interactive.

    .venv/bin/python bench/explorer.py                 # karate, Cora (needs the mirror), 100k synthetic
    .venv/bin/python bench/explorer.py --only 100k --keep /tmp/pages

Budgets (issue 10): Cora interactive within 2 s of load in headless Chromium; a 100k-node page
within 10 s with data files under 30 MB. "Interactive" is the moment the page's code has decoded
every array, built the graph, drawn both views and wired hover/click (``gnnvizExplorer.readyMs``,
milliseconds since navigation start). Also timed: the first click on the highest-degree node
(neighbourhood table + re-render) and a head switch with it selected.

karate and Cora are trained here (15 and 60 epochs: the page does not depend on how good the model
is). The 100k graph is bench/synthetic.py's (7 classes, mean degree 8) with the layout visualize
computes, but its model outputs are random: 8-head softmax attention on layer 0 and 1 head on
layer 1 (GAT's shape), random class probabilities, a t-SNE of 5,000 sampled nodes' one-hot
features. Training GAT on 100k nodes takes minutes here and would not change what the page loads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gnnviz.viz.pages.explorer import explorer_files  # noqa: E402
from tests.support.explorer_inputs import CORA_CLASSES, explorer_inputs, train_run, write_files  # noqa: E402


def synthetic_inputs(n: int) -> dict:
    from synthetic import synthetic

    from gnnviz.analysis import attention as att
    from gnnviz.viz.coords.embeddings import tsne_many
    from gnnviz.viz.coords.layout import graph_layout

    g = synthetic(n).test[0]
    ei = g.edge_index.numpy().astype(np.int64)
    y = g.y.numpy()
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    lay = graph_layout(ei, n, seed=0)
    print(f"  layout {lay.method}: {time.perf_counter() - t:.1f} s{' (cached)' if lay.cached else ''}")
    loops = att.with_self_loops(ei, n)
    layers, entropy, entropy_mean = [], [], []
    for heads in (8, 1):
        scores = np.exp(rng.normal(scale=0.5, size=(loops.shape[1], heads)))
        sums = np.stack([np.bincount(loops[1], weights=scores[:, h], minlength=n) for h in range(heads)], 1)
        alpha = (scores / sums[loops[1]]).astype(np.float32)
        layers.append((loops, alpha))
        entropy.append(att.entropy(loops, alpha, n))
        entropy_mean.append(att.entropy(loops, alpha.mean(1), n) if heads > 1 else None)
    logits = rng.normal(size=(n, 7)) + 3 * np.eye(7)[y] * (rng.random((n, 1)) < 0.8)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    sample = np.sort(rng.choice(n, size=5000, replace=False))
    features = g.x.numpy()[sample]
    (proj,) = tsne_many([features], seed=0)
    split = np.full(n, "other", dtype=object)
    for name in ("test", "val", "train"):
        split[getattr(g, f"{name}_mask").numpy()] = name
    return dict(
        title=f"random-attention GAT shape on synthetic {n // 1000}k", num_nodes=n, edge_index=ei, coords=lay.coords, y=y,
        probabilities=probs, split=split.astype(str), degree=np.bincount(ei[1], minlength=n), attention=layers,
        entropy=entropy, entropy_mean=entropy_mean, tsne=[("input features (5000 sampled nodes)", proj.coords, sample[proj.index])],
        summary={"dataset": f"synthetic-{n // 1000}k", "note": "random model outputs, for the page's budgets"},
    )  # fmt: skip


def trained(root: Path, config: str, *sets: str, name: str) -> Path:
    """The run trained by an earlier call with the same --keep folder, else a new one."""
    run = root / "runs" / name
    return run if (run / "checkpoint.pt").is_file() else train_run(root / "runs", config, *sets, name=name)


def measure_page(html: Path, shots: Path, name: str) -> dict:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.browser.conftest import FLAGS, Page

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="gnnviz-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(html.resolve().as_uri())
        page = Page(driver)
        assert page.wait_ready(120) == "1", page.js("return document.getElementById('status').textContent")
        ready = page.js("return window.gnnvizExplorer.readyMs")
        driver.save_screenshot(str(shots / f"{name}.png"))
        hub = page.js(
            "const d = window.gnnvizExplorer.graph; let b = '0'; d.forEachNode(n => { if (d.degree(n) > d.degree(b)) b = n; }); return +b"
        )
        click = page.js(
            "const t = performance.now(); window.gnnvizExplorer.select(arguments[0], {moveCamera: true}); return performance.now() - t",
            hub,
        )
        time.sleep(0.6)
        driver.save_screenshot(str(shots / f"{name}-click.png"))
        # One pan/zoom frame: move the camera, draw everything once (median of 5).
        frame = page.js(
            "const r = window.gnnvizExplorer.renderer, c = r.getCamera(), out = [];"
            "for (const ratio of [1, 0.5, 0.25, 0.5, 1]) { const t = performance.now(); c.setState({ratio}); r.render(); out.push(performance.now() - t); }"
            "return out.sort((a, b) => a - b)[2]"
        )
        switch = None
        if page.js("return document.getElementById('head').options.length") > 1:
            t = time.perf_counter()
            page.select("head", "0")
            page.js("return 1")
            switch = (time.perf_counter() - t) * 1000
        errors = page.console_errors()
        assert not errors, errors
        return {
            "ready_ms": round(ready),
            "click_ms": round(click),
            "frame_ms": round(frame),
            "head_switch_ms": round(switch) if switch else None,
            "hub": hub,
        }
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="karate,cora,100k")
    parser.add_argument("--keep", type=Path, help="write the pages and screenshots here (default: a temp dir)")
    args = parser.parse_args()
    os.environ.setdefault("GNNVIZ_CACHE_DIR", str(Path(tempfile.gettempdir()) / "gnnviz-bench-cache"))
    sys.path.insert(0, str(REPO / "bench"))
    root = args.keep or Path(tempfile.mkdtemp(prefix="gnnviz-explorer-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.only.split(","):
        print(f"{name}:")
        if name == "karate":
            kw = explorer_inputs(trained(root, "gat_karate.yaml", "training.epochs=15", name="karate"))
        elif name == "cora":
            kw = explorer_inputs(trained(root, "gat_cora.yaml", "training.epochs=60", name="cora"), class_names=CORA_CLASSES)
        elif name == "100k":
            kw = synthetic_inputs(100_000)
        else:
            raise SystemExit(f"error: unknown page '{name}'; choose from karate, cora, 100k")
        t = time.perf_counter()
        files = explorer_files(**kw)
        write_s = time.perf_counter() - t
        html = write_files(files, root / name)
        data = sum(len(v) for k, v in files.items() if k.startswith("explorer/data"))
        total = sum(len(v) for v in files.values())
        r = {
            "nodes": kw["num_nodes"],
            "explorer_files_s": round(write_s, 2),
            "data_mb": round(data / 1e6, 2),
            "all_files_mb": round(total / 1e6, 2),
        }
        r.update(measure_page(html, root, name))
        r["load_avg_1m"] = os.getloadavg()[0]
        results[name] = r
        print("  " + json.dumps(r))
    print(f"pages and screenshots: {root}")


if __name__ == "__main__":
    main()
