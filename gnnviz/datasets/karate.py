"""KarateClub: Zachary's karate club, embedded in PyG (no files), with a fixed stratified split."""

from __future__ import annotations

from gnnviz.datasets.base import EMBEDDED, MULTICLASS, DatasetSpec, GraphDataset


def load() -> GraphDataset:
    import torch
    from torch_geometric.datasets import KarateClub

    g = KarateClub()[0]
    # KarateClub ships only 4 labelled nodes; a fixed stratified split (independent of the run
    # seed, so all runs compare on the same nodes): about half train, a quarter val, a quarter test.
    gen = torch.Generator().manual_seed(0)
    n = g.num_nodes
    train, val, test = (torch.zeros(n, dtype=torch.bool) for _ in range(3))
    for c in range(int(g.y.max()) + 1):
        idx = (g.y == c).nonzero().view(-1)
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        k_train = max(1, idx.numel() // 2)
        k_val = max(1, (idx.numel() - k_train) // 2)
        train[idx[:k_train]] = True
        val[idx[k_train : k_train + k_val]] = True
        test[idx[k_train + k_val :]] = True
    g.train_mask, g.val_mask, g.test_mask = train, val, test
    g.x = g.x.float()
    return GraphDataset("karate", MULTICLASS, g.num_features, int(g.y.max()) + 1, [g], [g], [g])


DATASETS: dict[str, DatasetSpec] = {
    "karate": DatasetSpec("KarateClub", MULTICLASS, (), load, "Zachary's karate club, embedded in PyG", origin=EMBEDDED),
}
