"""Training: the epoch loop and the steps it runs. Never touches files.

- ``loop``: ``fit`` (the epoch loop), ``FitResult``, ``EarlyStopping``.
- ``steps``: ``make_steps`` and the step/eval builders (full batch, graph batches, seed-node
  batches and ranks), ``batching_note``, ``check_batching``.
- ``tasks``: loss and metric by task (``loss_fn``, ``loss_sum``, ``metric_counts``, ``metric_value``).
- ``device``: ``resolve_device`` (``--device`` -> a torch device).

Seeding lives in ``gnnviz.seeding``; the fast path's plans and kernels in ``gnnviz.models.fast``.
"""
