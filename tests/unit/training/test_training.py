import math

import pytest
import torch
from sklearn.metrics import f1_score

from gnnviz.config import load_config
from gnnviz.datasets import load_dataset
from gnnviz.datasets.base import MULTICLASS, MULTILABEL
from gnnviz.errors import ConfigError
from gnnviz.models.gnn import build_model
from gnnviz.seeding import seed_everything
from gnnviz.training.device import resolve_device
from gnnviz.training.loop import fit
from gnnviz.training.tasks import metric_counts, metric_value
from tests.support.ppi_fixture import write_ppi_raw
from tests.support.tolerance import float32_atol

CPU = torch.device("cpu")


def train(dataset_name="karate", overrides=(), root=None, **fit_kw):
    cfg = load_config(None, [f"dataset.name={dataset_name}", *overrides])
    ds = load_dataset(cfg.dataset.name, root, normalize_features=cfg.dataset.normalize_features)
    seed_everything(cfg.run.seed)
    model = build_model(cfg.model, ds.num_features, ds.num_classes)
    t = cfg.training
    kw = dict(epochs=t.epochs, patience=t.patience, lr=t.lr, weight_decay=t.weight_decay, device=CPU,
              seed=cfg.run.seed, fast=t.fast, batch_size=cfg.dataset.batch_size, stopping=t.early_stopping)  # fmt: skip
    kw.update(fit_kw)
    return fit(model, ds, **kw), model, ds


def test_accuracy_metric():
    out = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert metric_value(MULTICLASS, metric_counts(MULTICLASS, out, torch.tensor([0, 1, 1]))) == pytest.approx(2 / 3)


def test_micro_f1_matches_sklearn():
    torch.manual_seed(0)
    logits = torch.randn(40, 6)
    y = (torch.rand(40, 6) > 0.6).float()
    ours = metric_value(MULTILABEL, metric_counts(MULTILABEL, logits, y))
    assert ours == pytest.approx(f1_score(y.numpy(), (logits > 0).numpy(), average="micro"))
    half = metric_counts(MULTILABEL, logits[:20], y[:20]) + metric_counts(MULTILABEL, logits[20:], y[20:])
    assert metric_value(MULTILABEL, half) == pytest.approx(ours), "counts add up over batches"


def test_karate_learns_and_reports_every_epoch():
    rows = []
    result, _, _ = train(overrides=["training.epochs=60", "training.patience=0"], on_epoch=rows.append)
    assert result.status == "completed" and result.epochs_run == 60 == len(rows)
    assert [r["epoch"] for r in rows] == list(range(1, 61))
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert result.test_metric > 0.5  # 4 balanced-ish classes: chance is about 0.3


def test_best_state_is_restored_and_test_taken_there():
    result, model, ds = train(overrides=["training.epochs=80", "training.patience=10", "training.early_stopping=metric"])
    best = result.history[result.best_epoch - 1]
    assert result.val_metric == best["val_metric"] == max(r["val_metric"] for r in result.history)
    g = ds.train[0]
    model.eval()
    with torch.no_grad():
        pred = model(g.x, g.edge_index).argmax(1)
    assert (pred[g.val_mask] == g.y[g.val_mask]).float().mean().item() == pytest.approx(result.val_metric)
    assert (pred[g.test_mask] == g.y[g.test_mask]).float().mean().item() == pytest.approx(result.test_metric)


def test_early_stopping_ends_after_patience():
    result, _, _ = train(
        overrides=["training.epochs=500", "training.patience=5", "training.lr=0.05", "training.early_stopping=metric"]
    )
    assert result.status == "early_stopped"
    assert result.epochs_run - result.best_epoch == 5


def test_gat_paper_rule_keeps_the_state_where_metric_and_loss_are_both_best():
    result, _, _ = train(overrides=["training.epochs=500", "training.patience=8", "training.lr=0.05"])
    h = result.history
    assert result.status == "early_stopped"
    upto = h[: result.best_epoch]
    kept = h[result.best_epoch - 1]
    assert kept["val_metric"] == max(r["val_metric"] for r in upto) == result.val_metric
    assert kept["val_loss"] == min(r["val_loss"] for r in upto)
    # Stopped because the last `patience` epochs set neither a new best metric nor a new lowest loss.
    before = h[:-8]
    best_metric, low_loss = max(r["val_metric"] for r in before), min(r["val_loss"] for r in before)
    assert all(r["val_metric"] < best_metric and r["val_loss"] > low_loss for r in h[-8:])


