"""Known answers on BA-Shapes that need a model trained as the literature trains it: GNNExplainer
through gnnviz against PyG's own example loop on the same graph, computed here, not hard-coded."""

import json

import pytest

from bench.explain import plain_loop, pooled_auc

NODES = list(range(400, 700, 50))  # inside the houses (nodes 300 to 699): PyG's example explains these
EPOCHS = 200  # PyG's BA-Shapes example's GNNExplainer epochs


@pytest.fixture(scope="module")
def ba_runs(tmp_path_factory):
    from bench.explain import trained

    root = tmp_path_factory.mktemp("ba-shapes")
    return trained("ba_shapes", None, root / "trained"), trained("ba_shapes", 1, root / "untrained")


def gnnviz_explain(run, folder) -> dict:
    """explain.json of GNNExplainer on ``NODES``."""
    from gnnviz.explain.run import explain

    out = explain(run, folder, nodes=NODES, methods="gnnexplainer", epochs=EPOCHS)
    return json.loads((out / "explain.json").read_text())


def test_gnnexplainer_lands_near_pygs_example_loop_on_a_trained_gcn_and_an_untrained_one_does_not(ba_runs, tmp_path):
    """The config's 3-layer GCN (gcn_ba_shapes.yaml, 2000 epochs) and the same model after one
    epoch, the same motif nodes, PyG's example loop (an Explainer call per node on the whole graph)
    against gnnviz's batched subgraphs. The two differ only by GNNExplainer's random start (drawn
    with a spread set by the graph's node count), so their pooled AUCs agree within 0.1; the
    untrained model's AUC lies far from the trained one's. (Measured here: the trained GCN's
    GNNExplainer ranks the motif edges below the rest, AUC near 0.03 on both sides, the one-epoch
    model's near 0.93: on BA-Shapes GNNExplainer's AUC rewards the regularisers' preference more
    than the trained model; README, "What explain measured".)"""
    trained, untrained = ba_runs
    doc = gnnviz_explain(trained, tmp_path / "trained")
    ours = doc["methods"]["gnnexplainer"]["auc_pooled"]
    masks = plain_loop(trained, NODES, ["gnnexplainer"], EPOCHS)["gnnexplainer"]
    theirs = pooled_auc(trained, NODES, masks, doc["layers"])
    assert abs(ours - theirs) < 0.1, (ours, theirs)
    fresh = gnnviz_explain(untrained, tmp_path / "untrained")["methods"]["gnnexplainer"]["auc_pooled"]
    assert abs(fresh - theirs) > 0.3 and abs(fresh - ours) > 0.3, (fresh, ours, theirs)
