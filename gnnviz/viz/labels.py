"""Class names of the datasets that have them, by the dataset's display name. No torch.

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