def test_loss_rule_keeps_the_state_of_lowest_validation_loss():
    result, _, _ = train(
        overrides=["training.epochs=300", "training.patience=6", "training.lr=0.05", "training.early_stopping=loss"]
    )
    h = result.history
    kept = h[result.best_epoch - 1]
    assert kept["val_loss"] == min(r["val_loss"] for r in h) and result.val_metric == kept["val_metric"]
    assert result.best_epoch == next(r["epoch"] for r in h if r["val_loss"] == kept["val_loss"])  # the first such epoch
    assert result.status == "early_stopped" and result.epochs_run - result.best_epoch == 6


def _history(losses):
    return [{"epoch": i + 1, "val_loss": v, "val_metric": 0.5} for i, v in enumerate(losses)]


def test_train_warns_when_the_selected_state_is_far_before_the_loss_minimum_or_untrained():
    from gnnviz.experiment import selected_state_warning
    from gnnviz.training.loop import FitResult, KeptState

    def result(best, losses, val=0.5, last_val=0.5):
        nan = float("nan")
        states = {"selected": KeptState(best, {}, val, nan, 0.5), "min-loss": KeptState(len(losses), {}, last_val, nan, 0.6)}
        states["last"] = states["min-loss"]
        return FitResult("completed", best, len(losses), val, 0.5, {}, 1.0, history=_history(losses), states=states)

    falling = [2.0 - i / 100 for i in range(200)]  # the loss falls for all 200 epochs
    warning = selected_state_warning(result(10, falling), "accuracy", None)
    assert warning and "epoch 10" in warning and "until epoch 200 of 200" in warning and "--state min-loss" in warning
    assert warning.endswith("; the run also keeps min-loss and last (epoch 200: val accuracy 0.5000, test 0.6000)")
    assert selected_state_warning(result(190, falling), "accuracy", None) is None  # near the minimum
    assert selected_state_warning(result(0, [float("nan")] * 5), "accuracy", None) is None  # no finite loss
    # Near the minimum but no better than always predicting the most common class: untrained.
    untrained = selected_state_warning(result(190, falling, val=0.02, last_val=0.23), "accuracy", 0.25)
    assert untrained and "no better than always predicting the most common class (0.250)" in untrained
    assert "--state last" in untrained


@pytest.mark.parametrize("fast", [True, False])
def test_same_seed_same_history(fast):
    runs = [train(overrides=["training.epochs=25", f"training.fast={str(fast).lower()}"])[0] for _ in range(2)]
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in res.history] for res in runs]
    assert strip[0] == strip[1]


def test_interrupt_keeps_the_best_state():
    def stop(row):
        if row["epoch"] == 7:
            raise KeyboardInterrupt

    result, _, _ = train(overrides=["training.epochs=100"], on_epoch=stop)
    assert result.status == "interrupted" and result.epochs_run == 7
    assert isinstance(result.interrupt, KeyboardInterrupt) and 1 <= result.best_epoch <= 7
    assert not math.isnan(result.test_metric)


def test_divergence_stops_with_a_message():
    result, model, _ = train(overrides=["training.epochs=50", "training.lr=1e30", "model.dropout=0.0"])
    assert result.status == "diverged" and "diverged" in result.message and "lower training.lr" in result.message
    assert all(torch.isfinite(v).all() for v in result.best_state.values())


def test_device_rules():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available.*use --device cpu or auto"):
            resolve_device("cuda:1")


def test_gnn_beats_trivial_predictor_on_ppi_format(tmp_path):
    write_ppi_raw(tmp_path / "PPI", graphs=(10, 2, 2), labels=8)
    result, _, ds = train(
        "ppi", ["model.name=gat", "model.hidden=64", "model.heads=4", "model.dropout=0.0", "model.attn_dropout=0.0",
                "training.epochs=60", "training.patience=20", "training.lr=0.01", "dataset.batch_size=2"],
        root=tmp_path,
    )  # fmt: skip
    # Trivial predictor: per label, the majority value seen in training, ignoring the graph.
    y_train = torch.cat([g.y for g in ds.train])
    majority = (y_train.mean(0) > 0.5).float()
    y_test = torch.cat([g.y for g in ds.test])
    trivial = max(
        metric_value(MULTILABEL, metric_counts(MULTILABEL, (majority * 2 - 1).expand_as(y_test), y_test)),
        metric_value(MULTILABEL, metric_counts(MULTILABEL, torch.ones_like(y_test), y_test)),  # "all positive"
    )
    assert result.test_metric > trivial + 0.05, (result.test_metric, trivial)


# ----------------------------------------------------------------------------- the stopping rules

