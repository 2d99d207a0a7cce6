"""Datasets by name: the table ``DATASETS``, built from one module per family, and its lookup.

Floor plan (each module imports only those above it):

- ``base``: ``GraphDataset`` (a loaded dataset), ``DatasetSpec`` (folder, files, load and
  download functions, settings and their check), the task and origin names.
- ``store``: the data root, the offline mirror, the per-dataset lock and processed-cache stamp,
  copying or downloading raw files, and the messages that name a damaged one.
- ``planetoid`` (Cora, CiteSeer), ``ppi``, ``karate`` (embedded in PyG), ``ogb`` (OGB's node
  datasets from their raw CSVs), ``synthetic`` (generated block-model graphs, with the checks of
  their settings), ``groundtruth`` (generated graphs with known explanations: ba_shapes,
  tree_cycles, tree_grid, infection), ``dictionary_lookup`` (Brody et al.'s lookup), ``minesweeper``
  (Platonov et al.'s heterophilous grid, a binary task): each declares its specs in its own ``DATASETS``.
- here: the table, the names refused with a reason, ``dataset_spec``, ``generated_params`` and ``load_dataset``.
- ``inventory``: what ``gnnviz datasets`` lists (``describe_datasets``).

Never builds models. Importing the table imports no torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnnviz.datasets import dictionary_lookup, groundtruth, karate, minesweeper, ogb, planetoid, ppi, synthetic
from gnnviz.datasets.base import EMBEDDED, GENERATED, DatasetSpec, GraphDataset
from gnnviz.datasets.store import data_root, prepared
from gnnviz.errors import ConfigError, lookup

if TYPE_CHECKING:
    from gnnviz.datasets.synthetic import SyntheticParams

DATASETS: dict[str, DatasetSpec] = {
    **planetoid.DATASETS,
    **ppi.DATASETS,
    **karate.DATASETS,
    **synthetic.DATASETS,
    **groundtruth.DATASETS,
    **dictionary_lookup.DATASETS,
    **minesweeper.DATASETS,
    **ogb.DATASETS,
}

# Names of real datasets that gnnviz does not load, with why and what to use instead.
REFUSED: dict[str, str] = {**ogb.REFUSED}


def dataset_spec(name: str) -> DatasetSpec:
    """``DATASETS[name]``, or an error that says why a known but unsupported dataset is refused."""
    if name in REFUSED:
        raise ConfigError(f"dataset '{name}' is not supported: {REFUSED[name]}")
    return lookup(DATASETS, name, "dataset")


def generated_params(d: Any) -> Any:
    """A generated dataset's settings (its ``DatasetSpec.params``) from a resolved dataset section,
    or None for datasets read from files."""
    spec = DATASETS.get(d.name)
    if spec is None or spec.params is None:
        return None
    return spec.params(**{f.name: getattr(d, f.name) for f in dataclasses.fields(spec.params)})


def load_dataset(
    name: str,
    root: str | Path | None = None,
    *,
    normalize_features: bool | None = None,
    params: SyntheticParams | Any | None = None,
) -> GraphDataset:
    """Load ``name`` from the data root, copying raw files from the mirror or downloading them first.

    A generated dataset is built from ``params``, which it requires: ``generated_params(cfg.dataset)``
    (a caller that forgot them would otherwise train on the defaults, not on what the config says).
    """
    spec = dataset_spec(name)
    if normalize_features is None:
        normalize_features = spec.normalize
    if spec.origin == GENERATED:
        if not isinstance(params, spec.params):
            raise TypeError(
                f"load_dataset({name!r}) needs params={spec.params.__name__}(...), e.g. generated_params(cfg.dataset)"
            )
        ds = spec.load(params)
    elif spec.origin == EMBEDDED:
        ds = spec.load()
    else:
        base = data_root(root)
        with prepared(spec, base) as folder:
            ds = spec.load(name, spec, folder)
    if normalize_features:
        for group in (ds.train, ds.val, ds.test):
            for g in group:
                if not getattr(g, "_gnnviz_normalized", False):
                    g.x = _row_normalize(g.x)
                    g._gnnviz_normalized = True
    return ds


def _row_normalize(x):
    # Rows that sum to zero stay zero instead of becoming NaN.
    s = x.sum(dim=1, keepdim=True)
    return x / s.clamp(min=1e-12) * (s != 0)
