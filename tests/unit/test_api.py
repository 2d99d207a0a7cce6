"""The Python API (``gnnviz/api.py``) and the example notebook, run through a real Jupyter kernel."""

import base64
import json
import re
from pathlib import Path

import pytest

import gnnviz
from gnnviz.config import load_config
from gnnviz.errors import ConfigError, RunError

REPO = Path(__file__).resolve().parents[2]
KARATE = REPO / "configs" / "gat_karate.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return gnnviz.train(KARATE, out=tmp_path_factory.mktemp("api"), name="gat", training__epochs=6, **{"training.patience": 6})


def test_train_takes_the_clis_overrides_and_returns_the_run(run):
    assert isinstance(run, gnnviz.Run) and run.path.name == "gat"
    assert run.config["training"]["epochs"] == 6 and run.config["training"]["patience"] == 6
    assert len(run.metrics) == run.summary["epochs_run"] == 6 and run.summary["status"] == "completed"
    assert gnnviz.load_run(run.path).summary == run.summary


def test_train_from_a_config_object_applies_sets_after_keywords(tmp_path):
    cfg = load_config(KARATE, ["model.name=gcn", "model.hidden=8"])
    got = gnnviz.train(cfg, out=tmp_path, name="gcn", sets=["training.epochs=3"], training__patience=3)
    assert got.config["model"]["name"] == "gcn" and got.config["model"]["hidden"] == 8
    assert got.config["training"]["epochs"] == 3 and len(got.metrics) == 3


def test_bad_input_raises_the_clis_one_line_error_and_writes_nothing(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'training\.epoch'.*did you mean 'epochs'"):
        gnnviz.train(KARATE, out=tmp_path, training__epoch=3)
    with pytest.raises(ConfigError, match=r"^training\.epochs=0 must be at least 1$"):
        gnnviz.train(KARATE, out=tmp_path, training__epochs=0)
    with pytest.raises(ConfigError, match="seeds=0"):
        gnnviz.train(KARATE, out=tmp_path, seeds=0)
    with pytest.raises(RunError, match="missing config.yaml"):
        gnnviz.load_run(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_visualize_returns_the_figures_and_a_run_shows_them_inline(run, tmp_path):
    assert "No figures yet" in run._repr_html_() or run.viz is not None
    figs = run.visualize(tmp_path / "viz", embedding="pca", top_k=0, dpi=40)
    assert figs.folder == tmp_path / "viz" and run.viz == figs.folder
    names = [p.relative_to(figs.folder).as_posix() for p in figs]
    assert names[:4] == ["layout.png", "degree.png", "curves.png", "pca.png"] and "tsne.png" not in names
    assert figs["curves"] == figs.folder / "curves.png"
    with pytest.raises(KeyError, match="no figure 'tsne'"):
        figs["tsne"]
    page = run._repr_html_()
    embedded = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert [base64.b64decode(b) for b in embedded] == [p.read_bytes() for p in figs]
    assert f"<td>{run.summary['test_metric']:.4g}</td>" in page and "<td>karate</td>" in page
    assert run.explorer().src.endswith("viz/explorer.html")
    with pytest.raises(ConfigError, match="--embedding 'umpa'"):
        run.visualize(tmp_path / "other", embedding="umpa")
    assert not (tmp_path / "other").exists()


def test_compare_takes_runs_and_paths(run, tmp_path):
    other = gnnviz.train(KARATE, out=tmp_path, name="s1", run__seed=1, training__epochs=6, training__patience=6)
    figs = gnnviz.compare([run, other.path], tmp_path / "cmp", top_k=0, dpi=40)
    assert figs.folder == tmp_path / "cmp" and figs and all(p.is_file() for p in figs)
    assert (tmp_path / "cmp" / "compare.json").is_file()


def test_the_example_notebook_runs_in_a_jupyter_kernel(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(REPO / "examples" / "karate.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = f'CONFIG = {str(KARATE)!r}\nOUT = "out"\nEPOCHS = 8'
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    (folder,) = (tmp_path / "out").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["epochs_run"] == 8 and summary["dataset"] == "karate"

    def outputs(marker):
        cell = next(c for c in nb.cells if c.cell_type == "code" and marker in c.source)
        assert all(o.output_type != "error" for o in cell.outputs)
        return cell.outputs

    shown = outputs("gnnviz.train(")[-1].data["text/html"]
    assert f"<code>out/{folder.name}</code>" in shown and f"<td>{summary['test_metric']:.4g}</td>" in shown
    images = [base64.b64decode(o.data["image/png"]) for o in outputs("display(Image") if "image/png" in o.get("data", {})]
    assert images == [(folder / "viz" / f"{s}.png").read_bytes() for s in ("layout", "curves", "pca", "entropy")]
    rows = [line.split(",") for line in (folder / "metrics.csv").read_text().splitlines()]
    val = [float(r[rows[0].index("val_metric")]) for r in rows[1:]]
    printed = "".join(o.text for o in outputs("best = max(") if o.output_type == "stream")
    assert printed.startswith(f"8 epochs; best validation accuracy {max(val):.3f} at epoch {val.index(max(val)) + 1}")
    iframe = outputs("run.explorer()")[-1].data["text/html"]
    src = re.search(r'src="([^"]+)"', iframe).group(1)
    assert (tmp_path / src).resolve() == (folder / "viz" / "explorer.html").resolve() and (tmp_path / src).is_file()
