"""Node coordinates for the whole-graph figure: igraph layouts, per component, cached on disk.

Pure: edges in, coordinates out; never draws. Kamada-Kawai on a whole disconnected graph pushes
small components into a ring at the border and is quadratic in the node count, so each connected
component is laid out on its own and the pieces are packed (largest first) so that the giant
component fills the frame. Coordinates are seeded and cached per graph (key: sha256 of the edge
index bytes, node count, seed and algorithm version; see ``cache.py`` for where) so a second
``gnnviz visualize`` reuses them.

Above ``FORCE_LAYOUT_MAX_NODES`` nodes no force-directed layout fits visualize's time budget
(igraph's grid Fruchterman-Reingold: 8.7 s at 100k nodes, 143 s at 1M on an idle 2-core machine),
and a million-node hairball shows nothing anyway. ``embedding_layout`` then places the nodes by
what the model learned: a t-SNE of a sample of the embeddings (``embeddings.py``), every other
node next to its nearest sampled node in embedding space. Nodes the model finds alike sit
together; the edges drawn over them show how the graph connects those groups.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gnnviz.seeding import igraph_rng
from gnnviz.viz import cache

# Bump when the algorithm or its parameters change: old cache entries then stop matching.
LAYOUT_VERSION = 3
# Above this many nodes in one component, Kamada-Kawai (O(n^2) memory and time) is too slow.
BIG_COMPONENT = 5000
# Kamada-Kawai moves one node per iteration. igraph's default is 50 moves per node (8.5 s on
# Cora's giant component); starting from a force-directed layout, 10 per node looks the same.
KK_MOVES_PER_NODE = 10
KK_MAX_MOVES = 30_000  # each move costs O(n): keeps a 5000-node component to a few seconds
# Above this many nodes, lay out from the model's embeddings (see the module docstring).
FORCE_LAYOUT_MAX_NODES = 200_000
# Nearest sampled node in this many principal components of the embeddings: a k-d tree answers
# 1M queries in seconds in 8 dimensions (brute force over 5000 samples in 16: minutes).
PLACE_DIMS = 8
# Each placed node is jittered around its sampled node by this share of the typical distance
# between neighbouring sampled nodes in the plane, so that the ~200 nodes sharing one sampled
# node show as a patch of that size instead of one dot.
PLACE_JITTER = 0.35
# Empty space between packed components, in units where a component of n nodes has area ~n.
PACK_GAP = 0.6


@dataclass(frozen=True)
class GraphLayout:
    """Coordinates for every node of one graph.

    coords: [N, 2] float64, equal aspect (draw with ``ax.set_aspect("equal")``).
    method: human-readable name of the algorithm, for figure titles and logs.
    components: number of connected components (edge direction ignored).
    cached: whether the coordinates came from the on-disk cache.
    """

    coords: np.ndarray
    method: str
    components: int
    cached: bool = False


def graph_key(edge_index: np.ndarray, num_nodes: int, seed: int) -> str:
    """sha256 hex of the edges (int64, [2, E]), node count, seed and layout version."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(edge_index, dtype=np.int64).tobytes())
    h.update(f"|n={num_nodes}|seed={seed}|v={LAYOUT_VERSION}".encode())
    return h.hexdigest()


def graph_layout(
    edge_index: np.ndarray,
    num_nodes: int,
    *,
    seed: int = 0,
    use_cache: bool = True,
    computed: Callable[[], GraphLayout] | None = None,
) -> GraphLayout:
    """Seeded, deterministic layout of a graph, from the cache when this graph was laid out before.

    edge_index: [2, E] int (direction, duplicates and self-loops are ignored). ``computed``, if
    given, returns what ``compute_layout(edge_index, num_nodes, seed=seed)`` would (visualize's
    helper process computes it meanwhile: ``viz/helper.py``); it is called on a cache miss only.
    """
    edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    path = cache.entry("layouts", graph_key(edge_index, num_nodes, seed))
    if use_cache:
        hit = _read_cache(path, num_nodes)
        if hit is not None:
            return hit
    layout = computed() if computed is not None else compute_layout(edge_index, num_nodes, seed=seed)
    if use_cache:
        _write_cache(path, layout)
    return layout


def cached_layout(edge_index: np.ndarray, num_nodes: int, *, seed: int = 0) -> GraphLayout | None:
    """The cached layout of this graph, or None if it was never laid out (or its entry is damaged)."""
    edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    return _read_cache(cache.entry("layouts", graph_key(edge_index, num_nodes, seed)), num_nodes)


