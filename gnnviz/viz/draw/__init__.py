"""Pure drawing: arrays in, ``matplotlib.figure.Figure`` out, one module per figure family.

Never saves, shows or touches pyplot (``write.py`` writes the bytes ``encode.py`` makes).

| module | draws |
| --- | --- |
| ``style.py`` | nothing on its own: what every figure shares (node colours and their key, axes placed in inches, wrapped headings, power-of-ten ticks, rings around the misclassified); chooses the Agg backend on import |
| ``graph.py`` | the whole graph (``plot_graph_layout``; images from ``raster.py`` past ``RASTER_EDGES``/``RASTER_NODES``) and the degree distribution (``plot_degree``) |
| ``neighbourhoods.py`` | one node's incoming weights, radially, per layer and head (``plot_neighbourhoods``), on the weight scale every figure shares (``edge_width``) |
| ``entropy.py`` | attention's entropy against uniform and each node's KL from uniform (``plot_entropy_histogram``, ``plot_entropy_grid``) |
| ``embeddings.py`` | t-SNE projections side by side (``plot_projections``) |
| ``curves.py`` | training curves (``plot_curves``) |
| ``insight.py`` | ``gnnviz.analysis.insight``'s numbers: lift, ranking, switched-off attention, class flow |
| ``compare.py`` | ``gnnviz compare``'s figures: curve bands, test metric per group, per-layer lift and KL, agreement |
| ``raster.py`` | big graphs as pixel grids in numpy (no matplotlib) |
| ``encode.py`` | one ``FigureSpec`` drawn and encoded as PNG (our encoder) or SVG bytes |

A new figure of an existing family is a function in that family's module; a new family is a new
module here. ``figures/`` says which figures exist and passes them their arrays.
"""