# A hand-made validation history (metric, loss) per epoch, and what each rule makes of it with
# patience 3. "metric": epoch 2 raises the metric, epoch 4 ties it with a lower loss (kept), epoch
# 6 ties it with a higher loss (not kept): stop after 7 with epoch 4. "metric_or_loss": only epoch
# 1 has the best metric and the lowest loss at once (kept); epochs 2-7 each reach the best metric
# or the lowest loss so far (4 and 6 by a metric tie, 7 by a loss tie); 8-10 do neither: stop
# after 10 with epoch 1. Were ties not counted, it would stop after 6; were ties not broken by
# the loss under "metric", it would keep epoch 2 or 6.
HISTORY = [(0.50, 1.00), (0.70, 1.20), (0.60, 0.90), (0.70, 0.95), (0.65, 0.92),
           (0.70, 0.99), (0.60, 0.90), (0.69, 0.91), (0.68, 0.95), (0.50, 1.00)]  # fmt: skip
HISTORY += [(0.1, 5.0)] * 10
RULES = {"metric": (4, 7), "metric_or_loss": (1, 10)}


def scripted_fit(monkeypatch, rule, patience, history=HISTORY):
    """``fit`` on a model whose weight is the epoch number, with ``history`` as its validation results."""
    import gnnviz.training.loop as training

    model = torch.nn.Linear(1, 1, bias=False)
    epoch = [0]

    def make_steps(*args, **kwargs):
        def train_step():
            epoch[0] += 1
            with torch.no_grad():
                model.weight.fill_(epoch[0])
            return 1.0, 0.5

        def evaluate(split):
            if split == "test":  # the test metric names the state it was taken with
                return 0.0, float(model.weight.item())
            return history[epoch[0] - 1][1], history[epoch[0] - 1][0]

        return train_step, evaluate

    monkeypatch.setattr(training, "make_steps", make_steps)
    return fit(model, None, epochs=len(history), patience=patience, lr=0.1, weight_decay=0.0, device=CPU, seed=0,
               stopping=rule)  # fmt: skip


@pytest.mark.parametrize("rule", sorted(RULES))
def test_stopping_rules_on_a_known_history(monkeypatch, rule):
    best, stop = RULES[rule]
    result = scripted_fit(monkeypatch, rule, patience=3)
    assert (result.best_epoch, result.epochs_run, result.status) == (best, stop, "early_stopped")
    assert result.val_metric == HISTORY[best - 1][0]
    assert result.test_metric == best, "the test metric is taken with the kept state"
    assert result.best_state["weight"].item() == best


@pytest.mark.parametrize("rule", sorted(RULES))
def test_patience_zero_never_stops(monkeypatch, rule):
    result = scripted_fit(monkeypatch, rule, patience=0)
    assert result.status == "completed" and result.epochs_run == len(HISTORY) and result.best_epoch == RULES[rule][0]


# ----------------------------------------------------------------------------- seed-node mini-batches


def _steps(name, node_batch, fast, k=5, **kw):
    """Parameters of a dropout-free model after ``k`` training steps on karate."""
    from gnnviz.models.gnn import GNN
    from gnnviz.training.steps import make_steps

    ds = load_dataset("karate", None, normalize_features=False)
    extra = {"gat": dict(heads=2, out_heads=1, attn_dropout=0.0), "gcn": {}, "sage": dict(aggr="mean")}[name]
    torch.manual_seed(0)
    model = GNN(name, ds.num_features, ds.num_classes, 8, dropout=0.0, **extra)
    step, evaluate = make_steps(model, ds, lr=0.01, weight_decay=5e-4, device=CPU, seed=0, fast=fast, node_batch=node_batch, **kw)
    losses = [step()[0] for _ in range(k)]
    return [p.detach().clone() for p in model.parameters()], losses, evaluate


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("name", ["gat", "gcn", "sage"])
def test_one_mini_batch_of_every_seed_is_full_batch_training(name, fast):
    """batch_size >= the number of seeds: one batch of exact receptive fields per epoch, the same
    steps as full-batch training (parameters within float32 rounding of 5 steps in another
    summation order, see tests/support/tolerance.py; measured <= 1e-7)."""
    seeds = int(load_dataset("karate", None).train[0].train_mask.sum())
    full, full_losses, _ = _steps(name, 0, fast)
    atol = float32_atol(full, steps=5)
    for node_batch in (seeds, 10 * seeds):
        mini, losses, _ = _steps(name, node_batch, fast)
        for a, b in zip(full, mini, strict=True):
            torch.testing.assert_close(a, b, atol=atol, rtol=0)
        assert losses == pytest.approx(full_losses, abs=atol)


