"""``explain.subgraph.Hops``: a node's k-hop subgraph from the edges grouped by target, the same as
PyG's ``k_hop_subgraph`` (which walks every edge at every hop)."""

import torch
from torch_geometric.utils import k_hop_subgraph

from gnnviz.explain.subgraph import Hops


def test_k_hop_equals_pygs_k_hop_subgraph_on_a_random_graph():
    g = torch.Generator().manual_seed(0)
    n = 60  # nodes 50..59 have no edges; duplicates, self-loops and one-way edges included
    edge_index = torch.randint(0, 50, (2, 150), generator=g)
    edge_index = torch.cat([edge_index, torch.tensor([[3, 3, 7], [3, 8, 8]])], dim=1)
    hops = Hops(edge_index, n)
    for node in (0, 3, 8, 17, 49, 55):
        for k in range(4):
            subset, sub_ei, mapping, mask = k_hop_subgraph(node, k, edge_index, relabel_nodes=True, num_nodes=n)
            got_subset, got_ei, index, ids = hops.k_hop(node, k)
            assert torch.equal(got_subset, subset), (node, k)
            assert torch.equal(got_ei, sub_ei), (node, k)
            assert index == int(mapping[0]) and torch.equal(ids, mask.nonzero().view(-1)), (node, k)
            assert torch.equal(hops.within(node, k), subset)
