"""What every dataset module shares: the loaded ``GraphDataset``, the ``DatasetSpec`` a family
module declares for each of its datasets, and the task and origin names they use.

Imports nothing of gnnviz and no torch: the dataset table and the config can read specs without
loading any dataset code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch_geometric.data import Data

MULTICLASS, MULTILABEL, BINARY = "multiclass", "multilabel", "binary"
# Tasks with one label per node (integer ``y`` [N], one logit per class): trained and drawn alike.
# BINARY is two classes scored by ROC AUC (class 1 the positive one) instead of accuracy.
SINGLE_LABEL = (MULTICLASS, BINARY)
METRICS = {MULTICLASS: "accuracy", MULTILABEL: "micro_f1", BINARY: "roc_auc"}
_LABELS = {"roc_auc": "ROC AUC"}


def metric_label(metric: str) -> str:
    """How a metric is named to people (printed, on figures and pages): 'ROC AUC', 'micro f1', 'accuracy'."""
    return _LABELS.get(metric, metric.replace("_", " "))


FILES, EMBEDDED, GENERATED = "files", "embedded", "generated"  # where a dataset comes from


@dataclass(frozen=True)
class DatasetSpec:
    folder: str  # name of the folder under the data root, as PyG (or OGB) spells it; also its display name
    task: str
    files: tuple[str, ...]  # what must be in <root>/<folder> before loading, e.g. raw/ind.cora.x
    # FILES: (name, spec, folder) -> GraphDataset; EMBEDDED: () -> GraphDataset; GENERATED: (params) -> GraphDataset
    load: Callable[..., GraphDataset]
    description: str
    origin: str = FILES  # FILES: read from the data root; EMBEDDED/GENERATED: built in memory, no files
    download: Callable[[DatasetSpec, Any], None] | None = None  # FILES: (spec, folder) fetches the raw files
    params: type | None = None  # dataclass of the settings a GENERATED dataset is made from (dataset.<field>)
    # GENERATED: (dataset config section, its defaults filled) -> None, raising ConfigError on a value it cannot use
    check: Callable[[Any], None] | None = None
    normalize: bool = False  # row-normalise features unless the config says otherwise
    signed_features: bool = False  # rows may sum to about 0, so row normalisation is refused


@dataclass
class GraphDataset:
    """A loaded dataset. Transductive datasets hold one graph with masks in all three lists."""

    name: str
    task: str  # MULTICLASS, MULTILABEL or BINARY: picks loss and metric
    num_features: int
    num_classes: int
    train: list[Data]
    val: list[Data]
    test: list[Data]

    @property
    def transductive(self) -> bool:
        return len(self.train) == 1 and self.train[0] is self.val[0] is self.test[0]

    @property
    def metric(self) -> str:
        return METRICS[self.task]
