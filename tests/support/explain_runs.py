"""Runs for ``gnnviz explain`` tests: a tiny Barabasi-Albert graph with house motifs (PyG's
``ExplainerDataset``), its known explanation stored as ``truth_edge_mask``/``truth_node_mask``,
and a model trained on it for a few hundred full-batch steps (about a second on one core)."""

from __future__ import annotations

from pathlib import Path

import torch

from gnnviz.runs.layout import create_run_dir
from gnnviz.runs.store import MetricsWriter, save_checkpoint, save_config, save_graphs, save_summary


def house_graph(seed: int = 0, base: int = 24, motifs: int = 4):
    """A BA graph of ``base`` nodes with ``motifs`` houses; classes: 0 base, 1-3 house roles.
    Features: [1, degree / max degree] (constant features alone make training slow)."""
    from torch_geometric.datasets import ExplainerDataset
    from torch_geometric.datasets.graph_generator import BAGraph
    from torch_geometric.utils import degree

    torch.manual_seed(seed)
    from torch_geometric.data import Data

    e = ExplainerDataset(BAGraph(num_nodes=base, num_edges=1), "house", num_motifs=motifs)[0]
    n = e.num_nodes
    g = Data(edge_index=e.edge_index, y=e.y, num_nodes=n)
    deg = degree(g.edge_index[0], n)
    g.x = torch.stack([torch.ones(n), deg / deg.max()], dim=1)
    g.truth_edge_mask, g.truth_node_mask = e.edge_mask.bool(), e.node_mask.bool()
    split = torch.arange(n) % 3
    g.train_mask, g.val_mask, g.test_mask = split == 0, split == 1, split == 2
    return g


def trained_run(
    folder: Path,
    g,
    model: str = "gcn",
    steps: int = 300,
    layers: int = 3,
    hidden: int = 16,
    name: str = "x",
    seed: int = 0,
    sets: tuple[str, ...] = (),
) -> Path:
    """A run of ``model`` trained full-batch on all of ``g``'s nodes for ``steps`` Adam steps.

    ``sets``: more ``--set`` overrides (``"model.aggr=max"``). The model is built from the config
    the run stores, as ``gnnviz train`` builds it, so that its checkpoint records what the config
    resolves (SAGE's ``aggr``: mean when left null) and ``rebuild`` gives back the trained model."""
    from gnnviz.config import load_config
    from gnnviz.models.gnn import build_model, rebuild
    from gnnviz.runs.load import load_checkpoint

    sets = [f"model.name={model}", f"model.layers={layers}", f"model.hidden={hidden}", "model.dropout=0.0", *sets]
    if model.startswith("gat"):
        sets += ["model.heads=2", "model.out_heads=1", "model.attn_dropout=0.0"]
    cfg = load_config(None, sets)
    torch.manual_seed(seed)
    classes = int(g.y.max()) + 1
    m = build_model(cfg.model, g.x.size(1), classes)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    m.train()
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(g.x, g.edge_index), g.y).backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        logits = m(g.x, g.edge_index)
    acc = float((logits.argmax(1) == g.y).float().mean())
    run = create_run_dir(folder, name, "x")
    save_config(run, cfg.to_yaml())
    summary = {"dataset": "tiny", "model": model, "metric": "accuracy", "best_epoch": steps, "status": "completed"}
    save_summary(run, summary | {"train_accuracy": acc})
    save_graphs(run, [g], dataset="tiny", task="multiclass", split="all")
    save_checkpoint(run, m.kwargs, m.state_dict(), dataset="tiny", task="multiclass", epoch=steps)
    writer = MetricsWriter(run / "metrics.csv")
    writer.write({"epoch": steps, "train_loss": 0.1, "train_metric": acc, "val_loss": 0.1, "val_metric": acc, "seconds": 0.01})
    writer.close()
    # What explain and visualize will run: the checkpoint, checked against the config, rebuilt.
    with torch.no_grad():
        again = rebuild(load_checkpoint(run))(g.x, g.edge_index)
    assert torch.equal(again, logits), f"{run}: the rebuilt model is not the trained one"
    return run
