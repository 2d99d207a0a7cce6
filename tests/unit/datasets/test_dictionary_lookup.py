"""``dictionary_lookup``: every query sees the k keys of its copy, exactly one with its attribute,
whose value is the query's label; splits hold whole copies' queries; a seed gives one graph; the
settings are checked before anything starts."""

import numpy as np
import pytest

from gnnviz.config import load_config
from gnnviz.datasets import generated_params, load_dataset
from gnnviz.datasets.dictionary_lookup import LookupParams, generate
from gnnviz.errors import ConfigError


def test_each_query_sees_its_copys_keys_and_exactly_one_has_its_attribute():
    k, m = 5, 12
    ds = generate(LookupParams(keys=k, graphs=m, seed=3))
    g = ds.train[0]
    x, y, (src, dst) = g.x.numpy(), g.y.numpy(), g.edge_index.numpy()
    assert x.shape == (2 * k * m, 2 * k) and ds.num_classes == k and ds.transductive
    attribute, is_query = x[:, :k].argmax(1), x[:, k:].sum(1) == 0
    assert is_query.sum() == k * m and np.all(x[:, :k].sum(1) == 1)
    assert np.all(is_query[dst]) and not np.any(is_query[src])  # key -> query only
    assert np.all(x[~is_query, k:].argmax(1) == y[~is_query])  # a key's label is its own value
    assert len({(a, b) for a, b in zip(src, dst, strict=True)}) == src.size == k * k * m
    for q in np.flatnonzero(is_query):
        keys = src[dst == q]
        assert keys.size == k and sorted(attribute[keys]) == list(range(k))
        own = keys[attribute[keys] == attribute[q]]
        assert own.size == 1 and y[own[0]] == y[q]
        assert sorted(y[keys]) == list(range(k))  # values: a permutation of 0..k-1


def test_splits_are_whole_copies_of_queries_only_and_a_seed_gives_one_graph():
    p = LookupParams(keys=4, graphs=20, train_fraction=0.5, val_fraction=0.25, test_fraction=0.25, seed=1)
    g = generate(p).train[0]
    is_query = g.x[:, 4:].sum(1).numpy() == 0
    masks = [g[f"{s}_mask"].numpy() for s in ("train", "val", "test")]
    assert [int(mk.sum()) for mk in masks] == [40, 20, 20]
    assert not np.any(masks[0] & masks[1]) and not np.any(masks[1] & masks[2]) and not np.any(masks[0] & masks[2])
    assert all(np.all(is_query[mk]) for mk in masks)
    # A copy's queries are the targets of its keys: a copy is in one split, all of its queries there.
    src, dst = g.edge_index.numpy()
    for mk in masks:
        for q in np.flatnonzero(mk)[:5]:
            siblings = np.unique(dst[np.isin(src, src[dst == q])])
            assert np.all(mk[siblings])
    again = generate(p).train[0]
    assert all(np.array_equal(getattr(g, f).numpy(), getattr(again, f).numpy()) for f in ("x", "y", "edge_index", "test_mask"))
    other = generate(LookupParams(keys=4, graphs=20, seed=2)).train[0]
    assert not np.array_equal(g.y.numpy(), other.y.numpy())


def test_the_config_builds_what_it_says_and_refuses_settings_it_cannot_use():
    cfg = load_config(None, ["dataset.name=dictionary_lookup", "dataset.keys=3", "dataset.graphs=10"])
    ds = load_dataset("dictionary_lookup", params=generated_params(cfg.dataset))
    assert ds.num_features == 6 and ds.train[0].num_nodes == 60
    cases = {
        "dataset.keys=1": "dataset.keys=1 must be at least 2",
        "dataset.graphs=2": "dataset.graphs=2 must be at least 3",
        "dataset.test_fraction=0.01": "dataset.test_fraction=0.01 of dataset.graphs=10 is no copy",
        "dataset.train_fraction=0.95": "must be at most 1 (a copy is in one split at most)",
        "dataset.blocks=4": "dataset.blocks is only for synthetic; remove it for dataset.name=dictionary_lookup",
    }
    for setting, message in cases.items():
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(None, ["dataset.name=dictionary_lookup", "dataset.graphs=10", setting])
    with pytest.raises(ConfigError, match="dataset.keys is only for dictionary_lookup; remove it for dataset.name=cora"):
        load_config(None, ["dataset.keys=4"])
