"""Page text, pure: arrays, analyses and the figure list in, file contents out; ``write.py``
writes them.

| module | owns |
| --- | --- |
| ``index.py`` | ``index.html``, one offline page of every figure, the run summary and the statistics: visualize's (``index_html``) and compare's (``compare_html``), one shared style |
| ``explorer.py`` | the interactive explorer: ``explorer.html`` and its ``explorer/`` folder (data, code from ``explorer_assets/``, vendored sigma.js and graphology) |
"""
