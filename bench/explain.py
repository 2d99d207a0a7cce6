"""``gnnviz explain`` against the plain PyG loop it replaces, side by side in one run.

    .venv/bin/python bench/explain.py                                  # BA-Shapes GCN and Cora GCN, trained here
    .venv/bin/python bench/explain.py --graphs ba_shapes --methods gnnexplainer --rounds 3

The contender is what PyG's own BA-Shapes example does: one ``Explainer`` (``GNNExplainer``, or
``CaptumExplainer`` for the gradient methods) called per node on the whole graph. Both sides
explain the same nodes (``explain``'s default choice: one per class and split plus misclassified
ones), with the same model (the run's checkpoint, rebuilt), the same methods and GNNExplainer
epochs. gnnviz's time is the whole ``explain`` call (subgraphs, scores, fidelity, agreement,
figures and explain.json, into a new folder each round, so nothing is served from its key);
the loop's time is the explainer calls alone. Reported per graph: median seconds over
``--rounds`` alternating rounds, the ratio, and each method's ROC AUC against the ground-truth
motif edges on both sides, over each node's computation edges (the definition in explain.json),
pooled over the nodes; and how much of gnnviz's last call was scoring (explain.json's seconds,
summed over the methods: scores, fidelity, feature attribution). Also printed: the load average before and after (timings taken while
other work runs are noise). The libraries both sides use (and explain's figures) are imported
before the first round.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import alternate, load, median  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {"ba_shapes": "gcn_ba_shapes.yaml", "cora": "gcn_cora.yaml", "tree_cycles": "gcn_tree_cycles.yaml"}
CAPTUM = {"integrated_gradients": "IntegratedGradients", "saliency": "Saliency"}


def trained(graph: str, epochs: int | None, folder: Path) -> Path:
    from gnnviz.config import load_config
    from gnnviz.experiment import train

    overrides = [f"training.epochs={epochs}"] if epochs else []
    cfg = load_config(REPO / "configs" / CONFIGS[graph], overrides)
    return train(cfg, out=folder, name=graph, quiet=True)


def plain_loop(run: Path, nodes: list[int], methods: list[str], epochs: int) -> dict[str, list[np.ndarray]]:
    """PyG's example loop: one explainer call per node on the whole graph; edge masks per method."""
    import torch
    from torch_geometric.explain import CaptumExplainer, Explainer, GNNExplainer

    from gnnviz.explain.methods import MODEL_CONFIG
    from gnnviz.models.gnn import rebuild
    from gnnviz.runs.load import load_checkpoint
    from gnnviz.runs.store import read_graphs

    checkpoint = load_checkpoint(run)
    g = read_graphs(run).graphs[0]
    x = g.x.float() if g.x.layout == torch.strided else g.x.to_dense().float()
    masks: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    for m in methods:
        algorithm = GNNExplainer(epochs=epochs) if m == "gnnexplainer" else CaptumExplainer(CAPTUM[m])
        explainer = Explainer(
            rebuild(checkpoint),
            algorithm,
            explanation_type="model",
            edge_mask_type="object",
            node_mask_type=None,
            model_config=MODEL_CONFIG,
        )
        for node in nodes:
            torch.manual_seed(node)
            masks[m].append(explainer(x, g.edge_index, index=node).edge_mask.detach().abs().numpy())
    return masks


def pooled_auc(run: Path, nodes: list[int], masks: list[np.ndarray], layers: int) -> float | None:
    """ROC AUC of whole-graph edge masks over each node's computation edges, pooled (explain.json's auc_pooled)."""
    import torch
    from torch_geometric.utils import k_hop_subgraph

    from gnnviz.explain import scores as sc
    from gnnviz.runs.store import read_graphs

    g = read_graphs(run).graphs[0]
    if "truth_edge_mask" not in g:
        return None
    truth = g.truth_edge_mask.numpy().astype(bool)
    ei = g.edge_index
    s_all, t_all = [], []
    for node, mask in zip(nodes, masks, strict=True):
        inner = k_hop_subgraph(node, max(layers - 1, 0), ei, num_nodes=g.num_nodes)[0]
        comp = (torch.isin(ei[1], inner) & (ei[0] != ei[1])).numpy()
        s_all.append(mask[comp])
        t_all.append(truth[comp])
    return sc.auc(np.concatenate(s_all), np.concatenate(t_all))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graphs", default="ba_shapes,cora")
    ap.add_argument("--methods", default="gnnexplainer,integrated_gradients,saliency")
    ap.add_argument("--epochs", type=int, default=100, help="GNNExplainer epochs")
    ap.add_argument("--train-epochs", type=int, default=None, help="override the config's training.epochs")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    methods = args.methods.split(",")
    # Imported before any timing: a process pays for them once, and the first round would carry them.
    import captum.attr  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import networkx  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import torch
    import torch_geometric.explain  # noqa: F401

    from gnnviz.explain.nodes import default_nodes
    from gnnviz.explain.run import explain
    from gnnviz.viz.load import load_arrays

    torch.set_num_threads(1)  # both sides on one thread (explain runs on one whatever it is given)
    print(f"load average before: {load():.2f}, torch threads {torch.get_num_threads()}")
    work = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    for graph in args.graphs.split(","):
        run = trained(graph, args.train_epochs, work)
        a = load_arrays(run)
        nodes = default_nodes(np.asarray(a.y), a.logits.argmax(axis=1), a.split, 0, 1)
        counter = iter(range(10**6))
        found: dict[str, object] = {}

        def ours(run=run, nodes=nodes, found=found, counter=counter) -> None:
            out = explain(
                run, work / f"{run.name}-explain-{next(counter)}", nodes=nodes, methods=",".join(methods), epochs=args.epochs
            )
            found["doc"] = out / "explain.json"

        def theirs(run=run, nodes=nodes, found=found) -> None:
            found["masks"] = plain_loop(run, nodes, methods, args.epochs)

        times = alternate({"gnnviz explain": ours, "PyG loop": theirs}, rounds=args.rounds, warmup=0, min_rounds=1)
        import json

        doc = json.loads(Path(found["doc"]).read_text())
        g_s, p_s = median(times["gnnviz explain"]), median(times["PyG loop"])
        print(
            f"{graph}: {len(nodes)} nodes, {a.num_nodes} nodes in the graph, methods {', '.join(methods)}, "
            f"GNNExplainer {args.epochs} epochs, {len(times['PyG loop'])} rounds"
        )
        print(f"  gnnviz explain {g_s:.2f} s, PyG loop {p_s:.2f} s: {g_s / p_s:.2f}x")
        scoring = sum(doc["methods"][m]["seconds"] for m in methods)  # scores, fidelity, feature attribution
        print(
            f"  of gnnviz's last call ({times['gnnviz explain'][-1]:.2f} s): scoring {scoring:.2f} s "
            f"({scoring / p_s:.2f}x the loop's median), the rest (mostly figures) {times['gnnviz explain'][-1] - scoring:.2f} s"
        )
        for m in methods:
            theirs_auc = pooled_auc(run, nodes, found["masks"][m], doc["layers"])
            ours_auc = doc["methods"][m]["auc_pooled"]
            if theirs_auc is not None:
                print(f"  {m}: pooled AUC gnnviz {ours_auc:.3f}, PyG loop {theirs_auc:.3f}")
    print(f"load average after: {load():.2f}")


if __name__ == "__main__":
    main()
