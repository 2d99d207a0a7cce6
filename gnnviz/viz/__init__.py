"""``gnnviz visualize`` and ``gnnviz compare``: run directories in, figures and pages out, one way.

    run directory --load.py--> RunArrays --gnnviz.analysis--> numbers --figures/--> FigureSpecs
        --draw/ (Figure, then bytes: draw/encode.py)--> write.py --> files (figures, JSON, pages/ HTML)

| place | owns | never does |
| --- | --- | --- |
| ``load.py`` | run directory -> ``RunArrays`` (``gnnviz.analysis.arrays``): the forward pass and its cache; the only module here that imports torch (lazily) | drawing, files other than its cache |
| ``options.py`` | the command line's choices, checked alone (``Options.check``) and against the arrays (``select`` -> ``Selection``) | reading files |
| ``labels.py`` | class names of the datasets that have them | torch |
| ``cache.py`` | the on-disk ``.npz`` cache (forward pass, layouts, t-SNE, figures), keyed by content | knowing what an entry means |
| ``coords/`` | coordinates: ``layout.py`` (igraph layouts of the whole graph), ``embeddings.py`` (t-SNE, UMAP, PCA), cached | drawing |
| ``figures/`` | which figures exist, their titles and captions: ``FigureSpec`` lists, pure (``run.py`` for visualize, ``compare.py`` for compare) | drawing, files |
| ``draw/`` | pure ``matplotlib.figure.Figure`` builders, one module per figure family, and ``encode.py`` (a spec to PNG/SVG bytes) | files, pyplot |
| ``pages/`` | page text, pure: ``index.py`` (``index.html``), ``explorer.py`` (the interactive explorer's files) | files |
| ``explained.py`` | which ``explain.json`` the explorer shows (same checkpoint and graph bytes) and, for ``gnnviz explain``, the rewrite of an explorer's ``explorer/explain.js`` (its one file written outside ``write.py``) | drawing |
| ``write.py`` | the only writer of output files (atomic), the figure cache, signals held between figures, one JSON encoder | analysis, drawing code |
| ``visualize.py`` | ``visualize()``: the order of the steps, every check before the first write, timings | everything above |
| ``compare.py`` | ``compare()``: input checks before any write, the order of the steps, the output folder rule | analysis, drawing |

The numbers live in ``gnnviz.analysis`` (pure numpy; it never imports ``gnnviz.viz``). Figure
choices branch on what the arrays contain (attention layers present, fixed edge coefficients
present), never on the model's name. ``tests/viz/test_package.py`` keeps torch out of every
module here but ``load.py``, and ``gnnviz.viz`` out of ``gnnviz.analysis``.

Adding an analysis, e.g. ``foo``:

1. One new module, ``gnnviz/analysis/foo.py``: ``foo(a: RunArrays, layers: list[int]) -> Foo | None``,
   ``Foo`` a frozen dataclass with ``as_dict()`` (numbers and numpy arrays; None where the run
   has nothing to measure). If it needs something the model computes, add a field to
   ``RunArrays`` (``analysis/arrays.py``), fill it in ``load._compute``, cache it in
   ``load._to_cache``/``_from_cache``/``_check`` and bump ``load.FORWARD_VERSION``.
2. ``visualize.py``: call it in a ``with timer(...)`` block and put ``found.as_dict()`` under
   ``stats["foo"]`` (``attention_stats.json``), as ``analysis.insight`` is.
3. ``figures/run.py``: a ``foo`` field on ``Context`` (passed where ``visualize.py`` builds it)
   and, in ``build``, ``FigureSpec``s whose plot function lives in the ``draw/`` module of its
   family (a new ``draw/foo.py`` for a new family).
4. If wanted, a section in ``pages/index.index_html``.
"""
