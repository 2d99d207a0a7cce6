"""Unit tests, mirroring the gnnviz packages: a folder per package, a file per module or concern."""
