"""The renderer: signals wait for the figure being drawn; strict JSON; atomic files."""

import json
import os
import signal

import numpy as np
import pytest
from matplotlib.figure import Figure

from gnnviz.viz import render
from gnnviz.viz.figures import FigureSpec


def _spec(plot):
    return FigureSpec("x", "s", "c", plot, (), {})


def test_ctrl_c_while_drawing_stops_after_that_figure_with_keyboard_interrupt():
    events = []

    def first():
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of this figure
        events.append("first finished")
        fig = Figure()
        fig.add_subplot().plot([0, 1])
        return fig

    def second():
        events.append("second started")
        return Figure()

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        render.render_all([_spec(first), _spec(second)], "png", 50)
    assert events == ["first finished"]
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored


def test_a_drawing_error_is_not_masked_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)

    def broken():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        render.render_all([_spec(broken)], "png", 50)
    assert signal.getsignal(signal.SIGTERM) is before


def test_json_is_strict_and_takes_numpy_numbers():
    text = render.to_json({"a": float("nan"), "b": np.float32(0.5), "c": np.int64(3), "d": [np.inf]})
    assert json.loads(text) == {"a": None, "b": 0.5, "c": 3, "d": [None]}


def test_writer_leaves_no_temporary_files(tmp_path):
    w = render.Writer(tmp_path / "out")
    w.json("sub/stats.json", {"x": 1})
    w.text("index.html", "<html></html>\n")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "index.html",
        "sub/stats.json",
    ]
    assert w.written == ["sub/stats.json", "index.html"]


def test_png_has_the_pixels_matplotlib_would_write(tmp_path):
    """render's own PNG encoder: the pixels and dpi of matplotlib's savefig, RGB when opaque, RGBA
    (alpha kept) when not."""
    import io

    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    from gnnviz.viz.figures import FigureSpec

    def plot(alpha: float) -> Figure:
        fig = Figure(figsize=(2, 1.5))
        fig.patch.set_alpha(alpha)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], lw=3)
        ax.set_title("weights 0.25")
        return fig

    for alpha, mode in ((1.0, "RGB"), (0.0, "RGBA")):
        ours = Image.open(io.BytesIO(render.render_figure(FigureSpec("f", "s", "c", plot, (alpha,), {}), "png", 120)))
        ref = io.BytesIO()
        plot(alpha).savefig(ref, format="png", dpi=120)
        theirs = Image.open(ref)
        assert ours.mode == mode and ours.size == theirs.size == (240, 180)
        assert round(ours.info["dpi"][0]) == 120
        assert np.array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs.convert("RGBA")))
