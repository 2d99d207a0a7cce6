"""gnnviz: train graph neural networks with PyTorch Geometric and see what they learned."""

__version__ = "0.1.0"
