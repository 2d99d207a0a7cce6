"""Figure descriptions, pure: which figures exist, their file stems, page sections, titles and
captions, as ``FigureSpec`` lists (a ``draw/`` function and its arguments). Nothing is drawn or
written here: ``write.py`` draws the specs (``draw/encode.py``) and writes them.

| module | owns |
| --- | --- |
| ``run.py`` | ``FigureSpec``, ``Context`` and ``build(context)`` for ``gnnviz visualize``; the shared title helpers (``literal``, ``num``, ``sci``) and run colours |
| ``compare.py`` | ``build`` for ``gnnviz compare``: a ``Comparison`` in, its ``FigureSpec`` list out |

Which figures exist branches on what the arrays contain (attention layers, fixed edge
coefficients), never on the model's name.
"""
