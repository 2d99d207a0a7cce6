"""Models: the model table's layers (``architectures.MODELS``) and the fast path that trains them.

- ``gnn``: the ``GNN`` layer stack (PyG convs; ``forward`` with per-layer embeddings and
  attention, layer-wise ``inference``), the layer builders the table names (``gat_conv``,
  ``gcn_conv``, ...), ``build_model``, ``rebuild`` (from a checkpoint), ``num_params``,
  ``gcn_coefficients``.
- ``fast``: the fast path (``training.fast``): plans of a graph for a split's nodes, and the
  kernels that run GAT and GCN over them (``gat_kernel``, ``gcn_kernel``, ``gat_inference``),
  with the sparse patterns and products they are made of.
"""
