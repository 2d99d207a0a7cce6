"""The renderer: signals wait for the figure being drawn; strict JSON; atomic files."""

import json
import os
import signal

import numpy as np
import pytest
from matplotlib.figure import Figure

from gnnviz.viz import write as render
from gnnviz.viz.draw.encode import render_figure
from gnnviz.viz.figures.run import FigureSpec


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

    from gnnviz.viz.figures.run import FigureSpec

    def plot(alpha: float) -> Figure:
        fig = Figure(figsize=(2, 1.5))
        fig.patch.set_alpha(alpha)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], lw=3)
        ax.set_title("weights 0.25")
        return fig

    for alpha, mode in ((1.0, "RGB"), (0.0, "RGBA")):
        ours = Image.open(io.BytesIO(render_figure(FigureSpec("f", "s", "c", plot, (alpha,), {}), "png", 120)))
        ref = io.BytesIO()
        plot(alpha).savefig(ref, format="png", dpi=120)
        theirs = Image.open(ref)
        assert ours.mode == mode and ours.size == theirs.size == (240, 180)
        assert round(ours.info["dpi"][0]) == 120
        assert np.array_equal(np.asarray(ours.convert("RGBA")), np.asarray(theirs.convert("RGBA")))


# ----------------------------------------------------------------------------- the figure cache


DRAWN: list[str] = []


def _line(values, colour="C0", **_):
    DRAWN.append(colour)
    fig = Figure(figsize=(2, 1.5))
    fig.add_subplot().plot(values, color=colour)
    return fig


def _specs(colour="C0"):
    return [
        FigureSpec("a", "s", "c", _line, (np.arange(5.0),), {"colour": colour}),
        FigureSpec("sub/b", "s", "c", _line, ([3, 1, 2],), {}),
    ]


def test_figures_drawn_before_come_from_the_cache_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    DRAWN.clear()
    first, cached = render.render_cached(_specs(), "png", 40)
    assert not cached and DRAWN == ["C0", "C0"]
    seconds = {}
    again, cached = render.render_cached(_specs(), "png", 40, seconds)
    assert cached and again == first and len(DRAWN) == 2, "drawn again although nothing changed"
    assert seconds == {"a": 0.0, "sub/b": 0.0}
    # Anything a figure is drawn from is in the key: an argument, the dpi, the format.
    for specs, fmt, dpi in ((_specs("C1"), "png", 40), (_specs(), "png", 41), (_specs(), "svg", 40)):
        images, cached = render.render_cached(specs, fmt, dpi)
        assert not cached and images != first
    assert len(DRAWN) == 8


@pytest.mark.parametrize("damage", ["flip", "truncate", "other"])
def test_a_damaged_or_foreign_figure_entry_is_drawn_again_never_served(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    good, _ = render.render_cached(_specs(), "png", 40)
    (entry,) = (tmp_path / "figures").iterdir()
    if damage == "other":  # a whole, valid entry, but of other figures with the same names
        other, _ = render.render_cached(_specs("C2"), "png", 40)
        (newer,) = [p for p in (tmp_path / "figures").iterdir() if p != entry]
        entry.write_bytes(newer.read_bytes())
    else:
        from tests.support.faultcases import damages

        data = entry.read_bytes()
        entry.write_bytes(damages(data)["corrupt" if damage == "flip" else "truncated"])
    DRAWN.clear()
    images, cached = render.render_cached(_specs(), "png", 40)
    assert not cached and DRAWN == ["C0", "C0"] and images == good


def test_figures_whose_arguments_cannot_be_pickled_are_drawn_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNVIZ_CACHE_DIR", str(tmp_path))
    specs = [FigureSpec("a", "s", "c", _line, ([1, 2],), {"colour": "C3", "unused": lambda: None})]
    DRAWN.clear()
    for _ in range(2):
        _, cached = render.render_cached(specs, "png", 40)
        assert not cached
    assert DRAWN == ["C3", "C3"] and not (tmp_path / "figures").exists()


def _diagonal(k):
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, k], [k, 0])
    return fig


def test_with_the_helper_every_second_figure_is_drawn_there_the_same():
    from gnnviz.viz.helper import Helper

    specs = [FigureSpec(f"f{k}", "s", "c", _diagonal, (k,), {}) for k in range(5)]
    alone = render.render_all(specs, "png", 40)
    steps, seconds = [], {}
    with Helper() as helper:
        shared = render.render_all(specs, "png", 40, seconds, lambda done, total, stem: steps.append((done, total)), helper)
        assert helper.cpu_seconds > 0  # it drew
    assert shared == alone and len(set(alone)) == 5
    assert steps == [(k, 5) for k in range(1, 6)] and set(seconds) == {f"f{k}" for k in range(5)}
