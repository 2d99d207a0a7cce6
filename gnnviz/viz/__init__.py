"""``gnnviz visualize``: a run directory in, figures and one page out, along one data flow.

    run directory --arrays.py--> RunArrays --analysis.py--> numbers --figures.py--> FigureSpecs
        --render.py--> files (figures, index.html from page.py, JSON)

| module | owns | never does |
| --- | --- | --- |
| ``arrays.py`` | run directory -> ``RunArrays`` (plain numpy); the forward pass and its cache; the only module here that imports torch (lazily) | drawing, files other than its cache |
| ``options.py`` | the command line's choices, checked alone and against the arrays (``Selection``) | reading files |
| ``attention.py`` | numerical primitives: entropy, KL, uniform baselines, GCN coefficients, bins | anything about runs |
| ``analysis.py`` | pure functions of ``RunArrays``: predictions, entropy per layer and head, ``attention_stats.json`` | files, drawing |
| ``layout.py``, ``embeddings.py`` | coordinates (igraph layouts, t-SNE), cached by content (``cache.py``) | drawing |
| ``figures.py`` | which figures exist and their titles/captions: ``FigureSpec`` lists, pure | files |
| ``plots.py`` | arrays -> ``matplotlib.figure.Figure``, pure | files, pyplot |
| ``page.py`` | ``index.html`` text, pure | files |
| ``render.py`` | drawing specs to bytes, and the only writer of output files (atomic), one JSON writer | analysis |
| ``report.py`` | ``visualize()``: the order of the steps, option checks before any write, timings | everything above |
| ``comparison.py`` | ``gnnviz compare``'s numbers: several ``RunArrays`` of one graph grouped over seeds, aggregated, their predictions compared (reusing ``analysis``/``insight``) | files, drawing |
| ``compare_plots.py``, ``compare_figures.py`` | compare's drawings and its ``FigureSpec`` list, pure (neighbourhoods reuse ``plots``) | files |
| ``compare.py`` | ``compare()``: input checks before any write, the order of the steps, the output folder rule | analysis, drawing |

Figure choices branch on what the arrays contain (attention layers present, fixed edge
coefficients present), never on the model's name. A test (``tests/viz/test_package.py``) keeps
torch out of every module but ``arrays.py``.

Adding an analysis: (1) a pure function ``f(arrays: RunArrays, ...) -> result`` in its own module
(numbers and numpy arrays; if it needs something the model computes, add a field to
``RunArrays`` and fill it in ``arrays._compute``, with its cache entry); (2) a ``FigureSpec`` for
it in ``figures.build`` (a ``plots.py`` function draws it); (3) its numbers in the JSON written
by ``report.visualize`` and, if wanted, a section in ``page.index_html``.
"""
