"""Helpers the tests share (no tests here).

- ``cli``: the one way to run ``gnnviz``, in process (``run_cli``) or as ``python -m gnnviz`` (``gnnviz``).
- ``runs``: copy, list, draw and hand-make run directories; the tiny graphs.
- ``tolerance``: float32 tolerances from the number of steps, not from one machine.
- ``faultkit`` (injects faults at the OS boundary; ``python -m tests.support.faultkit``) and
  ``faultcases`` (the fault sweeps' invariants and fixtures).
- ``ogb_fixture``, ``ppi_fixture``: small datasets in OGB's and PPI's raw layouts.
- ``explorer_inputs``: the explorer page's inputs from a trained run (tests/browser, bench/explorer.py).
"""
