"""``load_arrays``: a run directory as plain arrays; what the model has decides what is filled in."""

import numpy as np
import pytest

from gnnviz.analysis import attention as att
from gnnviz.analysis.arrays import Checkpoint
from gnnviz.viz.labels import CLASS_NAMES, class_names
from gnnviz.viz.load import load_arrays
from tests.unit.viz.test_visualize import make_run, runs  # noqa: F401 - the shared karate runs


def test_attention_model_has_attention_and_no_fixed_coefficients(runs):  # noqa: F811
    a = load_arrays(runs["gat"])
    assert a.num_nodes == 34 and a.edge_index.shape == (2, 156) and a.logits.shape == (34, 4)
    assert [la.heads for la in a.attention] == [8, 1] and a.coefficients is None
    for la in a.attention:
        np.testing.assert_allclose(att.node_sums(la.edge_index, la.alpha, 34), 1.0, atol=1e-5)
    assert a.class_names is None  # the karate club's classes have no names
    assert a.checkpoint.epoch == a.summary["best_epoch"]
    assert a.checkpoint.val_metric == pytest.approx(a.summary["val_metric"])
    assert set(a.split) <= {"train", "val", "test", "other"} and a.degree[33] == 17


def test_gcn_brings_its_fixed_coefficients_and_sage_neither(runs):  # noqa: F811
    gcn = load_arrays(runs["gcn"])
    assert gcn.attention == [] and gcn.coefficients is not None
    co = gcn.coefficients
    np.testing.assert_allclose(co.weight, att.gcn_coefficients(co.edge_index, 34), rtol=1e-6)
    sage = load_arrays(runs["sage"])
    assert sage.attention == [] and sage.coefficients is None


def test_checkpoint_label_and_the_warning_when_far_before_the_loss_minimum():
    ck = Checkpoint(epoch=49, metric="accuracy", val_metric=0.81, val_loss=0.7123, epochs_run=757, min_val_loss_epoch=300)
    assert ck.label == "epoch 49, val accuracy 0.810, val loss 0.712"
    assert "epoch 49" in ck.warning and "until epoch 300 of 757" in ck.warning
    near = Checkpoint(epoch=49, metric="accuracy", val_metric=0.81, val_loss=0.7, epochs_run=757, min_val_loss_epoch=60)
    assert near.warning is None  # 11 epochs later is not far
    assert Checkpoint(None, "accuracy", None, None, None, None).label == "epoch unknown"


def test_class_names_need_the_right_count():
    assert class_names("Cora", 7)[3] == "Neural_Networks"
    assert class_names("Cora", 6) is None and class_names("KarateClub", 4) is None


@pytest.mark.realdata
@pytest.mark.parametrize(
    "dataset, sizes", [("cora", [351, 217, 418, 818, 426, 298, 180]), ("citeseer", [264, 590, 668, 701, 596, 508])]
)
def test_planetoid_class_sizes_match_the_names_table(mirror, tmp_path, monkeypatch, dataset, sizes):
    # The names are matched to Planetoid's integers by class size (see viz/labels.py): hold that.
    from gnnviz.datasets import load_dataset

    monkeypatch.setenv("GNNVIZ_DATA_MIRROR", str(mirror))
    ds = load_dataset(dataset, tmp_path)
    y = ds.train[0].y.numpy()
    assert np.bincount(y).tolist() == sizes
    assert len(CLASS_NAMES[{"cora": "Cora", "citeseer": "CiteSeer"}[dataset]]) == len(sizes)


@pytest.mark.parametrize("name", ["gat", "gcn", "sage"])
def test_the_forward_in_blocks_of_targets_is_the_whole_forward(runs, name, monkeypatch, tmp_path):  # noqa: F811
    from gnnviz.models import gnn as models
    from gnnviz.viz import load as arrays

    whole = load_arrays(runs[name])
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))  # no cached forward: compute again
    monkeypatch.setattr(models, "INFERENCE_EDGES", 20)  # karate's 190 edges (+34 loops) in ~11 blocks
    monkeypatch.setattr(arrays, "SWITCH_OFF_MAX_EDGES", 10**9)
    calls = []
    real = models.GNN.inference

    def counting(model, *args, **kwargs):
        for conv in model.convs:  # counts the calls the blocks make, one per block and layer

            def count(*a, forward=conv.forward, **k):
                calls.append(1)
                return forward(*a, **k)

            conv.forward = count
        return real(model, *args, **kwargs)

    monkeypatch.setattr(models.GNN, "inference", counting)
    chunked = load_arrays(runs[name])
    np.testing.assert_allclose(chunked.logits, whole.logits, rtol=1e-5, atol=1e-6)
    for a, b in zip(chunked.embeddings, whole.embeddings, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len(chunked.attention) == len(whole.attention)
    for a, b in zip(chunked.attention, whole.attention, strict=True):
        np.testing.assert_array_equal(a.edge_index, b.edge_index)
        np.testing.assert_allclose(a.alpha, b.alpha, rtol=1e-5, atol=1e-7)
    if whole.switched_off:
        assert chunked.switched_off.keys() == whole.switched_off.keys()
    assert len(calls) > 2 * len(whole.embeddings)  # more than one call per layer: it did work in blocks


def test_switched_off_passes_are_timed_when_computed_and_free_when_cached(runs, monkeypatch, tmp_path):  # noqa: F811
    """``switch_off_seconds``: what visualize's timings.json reports as the new analysis's forward passes."""
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))  # empty: computed here
    cold = load_arrays(runs["gat"])
    warm = load_arrays(runs["gat"])
    assert cold.switched_off and cold.switch_off_seconds > 0
    assert warm.switched_off.keys() == cold.switched_off.keys() and warm.switch_off_seconds == 0.0
    assert load_arrays(runs["gcn"]).switch_off_seconds == 0.0  # no attention, nothing switched off
