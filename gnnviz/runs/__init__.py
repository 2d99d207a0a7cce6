"""The run directory: its format, creating it, storing its files, checking them, its status, listing.

Floor plan (each module imports only those above it):

- ``layout``: the format (file names, ``METRIC_COLUMNS``, ``CHECKPOINT_FORMAT``/``VERSION``,
  ``REQUIRED``; the format is described in its docstring), and the names and creation of run folders;
- ``schema``: what each JSON file may hold (fields' types, ranges, rules between them), checked on read;
- ``store``: writing and reading each file (``MetricsWriter``, ``save_*``, ``record_final``,
  ``read_json``, ``read_summary``, ``read_metrics``, ``read_graphs``/``load_graphs``);
- ``status``: the process writing a run, whether it is alive, whether the run finished;
- ``checks``: the files agree (checkpoint vs config.yaml, summary.json and graph.pt);
- ``load``: a run opened and checked (``load_run``, ``load_checkpoint``);
- ``listing``: ``gnnviz runs`` (``RunInfo``, ``list_runs``, ``describe_run``).
"""
