"""``Snapshots``: attention over training, summarised at every N-th epoch into ``snapshots.json``
(``training.snapshots``; ``fit`` calls it through ``on_snapshot``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from gnnviz.runs.store import save_json
from gnnviz.training.tasks import metric_counts, metric_value


class Snapshots:
    """Attention over training: at each snapshot, one eval-mode forward on the drawn graph and a
    compact summary (val and test metric; per attention layer and head the mean KL from uniform
    attention and the lift of attention against labels, see ``gnnviz.analysis.insight``), rewritten
    atomically into ``snapshots.json`` so an interrupted run keeps what it had.

    Snapshots may cost at most ``BUDGET`` of the training time: one that would push the time spent
    on snapshots past that share of the time since training began is skipped (and counted in the
    file), so a small N on a fast model thins itself out instead of slowing training down. The
    first snapshot (epoch 0) is always taken and its one-time warm-up is not counted.
    """

    BUDGET = 0.10

    def __init__(self, run: Path, graph, task: str, device: torch.device):
        self.path = run / "snapshots.json"
        self.x, self.edge_index = graph.x.to(device), graph.edge_index.to(device)
        self.y_t = graph.y.to(device)
        self.y = graph.y.cpu().numpy()
        self.masks = {s: getattr(graph, f"{s}_mask").to(device).bool() for s in ("val", "test")}
        self.task = task
        self.rows: list[dict[str, Any]] = []
        self.started = time.perf_counter()
        self.spent, self.cheapest = 0.0, float("inf")
        self.skipped = 0

    def __call__(self, epoch: int, model: torch.nn.Module) -> None:
        t0 = time.perf_counter()
        next_cost = self.cheapest if self.cheapest < float("inf") else 0.0
        if self.rows and self.spent + next_cost > self.BUDGET * (t0 - self.started):
            self.skipped += 1
            return
        self._take(epoch, model)
        cost = time.perf_counter() - t0
        if len(self.rows) > 1:  # the first snapshot pays one-time imports and warm-up: not a per-snapshot cost
            self.spent += cost
            self.cheapest = min(self.cheapest, cost)

    def _take(self, epoch: int, model: torch.nn.Module) -> None:
        import numpy as np

        from gnnviz.analysis import attention as att
        from gnnviz.analysis import insight as ins

        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                logits, details = model(self.x, self.edge_index, return_details=True)
        finally:
            model.train(was_training)
        n = logits.shape[0]
        row: dict[str, Any] = {"epoch": epoch}
        for split, mask in self.masks.items():
            counts = metric_counts(self.task, logits[mask], self.y_t[mask])
            row[f"{split}_metric"] = metric_value(self.task, counts) if bool(mask.any()) else None
        layers = []
        for ei, alpha in details["attention"]:
            ei, alpha = ei.cpu().numpy().astype(np.int64), alpha.float().cpu().numpy().reshape(alpha.shape[0], -1)
            kl = np.maximum(att.uniform_entropy(ei, n)[:, None] - att.entropy(ei, alpha, n), 0.0)
            has = att.in_degree(ei, n) > 1
            layers.append(
                {
                    "kl": [float(v) for v in kl[has].mean(0)] if has.any() else [None] * alpha.shape[1],
                    "lift": ins.attention_vs_labels(ei, alpha, self.y)["overall"]["lift"],
                }
            )
        row["layers"] = layers
        self.rows.append(row)
        save_json(
            self.path,
            {"format": "gnnviz-snapshots", "skipped_for_time": self.skipped, "budget": self.BUDGET, "snapshots": self.rows},
        )
