"""gnnviz: train graph neural networks with PyTorch Geometric and see what they learned."""

__version__ = "0.1.0"

# The Python API (gnnviz/api.py), loaded on first use so that `gnnviz --help` stays fast:
# gnnviz.train, gnnviz.load_run, gnnviz.figures, gnnviz.compare, gnnviz.Run, gnnviz.Figures.
API = ("train", "load_run", "figures", "compare", "Run", "Figures")


def __getattr__(name: str):
    if name in API:
        from gnnviz import api

        return getattr(api, name)
    raise AttributeError(f"module 'gnnviz' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
