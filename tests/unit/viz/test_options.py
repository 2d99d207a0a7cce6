"""Option checks that need no run: format, dpi, top-k; and the hub choice with its ties."""

import numpy as np
import pytest

from gnnviz.analysis.run import top_degree
from gnnviz.errors import ConfigError
from gnnviz.viz.options import DEFAULT_DPI, Options


@pytest.mark.parametrize("dpi", [0, -1, 29, 1201, 10**6, 1.5, True])
def test_bad_dpi_is_refused_with_the_range(dpi):
    with pytest.raises(ConfigError, match=r"--dpi .* is out of range; pass a whole number from 30 to 1200 \(default 200\)"):
        Options(dpi=dpi).check()


def test_default_dpi_is_fit_for_print():
    assert DEFAULT_DPI >= 200
    Options().check()


def test_top_degree_breaks_ties_by_id_and_says_so():
    degree = np.array([5, 9, 5, 5, 1])
    nodes, note = top_degree(degree, 2)
    assert nodes == [1, 0]
    assert note == "3 nodes tie at degree 5; the lowest ids were drawn (1 of them)"
    assert top_degree(degree, 4) == ([1, 0, 2, 3], None)  # every tied node drawn: nothing to say
    assert top_degree(degree, 0) == ([], None)
