"""Class names of the datasets that have them, by the dataset's display name, and feature names
where a generated dataset's settings give them. No torch.

Planetoid's Cora and CiteSeer store labels as integers. The names below are the original
datasets' subject labels, matched to Planetoid's integers by class size (Cora: 351, 217, 418, 818,
426, 298, 180 nodes; CiteSeer: 264, 590, 668, 701, 596, 508, where class 0 also holds the 15
isolated, unlabelled papers that Planetoid files under it), which the tests check against the
mirrored files.
"""

from __future__ import annotations

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "Cora": (
        "Theory",
        "Reinforcement_Learning",
        "Genetic_Algorithms",
        "Neural_Networks",
        "Probabilistic_Methods",
        "Case_Based",
        "Rule_Learning",
    ),
    "CiteSeer": ("AI", "ML", "IR", "DB", "Agents", "HCI"),
    "Minesweeper": ("safe", "mine"),
}


def class_names(dataset: str, num_classes: int) -> list[str] | None:
    """Names for classes 0..num_classes-1, or None when the dataset has none (or another count)."""
    names = CLASS_NAMES.get(dataset)
    return list(names) if names is not None and len(names) == num_classes else None


def feature_names(dataset: dict, num_features: int) -> list[str] | None:
    """Names of feature columns 0..F-1 from a run's ``dataset`` config, where they mean something:
    ``infection``'s healthy / infected columns (PyG's ``InfectionDataset`` order) and the one-hot
    ``degree`` features of the motif graphs (the last column: that degree or more); None elsewhere
    (Planetoid's files carry no words for Cora's bag-of-words columns)."""
    if dataset.get("name") == "infection" and num_features == 2:
        return ["healthy", "infected"]
    if dataset.get("node_features") == "degree" and num_features > 1:
        return [f"degree {i}" for i in range(num_features - 1)] + [f"degree >= {num_features - 1}"]
    return None
