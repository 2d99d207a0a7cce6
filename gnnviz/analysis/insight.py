"""What attention learned, in numpy: attention against labels, static or dynamic ranking, and
how predictions change when attention is switched off.

Every function takes the edge index a layer actually used (self-loops included, as the model saw
them) and groups incoming edges by target ``edge_index[1]``, as PyG's softmax does. Weights are
``alpha``: [E, H] (one column per head) or [E] (one head, e.g. GCN's fixed coefficients).
Results are plain dicts of ints, finite floats, ``None`` (undefined) and lists: ready for JSON.

Definitions (the numbers people quote; each is checked against a hand computation in
``tests/viz/test_insight.py``):

* Similarity of two nodes ``s(i, j)``: 1 if they have the same label, else 0 (labels [N]); for
  multi-label graphs (labels [N, C] of 0/1) the Jaccard index of their label sets,
  |Y_i & Y_j| / |Y_i | Y_j|, taken as 1 when both sets are empty. On single labels the two agree.
* Neighbours of ``i``: the sources of its incoming edges other than ``i`` itself, one entry per
  edge. The self-loop is left out of every label measure: attention on oneself is trivially
  "same label" and would reward a model for ignoring its neighbours. How much weight the
  self-loop takes is reported on its own (``self_mass``).
* Label mass of ``i`` (per head): sum_j w_ij s(i, j) / sum_j w_ij over its neighbours, i.e. the
  node's weights renormalised over its neighbours. Renormalising per node makes weights that do
  not sum to 1 (GCN's D^-1/2 (A+I) D^-1/2) comparable with softmax attention: what counts is how
  a node splits its weight among neighbours, not the total.
* Local homophily of ``i``: the mean of s(i, j) over its neighbours: the label mass of uniform
  attention over the same neighbours.
* Lift = label mass - local homophily: 0 for uniform weights, positive when a node favours
  similar neighbours. Its largest possible value is max_lift = max_j s(i, j) - homophily
  (1 - homophily when some neighbour shares the label).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------- helpers


def _num(x: Any) -> float | None:
    """A JSON number: a finite float, or None for undefined (NaN, inf)."""
    x = float(x)
    return x if np.isfinite(x) else None


def _nums(xs: np.ndarray) -> list[float | None]:
    return [_num(v) for v in np.asarray(xs, dtype=np.float64).ravel()]


def _weights(edge_index: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(edge_index [2, E] int64, alpha [E, H] float), checked against each other. Float32 weights
    stay float32 (they hold no more digits as float64, and at 11M edges x 8 heads a float64 copy
    is 0.7 GB); sums over them are taken in float64, one head at a time."""
    ei = np.asarray(edge_index, dtype=np.int64)
    a = np.asarray(alpha)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if ei.ndim != 2 or ei.shape[0] != 2 or a.ndim != 2 or a.shape[0] != ei.shape[1]:
        raise ValueError(f"edge_index must be [2, E] and alpha [E] or [E, H]; got {ei.shape} and {np.shape(alpha)}")
    return ei, a


def _node_mask(mask: np.ndarray | Sequence[int] | None, n: int) -> np.ndarray:
    """A boolean [N] from None (all nodes), a boolean mask [N] or node ids."""
    if mask is None:
        return np.ones(n, dtype=bool)
    m = np.asarray(mask)
    if m.dtype == bool:
        if m.shape != (n,):
            raise ValueError(f"a boolean node mask must have shape ({n},); got {m.shape}")
        return m
    out = np.zeros(n, dtype=bool)
    out[m.astype(np.int64)] = True
    return out