def compute_layout(edge_index: np.ndarray, num_nodes: int, *, seed: int = 0) -> GraphLayout:
    """Lay out each connected component on its own, then pack them. No cache.

    edge_index: [2, E] int. Returns coords [N, 2].
    """
    graph = _undirected(edge_index, num_nodes)
    members = sorted((list(c) for c in graph.connected_components()), key=lambda c: (-len(c), c[0]))
    pieces: list[np.ndarray] = []
    methods: set[str] = set()
    # Every random draw (the force-directed starts) comes from this one seeded stream, in
    # component order: same graph and seed, same coordinates.
    with igraph_rng(seed):
        for nodes in members:
            xy, method = _component_layout(graph.subgraph(nodes))
            pieces.append(_normalise(xy, len(nodes)))
            if method:
                methods.add(method)
    coords = np.zeros((num_nodes, 2))
    for nodes, xy in zip(members, _pack(pieces), strict=True):
        coords[nodes] = xy
    method = " + ".join(sorted(methods)) or "trivial"
    if len(members) > 1:
        method += f" per component ({len(members)} packed)"
    return GraphLayout(coords, method, len(members))


def embedding_layout(
    x: np.ndarray,
    index: np.ndarray,
    sample_xy: np.ndarray,
    *,
    what: str,
    seed: int = 0,
    use_cache: bool = True,
    projection: str = "t-SNE",
) -> GraphLayout:
    """Coordinates [N, 2] for every node from its embedding, from the cache when seen before.

    x: [N, D] embeddings; index: [M] ids of the sampled nodes, sample_xy: [M, 2] their t-SNE
    (or ``projection``'s) coordinates (kept as they are); what: the embeddings' name for the method text, e.g.
    "hidden layer 0". Every other node goes to its nearest sampled node in the first
    ``PLACE_DIMS`` principal components of the sample, plus seeded jitter.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    index = np.asarray(index, dtype=np.int64)
    sample_xy = np.asarray(sample_xy, dtype=np.float64)
    n, m = x.shape[0], index.size
    method = f"{projection} of {what} embeddings of {m:,} sampled nodes; the other {n - m:,} beside their nearest sampled node in embedding space"
    h = hashlib.sha256(x.tobytes())
    h.update(index.tobytes() + sample_xy.tobytes() + f"|{x.shape}|seed={seed}|v={LAYOUT_VERSION}|place".encode())
    path = cache.entry("layouts", h.hexdigest())
    if use_cache:
        hit = _read_cache(path, n)
        if hit is not None:
            return hit
    layout = GraphLayout(place_by_embedding(x, index, sample_xy, seed=seed), method, 0)
    if use_cache:
        _write_cache(path, layout)
    return layout


def place_by_embedding(x: np.ndarray, index: np.ndarray, sample_xy: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """[N, 2]: sampled nodes (``index`` [M]) at ``sample_xy`` [M, 2], the others at their nearest
    sampled node's position (nearest in embedding space x: [N, D]) plus jitter. No cache."""
    from scipy.spatial import cKDTree

    n, m = x.shape[0], index.size
    coords = np.empty((n, 2))
    coords[index] = sample_xy
    if m == n or m == 0:
        return coords
    rest = np.setdiff1d(np.arange(n), index, assume_unique=True)
    sample = x[index].astype(np.float64)
    mu = sample.mean(0)
    # Principal axes of the sample (SVD of M x D, cheap): the directions the embeddings vary most.
    _, _, vt = np.linalg.svd(sample - mu, full_matrices=False)
    axes = vt[: min(PLACE_DIMS, vt.shape[0])].T.astype(np.float32)
    tree = cKDTree((sample - mu).astype(np.float32) @ axes)
    nearest = np.empty(rest.size, dtype=np.int64)
    for start in range(0, rest.size, 1 << 18):  # chunks: the projected rows stay ~8 MB
        part = rest[start : start + (1 << 18)]
        nearest[start : start + part.size] = tree.query((x[part] - mu.astype(np.float32)) @ axes, k=1, workers=-1)[1]
    # Typical spacing of the sampled nodes in the plane: the median distance to the nearest other.
    spacing = float(np.median(cKDTree(sample_xy).query(sample_xy, k=2)[0][:, 1])) if m > 1 else 1.0
    jitter = np.random.default_rng(seed).normal(scale=PLACE_JITTER * max(spacing, 1e-9), size=(rest.size, 2))
    coords[rest] = sample_xy[nearest] + jitter
    return coords


def _undirected(edge_index: np.ndarray, num_nodes: int):
    import igraph as ig

    src, dst = edge_index
    keep = src != dst
    lo, hi = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0) if lo.size else np.zeros((0, 2), np.int64)
    return ig.Graph(n=num_nodes, edges=pairs.tolist(), directed=False)


def _component_layout(sub) -> tuple[np.ndarray, str]:
    """Coordinates [n, 2] for one connected graph, and the algorithm's name ('' if trivial).

    Force-directed starts use igraph's own random placement (drawn from the seeded RNG):
    a start we pass in is laid on its grid badly and made FR 7x (sqrt(n) box) to 180x (unit
    box) slower on 20k nodes.
    """
    n = sub.vcount()
    if n == 1:
        return np.zeros((1, 2)), ""
    if n == 2:
        return np.array([[-0.5, 0.0], [0.5, 0.0]]), ""
    if n > BIG_COMPONENT:
        # Fruchterman-Reingold with its grid approximation: near-linear, 1.5 s for 20k nodes.
        xy = sub.layout_fruchterman_reingold(niter=500, grid=True)
        return np.asarray(xy.coords, dtype=float), "Fruchterman-Reingold (grid)"
    # Force-directed start (cheap, untangles globally), then Kamada-Kawai polishes distances.
    fr = sub.layout_fruchterman_reingold(niter=300, grid=n > 1000)
    moves = max(1000, min(KK_MOVES_PER_NODE * n, KK_MAX_MOVES))
    xy = sub.layout_kamada_kawai(seed=fr.coords, maxiter=moves, kkconst=n)
    return np.asarray(xy.coords, dtype=float), "Kamada-Kawai"