def test_small_mini_batches_take_one_step_each():
    """Batches of 3 of karate's 16 seeds: 6 optimiser steps an epoch (the last batch of 1 seed
    joins the one before only when ranks outnumber it), so after one epoch the parameters have
    moved further from full batch's single step than full batch moved in one."""
    from gnnviz.models.gnn import GNN
    from gnnviz.training.steps import make_steps

    ds = load_dataset("karate", None, normalize_features=False)
    torch.manual_seed(0)
    model = GNN("gcn", ds.num_features, ds.num_classes, 8, dropout=0.0)
    start = [p.detach().clone() for p in model.parameters()]
    steps = []
    opt_step = torch.optim.Adam.step

    def counting(self, *a, **k):
        steps.append(1)
        return opt_step(self, *a, **k)

    torch.optim.Adam.step = counting
    try:
        step, _ = make_steps(model, ds, lr=0.01, weight_decay=0.0, device=CPU, seed=0, node_batch=3)
        loss, metric = step()
    finally:
        torch.optim.Adam.step = opt_step
    assert len(steps) == 6
    assert math.isfinite(loss) and 0.0 <= metric <= 1.0
    assert any(not torch.equal(a, b) for a, b in zip(start, model.parameters(), strict=True))


def test_num_neighbors_without_a_sampler_trains_on_exact_receptive_fields(monkeypatch):
    """No pyg-lib or torch-sparse: training.num_neighbors cannot sample, so batches are exact (the
    log says so) and training is the same as without it."""
    from gnnviz.training import steps as training

    monkeypatch.setattr(training, "sampler_available", lambda: False)
    exact, _, _ = _steps("gat", 4, True)
    sampled, _, _ = _steps("gat", 4, True, num_neighbors=[2, 2])
    for a, b in zip(exact, sampled, strict=True):
        assert torch.equal(a, b)
    note = training.batching_note(4, [2, 2])
    assert "exact receptive fields" in note and "neither is installed" in note


def test_mini_batch_evaluation_is_full_graph():
    """Mini-batch training evaluates with layer-wise full-neighbour inference: the same numbers
    as full-batch evaluation of the same parameters."""
    from gnnviz.models.gnn import GNN
    from gnnviz.training.steps import make_steps

    ds = load_dataset("karate", None, normalize_features=False)
    torch.manual_seed(0)
    model = GNN("gat", ds.num_features, ds.num_classes, 8, heads=2, out_heads=1)
    _, full_eval = make_steps(model, ds, lr=0.01, weight_decay=0.0, device=CPU, seed=0)
    _, mini_eval = make_steps(model, ds, lr=0.01, weight_decay=0.0, device=CPU, seed=0, node_batch=4)
    for split in ("val", "test"):
        assert mini_eval(split) == pytest.approx(full_eval(split), abs=1e-6)


def test_seed_batches_need_a_single_graph(tmp_path):
    write_ppi_raw(tmp_path / "PPI", graphs=(2, 1, 1), labels=4)
    with pytest.raises(ConfigError, match="training.batch_size .seed nodes. is for single-graph datasets"):
        train("ppi", ["training.batch_size=8", "training.epochs=1"], root=tmp_path, node_batch=8)


@pytest.mark.parametrize("model", ["gat", "gatv2", "gcn", "sage"])
def test_a_model_too_large_for_the_memory_left_is_refused_before_anything_is_created(tmp_path, monkeypatch, model):
    # The OOM killer would end it with SIGKILL: no message, a run left "running". Memory is
    # pretended scarce here (nothing large is ever allocated by this test).
    from gnnviz import experiment
    from gnnviz.config import load_config
    from gnnviz.errors import ConfigError

    cfg = load_config(None, ["dataset.name=karate", f"model.name={model}", "training.epochs=2"])
    params = experiment.num_params(experiment.build_model(cfg.model, 34, 4))
    monkeypatch.setattr(experiment, "_available_memory", lambda device: 16 * params - 1)
    with pytest.raises(ConfigError) as exc:
        experiment.train(cfg, out=tmp_path / "out", quiet=True)
    assert f"make a model of {params:,} parameters that needs at least" in str(exc.value)
    assert str(exc.value).endswith("choose a smaller model (--set model.hidden=...)")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    monkeypatch.setattr(experiment, "_available_memory", lambda device: 64 * params + (1 << 20))
    assert (experiment.train(cfg, out=tmp_path / "out", quiet=True) / "checkpoint.pt").is_file()


