"""The three attention readings against a hand computation on a 2-layer chain."""

import numpy as np
import pytest
import torch

from gnnviz.explain import attention as att
from gnnviz.models.gnn import GNN


def chain_attention():
    """A 2-layer GAT on the chain 0 -> 1 -> 2 (one head per layer): its input edges and the
    coefficient of each layer on each edge, as a dict (layer, src, dst) -> alpha."""
    torch.manual_seed(3)
    ei = torch.tensor([[0, 1], [1, 2]])
    model = GNN("gat", 3, 2, hidden=4, layers=2, heads=1, out_heads=1, dropout=0.0).eval()
    with torch.no_grad():
        _, details = model(torch.rand(3, 3), ei, return_details=True)
    a = {}
    for layer, (lei, alpha) in enumerate(details["attention"]):
        for (s, d), v in zip(lei.T.tolist(), alpha.view(-1).tolist(), strict=True):
            a[layer, s, d] = v
    return ei, details["attention"], a


def test_tree_attribution_multiplies_attention_along_every_path_to_the_node():
    ei, attention, a = chain_attention()
    got = att.tree(attention, ei, node=2, num_nodes=3).numpy()
    # Paths into node 2: 1->2 at layer 2 (weight a2(1,2)); 1->2 at layer 1 then 2->2 at layer 2;
    # 0->1 at layer 1 then 1->2 at layer 2. Summed per edge, over 2 layers.
    e12 = a[1, 1, 2] + a[0, 1, 2] * a[1, 2, 2]
    e01 = a[0, 0, 1] * a[1, 1, 2]
    np.testing.assert_allclose(got, [e01 / 2, e12 / 2], rtol=1e-5)


def test_last_layer_and_mean_read_the_coefficients_of_the_input_edges():
    ei, attention, a = chain_attention()
    np.testing.assert_allclose(att.last_layer(attention, ei).numpy(), [a[1, 0, 1], a[1, 1, 2]], rtol=1e-6)
    mean = [(a[0, 0, 1] + a[1, 0, 1]) / 2, (a[0, 1, 2] + a[1, 1, 2]) / 2]
    np.testing.assert_allclose(att.layer_mean(attention, ei).numpy(), mean, rtol=1e-6)


def test_an_input_self_loop_scores_zero_and_the_others_keep_their_place():
    values = torch.tensor([0.3, 0.7, 1.0, 1.0, 1.0])  # the layers' edges: 2 input edges, then 3 loops
    ei = torch.tensor([[0, 1, 1], [1, 1, 2]])  # the middle input edge is a self-loop
    assert att.to_input_edges(values, ei).tolist() == pytest.approx([0.3, 0.0, 0.7])