def _groups(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a sorted index [M]: (positions [P], partners [P]) of every pair p < q in the same group.

    All pairs within each run of equal values, in order; P = sum over runs of C(len, 2).
    """
    m = index.size
    if m < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, start, count = np.unique(index, return_index=True, return_counts=True)
    run_end = np.repeat(start + count, count)  # one past the last position of each entry's run
    later = run_end - np.arange(m) - 1  # partners after each entry in its run
    total = int(later.sum())
    first = np.repeat(np.arange(m), later)
    offset = np.arange(total) - np.repeat(np.cumsum(later) - later, later)
    return first, first + 1 + offset


def similarity(labels: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 1 << 22) -> np.ndarray:
    """s(a[e], b[e]) for node ids a, b: [M] -> [M] float64 (see the module docstring).

    labels: [N] class ids (same label -> 1, else 0) or [N, C] 0/1 (Jaccard of the label sets;
    1 when both are empty). Multi-label pairs are computed in chunks of ``chunk`` label cells.
    """
    y = np.asarray(labels)
    if y.ndim == 1:
        return (y[a] == y[b]).astype(np.float64)
    y = y != 0
    out = np.empty(a.size, dtype=np.float64)
    step = max(1, chunk // max(1, y.shape[1]))
    for lo in range(0, a.size, step):
        ya, yb = y[a[lo : lo + step]], y[b[lo : lo + step]]
        inter = (ya & yb).sum(1)
        union = (ya | yb).sum(1)
        out[lo : lo + step] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out


# ----------------------------------------------------------------------------- attention against labels


def label_mass(edge_index: np.ndarray, alpha: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per-node label measures of one layer: arrays, for figures and for ``attention_vs_labels``.

    edge_index: [2, E] as the layer used it; alpha: [E] or [E, H]; labels: [N] or [N, C].
    Returns ``neighbours`` [N] (incoming edges other than the self-loop), ``homophily`` [N],
    ``best`` [N] (max_j s(i, j)), ``mass`` [N, H], ``lift`` [N, H], ``self_mass`` [N, H] (the
    self-loop's share of the node's total incoming weight) and ``uniform_self_mass`` [N]
    (1 / in-degree: the same share under uniform attention). Undefined entries are NaN: nodes
    without neighbours, and nodes whose neighbours all have weight 0.
    """
    ei, a = _weights(edge_index, alpha)
    n = int(np.asarray(labels).shape[0])
    src, dst = ei
    loop = src == dst
    nb = ~loop
    s = similarity(labels, src[nb], dst[nb])
    d_nb = dst[nb]
    neighbours = np.bincount(d_nb, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        homophily = np.bincount(d_nb, weights=s, minlength=n) / neighbours
        if np.asarray(labels).ndim == 1:
            # Same label or not (s is 0 or 1): the best is 1 where any neighbour shares the label.
            # (np.fmax.at, the general case, takes seconds on 10M edges.)
            best = np.where(neighbours > 0, (np.bincount(d_nb, weights=s, minlength=n) > 0).astype(np.float64), np.nan)
        else:
            best = np.full(n, np.nan)
            if s.size:
                np.fmax.at(best, d_nb, s)
        heads = a.shape[1]
        total, w_nb, same, self_w = (np.empty((n, heads)) for _ in range(4))
        d_loop = dst[loop]
        for h in range(heads):  # one head at a time in float64: [E] temporaries, not [E, H]
            col = a[:, h].astype(np.float64)
            total[:, h] = np.bincount(dst, weights=col, minlength=n)
            col_nb = col[nb]
            w_nb[:, h] = np.bincount(d_nb, weights=col_nb, minlength=n)
            same[:, h] = np.bincount(d_nb, weights=col_nb * s, minlength=n)
            self_w[:, h] = np.bincount(d_loop, weights=col[loop], minlength=n)
        mass = np.where(w_nb > 0, same / w_nb, np.nan)
        self_mass = np.where(total > 0, self_w / total, np.nan)
        uniform_self = np.bincount(dst[loop], minlength=n) / np.bincount(dst, minlength=n)
    return {
        "neighbours": neighbours,
        "homophily": homophily,
        "best": best,
        "mass": mass,
        "lift": mass - homophily[:, None],
        "self_mass": self_mass,
        "uniform_self_mass": uniform_self,
    }


def degree_bins(max_degree: int) -> list[tuple[int, int]]:
    """Neighbour-count bins [lo, hi], powers of two: (1, 1), (2, 3), (4, 7)... up to ``max_degree``.

    Nodes with one neighbour have lift 0 whatever the weights (renormalised, all weight is on
    that neighbour): their bin shows it.
    """
    bins, lo = [], 1
    while lo <= max(1, max_degree):
        bins.append((lo, 2 * lo - 1))
        lo *= 2
    return bins


def _summary(per: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, Any]:
    """Means over the nodes ``rows`` (boolean [N]) of the per-node measures; per head as lists."""

    def mean(x: np.ndarray) -> np.ndarray:
        x = x[rows]
        if x.shape[0] == 0:
            return np.full(x.shape[1:], np.nan)
        with warnings.catch_warnings():  # an all-NaN column is reported as None, not warned about
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(x, axis=0)

    return {
        "nodes": int(rows.sum()),
        "homophily": _num(mean(per["homophily"])),
        "max_lift": _num(mean(per["best"] - per["homophily"])),
        "mass": _nums(mean(per["mass"])),
        "lift": _nums(mean(per["lift"])),
        "self_mass": _nums(mean(per["self_mass"])),
        "uniform_self_mass": _num(mean(per["uniform_self_mass"])),
    }


def attention_vs_labels(
    edge_index: np.ndarray,
    alpha: np.ndarray,
    labels: np.ndarray,
    *,
    mask: np.ndarray | Sequence[int] | None = None,
    bins: Sequence[tuple[int, int]] | None = None,
    per: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Attention against labels for one layer: label mass, local homophily and lift per head.

    edge_index: [2, E] with the layer's self-loops; alpha: [E, H] attention or [E] fixed
    weights (GCN); labels: [N] class ids or [N, C] 0/1; mask: the target nodes to average over
    (boolean [N] or ids; default all). Nodes without neighbours (besides themselves) are left
    out of every mean. ``bins``: neighbour-count bins [lo, hi] (default ``degree_bins``).

    Returns ``{"similarity": "same label" | "jaccard", "heads": H, "nodes_without_neighbours":
    int, "overall": S, "by_degree": [S + {"lo", "hi"}], "by_class": [S + {"class"}]}`` where each
    summary S is ``{"nodes", "homophily", "max_lift", "mass": [H], "lift": [H], "self_mass": [H],
    "uniform_self_mass"}``, means over its nodes. In ``by_class`` a multi-label node counts in
    every class it has. per: ``label_mass(edge_index, alpha, labels)`` when the caller has it.
    """
    y = np.asarray(labels)
    if per is None:
        per = label_mass(edge_index, alpha, y)
    n = y.shape[0]
    chosen = _node_mask(mask, n)
    has = per["neighbours"] > 0
    rows = chosen & has
    nb = per["neighbours"]
    if bins is None:
        bins = degree_bins(int(nb[rows].max()) if rows.any() else 1)
    by_degree = [{"lo": int(lo), "hi": int(hi), **_summary(per, rows & (nb >= lo) & (nb <= hi))} for lo, hi in bins]
    if y.ndim == 1:
        classes = np.unique(y)
        members = [(int(c), y == c) for c in classes]
    else:
        members = [(c, y[:, c] != 0) for c in range(y.shape[1])]
    by_class = [{"class": c, **_summary(per, rows & m)} for c, m in members]
    return {
        "similarity": "same label" if y.ndim == 1 else "jaccard",
        "heads": int(per["mass"].shape[1]),
        "nodes_without_neighbours": int((chosen & ~has).sum()),
        "overall": _summary(per, rows),
        "by_degree": by_degree,
        "by_class": by_class,
    }


# ----------------------------------------------------------------------------- static or dynamic attention


def _shared(ptr: np.ndarray, keys: np.ndarray, src: np.ndarray, n: int, pi: np.ndarray, pk: np.ndarray):
    """Shared in-neighbours of the target pairs (pi[q], pk[q]), q = 0..Q-1.

    ptr [N + 1], keys [E] (dst * n + src, sorted), src [E]: the deduplicated edges in CSR order by
    target. Returns (q [M], edge position into pi[q] [M], edge position into pk[q] [M]),
    grouped by q in order.
    """
    deg = ptr[1:] - ptr[:-1]
    count = deg[pi]
    q = np.repeat(np.arange(pi.size), count)
    pos_i = np.repeat(ptr[pi], count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    want = pk[q] * n + src[pos_i]
    pos_k = np.searchsorted(keys, want)
    pos_k = np.minimum(pos_k, max(keys.size - 1, 0))
    hit = keys[pos_k] == want if keys.size else np.zeros(0, bool)
    return q[hit], pos_i[hit], pos_k[hit]


def ranking_agreement(
    edge_index: np.ndarray,
    alpha: np.ndarray,
    *,
    num_nodes: int | None = None,
    max_pairs: int = 2000,
    max_shared: int = 32,
    include_self: bool = False,
    rtol: float = 1e-6,
    seed: int = 0,
    max_triples: int = 4_000_000,
    pairs: RankingPairs | None = None,
) -> dict[str, Any]:
    """Static or dynamic attention (Brody et al. 2022): do two target nodes rank the neighbours
    they share in the same order?

    GAT's score is LeakyReLU(a_dst.Wh_i + a_src.Wh_j): for every target ``i`` it orders the
    neighbours ``j`` by a_src.Wh_j alone, so any two targets agree on the order of the neighbours
    they share ("static" attention: agreement 1.0 whatever the weights). GATv2 can disagree.

    edge_index: [2, E] as the layer used it; alpha: [E] or [E, H]. Over pairs of targets (i, k)
    with at least two shared in-neighbours, each pair of shared neighbours (j, l) is concordant
    when alpha_ij - alpha_il and alpha_kj - alpha_kl have the same sign, discordant when opposite,
    and a tie when either difference is within ``rtol`` of the larger weight (float noise; exact
    ties included). Ties are counted but take no part in the agreement.

    Which pairs: self-loops are left out unless ``include_self`` (the measure is then about
    ranking other nodes; GAT is static either way); a duplicated edge counts once. When the graph
    has at most ``max_triples`` (source, target, target) triples, every eligible pair is found
    (``eligible_pairs``) and ``max_pairs`` of them are drawn uniformly; otherwise 20 * max_pairs
    triples are drawn uniformly, which favours pairs sharing many neighbours, and the first
    ``max_pairs`` eligible pairs among them are kept (``eligible_pairs`` None; on a sparse graph
    this finds few pairs: ``pairs`` says how many). Enumerating costs about 80 bytes per triple:
    a 100k-node random graph of mean degree 8 has 3.2 million (2 s, 250 MB measured). A pair sharing more
    than ``max_shared`` neighbours is measured on a random ``max_shared`` of them. All draws come
    from ``seed``: the same inputs give the same numbers.

    The pairs depend on the edges only: ``pairs``, from ``ranking_pairs`` on the same edge index
    with the same options, skips choosing them again (layers sharing one edge index).

    Returns ``{"pairs": target pairs measured, "eligible_pairs": int | None, "exhaustive": bool,
    "mean_shared": mean shared neighbours measured per pair, "comparisons": [H] untied neighbour
    pairs, "ties": [H], "agreement": [H] concordant / (concordant + discordant) pooled over all
    pairs, "mean_pair_agreement": [H] the same per target pair then averaged, "fully_concordant":
    [H] share of target pairs with no discordant neighbour pair}``; undefined values are None.
    """
    ei, a = _weights(edge_index, alpha)
    heads = a.shape[1]
    if pairs is None:
        pairs = ranking_pairs(
            ei,
            num_nodes=num_nodes,
            max_pairs=max_pairs,
            max_shared=max_shared,
            include_self=include_self,
            seed=seed,
            max_triples=max_triples,
        )
    q, edge_i, edge_k, count = pairs.q, pairs.edge_i, pairs.edge_k, pairs.pairs
    conc = np.zeros((count, heads))
    disc = np.zeros((count, heads))
    ties = np.zeros((count, heads))
    f, g = _groups(q)
    step = max(1, (1 << 21) // heads)
    for lo in range(0, f.size, step):
        fb, gb = f[lo : lo + step], g[lo : lo + step]
        si = _order_sign(a[edge_i[fb]], a[edge_i[gb]], rtol)
        sk = _order_sign(a[edge_k[fb]], a[edge_k[gb]], rtol)
        prod = si * sk
        qb = q[fb]
        for h in range(heads):
            conc[:, h] += np.bincount(qb, weights=prod[:, h] > 0, minlength=count)
            disc[:, h] += np.bincount(qb, weights=prod[:, h] < 0, minlength=count)
            ties[:, h] += np.bincount(qb, weights=prod[:, h] == 0, minlength=count)
    compared = conc + disc
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pooled = conc.sum(0) / compared.sum(0)
        per_pair = np.where(compared > 0, conc / compared, np.nan)
        mean_pair = np.nanmean(per_pair, axis=0) if count else np.full(heads, np.nan)
        full = np.where(compared > 0, disc == 0, np.nan)
        fully = np.nanmean(full, axis=0) if count else np.full(heads, np.nan)
    return {
        "pairs": int(count),
        "eligible_pairs": pairs.eligible_pairs,
        "exhaustive": bool(pairs.exhaustive),
        "mean_shared": _num(np.bincount(q, minlength=count).mean()) if count else None,
        "comparisons": [int(v) for v in compared.sum(0)],
        "ties": [int(v) for v in ties.sum(0)],
        "agreement": _nums(pooled),
        "mean_pair_agreement": _nums(mean_pair),
        "fully_concordant": _nums(fully),
    }


@dataclass(frozen=True)
class RankingPairs:
    """What ``ranking_agreement`` compares, chosen from the edges alone: ``pairs`` target pairs;
    ``q`` [M] the pair of each shared neighbour (grouped by pair), ``edge_i``, ``edge_k`` [M] the
    positions in the edge index of its edges into the pair's two targets."""

    pairs: int
    eligible_pairs: int | None
    exhaustive: bool
    q: np.ndarray
    edge_i: np.ndarray
    edge_k: np.ndarray


def ranking_pairs(
    edge_index: np.ndarray,
    *,
    num_nodes: int | None = None,
    max_pairs: int = 2000,
    max_shared: int = 32,
    include_self: bool = False,
    seed: int = 0,
    max_triples: int = 4_000_000,
) -> RankingPairs:
    """The target pairs and shared neighbours ``ranking_agreement`` measures (its docstring says
    which, and what the options mean): they depend on the edges only, not on the weights."""
    ei = np.asarray(edge_index, dtype=np.int64)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must be [2, E]; got {ei.shape}")
    n = int(num_nodes) if num_nodes is not None else int(ei.max()) + 1 if ei.size else 0
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(ei[0] != ei[1]) if not include_self else np.arange(ei.shape[1])
    # CSR by target, sources sorted; duplicates dropped (the first one kept). ``first`` maps a
    # position in this order back to the edge index, so the weights are never copied.
    keys, first = np.unique(ei[1, rows] * n + ei[0, rows], return_index=True)
    first = rows[first]
    src, dst = ei[0, first], ei[1, first]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=n))])
    # The same edges by source: each source's targets, sorted, for the (j, i, k) triples.
    by_src = np.lexsort((dst, src))
    s_src, s_dst = src[by_src], dst[by_src]
    del by_src
    out_deg = np.bincount(s_src, minlength=n)
    triples = int((out_deg * (out_deg - 1) // 2).sum())
    exhaustive = triples <= max_triples
    if exhaustive:
        f, g = _groups(s_src)
        pair_keys, count = np.unique(s_dst[f] * n + s_dst[g], return_counts=True)
        eligible = pair_keys[count >= 2]
        eligible_pairs: int | None = int(eligible.size)
        chosen = np.sort(rng.choice(eligible, size=min(max_pairs, eligible.size), replace=False))
    else:
        later = np.repeat(np.cumsum(out_deg), out_deg) - np.arange(s_src.size) - 1  # partners after each edge
        draws = 20 * max_pairs
        p = rng.choice(s_src.size, size=draws, p=later / later.sum())
        partner = p + 1 + np.floor(rng.random(draws) * later[p]).astype(np.int64)
        candidates = rng.permutation(np.unique(s_dst[p] * n + s_dst[partner]))
        q, _, _ = _shared(ptr, keys, src, n, candidates // n, candidates % n)
        ok = np.bincount(q, minlength=candidates.size) >= 2
        chosen = candidates[ok][:max_pairs]
        eligible_pairs = None
    pi, pk = chosen // n, chosen % n
    q, pos_i, pos_k = _shared(ptr, keys, src, n, pi, pk)
    # At most max_shared neighbours per pair: a random subset of the larger ones.
    order = np.lexsort((rng.random(q.size), q))
    q, pos_i, pos_k = q[order], pos_i[order], pos_k[order]
    starts = np.searchsorted(q, q)
    small = np.arange(q.size) - starts < max_shared
    return RankingPairs(int(chosen.size), eligible_pairs, bool(exhaustive), q[small], first[pos_i[small]], first[pos_k[small]])


def _order_sign(x: np.ndarray, z: np.ndarray, rtol: float) -> np.ndarray:
    """sign(x - z) elementwise, 0 where |x - z| <= rtol * max(|x|, |z|) (a tie)."""
    d = x - z
    tie = np.abs(d) <= rtol * np.maximum(np.abs(x), np.abs(z))
    return np.where(tie, 0.0, np.sign(d))


# ----------------------------------------------------------------------------- attention switched off


def _predict(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Class ids [N] (argmax, ties to the lowest id), or 0/1 [N, C] (logit > 0) for multi-label."""
    z = np.asarray(logits)
    return (z > 0) if multilabel else np.argmax(z, axis=1)


def predict(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """What a model predicts from its logits [N, C]: class ids [N] for labels [N], or the 0/1
    label sets [N, C] (logit > 0) for multi-label labels [N, C]."""
    return _predict(logits, np.asarray(labels).ndim == 2)


def _score(pred: np.ndarray, y: np.ndarray, multilabel: bool) -> float:
    """Accuracy, or micro-F1 over all (node, label) cells: 2 TP / (2 TP + FP + FN)."""
    if not multilabel:
        return float(np.mean(pred == y)) if y.size else float("nan")
    t = y != 0
    tp = float(np.sum(pred & t))
    wrong = float(np.sum(pred != t))
    return 2 * tp / (2 * tp + wrong) if tp + wrong > 0 else float("nan")


def _roc_auc(logits: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of class 1's score ``logits[:, 1] - logits[:, 0]`` (scikit-learn); NaN with one class only."""
    from sklearn.metrics import roc_auc_score

    if y.size == 0 or np.unique(y).size < 2:
        return float("nan")
    return float(roc_auc_score(y, logits[:, 1] - logits[:, 0]))


def prediction_change(
    before: np.ndarray,
    after: np.ndarray,
    labels: np.ndarray,
    *,
    mask: np.ndarray | Sequence[int] | None = None,
    binary: bool = False,
) -> dict[str, Any]:
    """How predictions change from logits ``before`` to ``after`` (both [N, C]) on the nodes of ``mask``.

    labels: [N] class ids (metric: accuracy; prediction = argmax) or [N, C] 0/1 (metric:
    micro-F1; a label is predicted when its logit is > 0). A node "changes" when its predicted
    class (its predicted label set) differs. Returns ``{"metric", "nodes", "before", "after",
    "change" (after - before), "changed": count, "changed_nodes": [ids], "fixed": wrong before
    and right after, "broken": right before and wrong after}``; for multi-label, right means
    the whole label set is right. ``binary`` (two classes, ``datasets.BINARY``): the metric is
    ROC AUC of class 1's score, which changes even where no prediction does.
    """
    y = np.asarray(labels)
    multilabel = y.ndim == 2
    b, a = np.asarray(before), np.asarray(after)
    if b.shape != a.shape or b.shape[0] != y.shape[0]:
        raise ValueError(f"logits before {b.shape} and after {a.shape} must both be [N, C] with N = {y.shape[0]}")
    rows = _node_mask(mask, y.shape[0])
    pb, pa, yt = _predict(b[rows], multilabel), _predict(a[rows], multilabel), y[rows]
    if multilabel:
        changed = np.any(pb != pa, axis=1)
        right_b, right_a = np.all(pb == (yt != 0), axis=1), np.all(pa == (yt != 0), axis=1)
    else:
        changed = pb != pa
        right_b, right_a = pb == yt, pa == yt
    if binary:
        sb, sa = _roc_auc(b[rows], yt), _roc_auc(a[rows], yt)
    else:
        sb, sa = _score(pb, yt, multilabel), _score(pa, yt, multilabel)
    return {
        "metric": "roc_auc" if binary else "micro_f1" if multilabel else "accuracy",
        "nodes": int(rows.sum()),
        "before": _num(sb),
        "after": _num(sa),
        "change": _num(sa - sb),
        "changed": int(changed.sum()),
        "changed_nodes": [int(v) for v in np.flatnonzero(rows)[changed]],
        "fixed": int((~right_b & right_a).sum()),
        "broken": int((right_b & ~right_a).sum()),
    }