def _normalise(xy: np.ndarray, n: int) -> np.ndarray:
    """Centre a component and scale it so its bounding box has area ~n (aspect kept)."""
    xy = xy - (xy.min(axis=0) + xy.max(axis=0)) / 2
    w, h = np.ptp(xy, axis=0)
    if n == 1 or max(w, h) == 0:
        return np.zeros_like(xy)
    if n == 2:
        return xy / max(w, h)  # unit-length segment
    # Keep very flat components (paths) from getting a huge long side.
    w, h = max(w, 0.2 * max(w, h)), max(h, 0.2 * max(w, h))
    return xy * math.sqrt(n / (w * h))


def _pack(pieces: list[np.ndarray]) -> list[np.ndarray]:
    """Place the largest piece, then shelf-pack the rest in a strip below it or right of it.

    pieces: each [n_i, 2], centred, largest first. Returns them translated so no two bounding
    boxes overlap. Of the two strips, the one giving the squarer, smaller frame wins: the
    figure is about square, so the giant component then fills most of it.
    """
    if len(pieces) == 1:
        return pieces
    sizes = np.array([np.ptp(p, axis=0) for p in pieces])
    giant = sizes[0]
    best = None
    for axis in (0, 1):  # 0: strip below, rows as wide as the giant; 1: strip to the right
        swap = slice(None) if axis == 0 else slice(None, None, -1)
        corners, strip = _shelves(sizes[1:, swap], giant[swap][0])
        if axis == 1:
            # Mirrored so columns run left to right from the giant and fill top down.
            corners = strip - corners - sizes[1:, swap]
        corners, strip = corners[:, swap], strip[swap]
        if axis == 0:
            frame = np.array([max(giant[0], strip[0]), giant[1] + PACK_GAP + strip[1]])
            origin = np.array([0.0, -(PACK_GAP + strip[1])])
        else:
            frame = np.array([giant[0] + PACK_GAP + strip[0], max(giant[1], strip[1])])
            origin = np.array([giant[0] + PACK_GAP, giant[1] - strip[1]])
        score = frame.prod() * max(frame[0] / frame[1], frame[1] / frame[0]) if frame.min() > 0 else np.inf
        if best is None or score < best[0]:
            best = (score, corners + origin)
    assert best is not None
    out = [pieces[0] + giant / 2]  # giant's lower-left corner at the origin
    for p, size, corner in zip(pieces[1:], sizes[1:], best[1], strict=True):
        out.append(p + corner + size / 2)
    return out


def _shelves(sizes: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Shelf packing into a strip of the given width, rows from the top down.

    sizes: [k, 2] box sizes. Returns lower-left corners [k, 2] (strip's lower-left at the
    origin) and the strip's size [2].
    """
    width = max(width, float(sizes[:, 0].max()))
    corners = np.zeros_like(sizes)
    x = y = row_height = 0.0
    rows: list[list[int]] = [[]]
    for i, (w, h) in enumerate(sizes):
        if x > 0 and x + w > width:
            y -= row_height + PACK_GAP
            x, row_height = 0.0, 0.0
            rows.append([])
        rows[-1].append(i)
        corners[i] = (x, y)
        x += w + PACK_GAP
        row_height = max(row_height, h)
    # y so far is each row's top; hang boxes from it and shift everything up to start at 0.
    corners[:, 1] -= sizes[:, 1]
    bottom = y - row_height
    corners[:, 1] -= bottom
    used = float((corners[:, 0] + sizes[:, 0]).max())
    return corners, np.array([used, -bottom])


def _read_cache(path: Path, num_nodes: int) -> GraphLayout | None:
    z = cache.read(path)
    if z is None or not {"coords", "method", "components"} <= z.keys():
        return None
    if z["coords"].dtype.kind not in "fi" or z["method"].dtype.kind != "U" or z["components"].dtype.kind != "i":
        return None
    coords = np.asarray(z["coords"], dtype=float)
    if z["method"].shape != () or z["components"].shape != () or coords.shape != (num_nodes, 2) or not np.isfinite(coords).all():
        return None  # a stale or foreign entry: recompute and overwrite it
    return GraphLayout(coords, str(z["method"]), int(z["components"]), cached=True)


def _write_cache(path: Path, layout: GraphLayout) -> None:
    cache.write(path, coords=layout.coords, method=np.str_(layout.method), components=np.int64(layout.components))
