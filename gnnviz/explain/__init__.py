"""``gnnviz explain``: why a node got its prediction, per method, scored where the answer is known.

``run.py`` the pipeline (run directory -> explanations -> ``explain.json`` and pictures);
``methods.py`` the ``METHODS`` table (PyG's ``GNNExplainer``, ``CaptumExplainer`` and ``PGExplainer``, and attention
read as an explanation); ``attention.py`` the three attention readings (last layer, mean over
layers, the computation-tree attribution); ``nodes.py`` which nodes are explained by default;
``scores.py`` ROC AUC against a known explanation and PyG's fidelity; ``draw.py`` the pure figures.
"""
