"""Coordinates to draw at, computed apart from drawing (as networkx's ``layout.py`` is) so they
can be cached and reused: seeded, cached on disk by content (``viz/cache.py``), never drawn here.

| module | owns |
| --- | --- |
| ``layout.py`` | the whole graph's node coordinates: igraph layouts per component, packed; an embedding-based layout past ``FORCE_LAYOUT_MAX_NODES`` |
| ``embeddings.py`` | 2-D projections of node embeddings (t-SNE, UMAP, PCA: ``project``), subsampled when large |
"""
