"""What a trained run's arrays say, in pure numpy: numbers and arrays in, numbers and arrays out.

Used by ``gnnviz.viz`` (visualize, compare) and by training's attention snapshots
(``gnnviz.experiment``). Never imports torch, ``gnnviz.viz``, reads or writes files, or draws
(``tests/viz/test_package.py`` holds the first two).

| module | owns |
| --- | --- |
| ``arrays.py`` | the plain data types: ``RunArrays`` (one run's graph, labels, logits, embeddings, attention), ``LayerAttention``, ``EdgeCoefficients``, ``Checkpoint``; ``gnnviz.viz.load`` fills them |
| ``attention.py`` | numerical primitives on one layer's edges and weights: in-degree, entropy, its uniform baseline, KL, GCN coefficients, bins, one node's ``Neighbourhood``, class flow |
| ``insight.py`` | what attention learned: attention against labels (lift), ranking agreement, predictions with attention switched off |
| ``run.py`` | those applied to one ``RunArrays``: predictions, entropy per layer and head, ``attention_stats.json``'s numbers, insight, class flow, the hubs to draw (``top_degree``) |
| ``comparison.py`` | several ``RunArrays`` of one graph: grouped over seeds, aggregated, their predictions compared |

Adding an analysis: one new module here with a pure function of ``RunArrays`` (or of the arrays
it needs) returning a frozen dataclass with ``as_dict()``; the wiring into ``visualize`` is
listed in ``gnnviz.viz``'s docstring.
"""