# ----------------------------------------------------------------------------- PyG's NeighborLoader path
#
# pyg-lib and torch-sparse are not on PyPI, so the sampled path is exercised through PyG's real
# NeighborLoader with torch-sparse's one kernel, ``torch_sparse::neighbor_sample``, written here in
# plain torch: it takes the first ``k`` incoming edges of each frontier node in CSC order (all of
# them for -1), seeds first, as torch-sparse does (without its randomness).

SAMPLED: list[int] = []
_KERNEL: list = []


def _neighbor_sample(colptr, row, seed, num_neighbors, replace, directed):
    SAMPLED.append(seed.numel())
    nodes = seed.tolist()
    local = {v: i for i, v in enumerate(nodes)}
    rows, cols, edges = [], [], []
    frontier = list(nodes)
    for k in num_neighbors:
        grown = []
        for v in frontier:
            start, end = int(colptr[v]), int(colptr[v + 1])
            for e in range(start, end if k < 0 else min(end, start + k)):
                u = int(row[e])
                if u not in local:
                    local[u] = len(nodes)
                    nodes.append(u)
                    grown.append(u)
                rows.append(local[u])
                cols.append(local[v])
                edges.append(e)
        frontier = grown
    as_long = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return as_long(nodes), as_long(rows), as_long(cols), as_long(edges)


@pytest.fixture
def torch_sparse_sampler(monkeypatch):
    """PyG sees torch-sparse installed; its sampling kernel is the one above."""
    import torch_geometric.typing as pyg_typing

    if not _KERNEL:  # registered once per process; the library object must stay alive
        lib = torch.library.Library("torch_sparse", "DEF")
        lib.define(
            "neighbor_sample(Tensor colptr, Tensor row, Tensor seed, int[] num_neighbors, bool replace, bool directed) -> (Tensor, Tensor, Tensor, Tensor)"
        )
        lib.impl("neighbor_sample", _neighbor_sample, "CPU")
        _KERNEL.append(lib)
    monkeypatch.setattr(pyg_typing, "WITH_PYG_LIB", False)
    monkeypatch.setattr(pyg_typing, "WITH_TORCH_SPARSE", True)
    SAMPLED.clear()
    return SAMPLED


def test_neighbor_loader_batches_with_all_neighbours_are_exact_batches(torch_sparse_sampler):
    """Every neighbour sampled (-1): PyG's NeighborLoader batches train exactly as the exact
    receptive-field batches (parameters within float32 rounding of 5 steps in another summation
    order, see tests/support/tolerance.py; an AVX-512 Xeon gave 1.07e-6): its seeds come first,
    labels follow them, and the sampler is really used (one call per batch)."""
    from gnnviz.training.steps import batching_note

    exact, exact_losses, _ = _steps("gat", 4, True)
    assert torch_sparse_sampler == []
    sampled, losses, evaluate = _steps("gat", 4, True, num_neighbors=[-1, -1])
    assert torch_sparse_sampler and set(torch_sparse_sampler) <= {4, 5}, "NeighborLoader was not used"
    atol = float32_atol(exact, steps=5)
    for a, b in zip(exact, sampled, strict=True):
        torch.testing.assert_close(a, b, atol=atol, rtol=0)
    assert losses == pytest.approx(exact_losses, abs=atol)
    assert "sampled per layer by PyG's NeighborLoader" in batching_note(4, [-1, -1])


def test_neighbor_loader_samples_fewer_neighbours_and_evaluates_on_the_full_graph(torch_sparse_sampler):
    """One neighbour per node and layer: training differs from exact batches (it saw fewer
    edges), while evaluation of the same parameters is the full-graph number."""
    from gnnviz.models.gnn import GNN
    from gnnviz.training.steps import make_steps

    exact, _, _ = _steps("gat", 4, True)
    sampled, losses, evaluate = _steps("gat", 4, True, num_neighbors=[1, 1])
    assert torch_sparse_sampler, "NeighborLoader was not used"
    assert all(math.isfinite(x) for x in losses)
    assert max((a - b).abs().max().item() for a, b in zip(exact, sampled, strict=True)) > 1e-4
    ds = load_dataset("karate", None, normalize_features=False)
    model = GNN("gat", ds.num_features, ds.num_classes, 8, heads=2, out_heads=1, dropout=0.0, attn_dropout=0.0)
    with torch.no_grad():
        for p, q in zip(model.parameters(), sampled, strict=True):
            p.copy_(q)
    _, full_eval = make_steps(model, ds, lr=0.01, weight_decay=0.0, device=CPU, seed=0)
    for split in ("val", "test"):
        assert evaluate(split) == pytest.approx(full_eval(split), abs=1e-6)
