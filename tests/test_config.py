from pathlib import Path

import pytest
import yaml

from gnnviz.config import Config, from_dict, load_config, parse_override
from gnnviz.errors import ConfigError

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def error_of(tmp_path, text, overrides=()):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text), overrides)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_defaults_resolve_to_the_gat_paper():
    cfg = load_config()
    assert (cfg.model.name, cfg.model.hidden, cfg.model.heads, cfg.model.out_heads) == ("gat", 64, 8, 1)
    assert cfg.model.dropout == cfg.model.attn_dropout == 0.6
    assert cfg.training.lr == 0.005 and cfg.training.weight_decay == 5e-4 and cfg.training.patience == 100
    assert cfg.dataset.normalize_features is True


def test_gcn_defaults_are_kipf_and_welling(tmp_path):
    cfg = load_config(write(tmp_path, "model: {name: gcn}"))
    assert cfg.model.hidden == 16 and cfg.model.dropout == 0.5 and cfg.model.heads is None


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_loads(path):
    cfg = load_config(path)
    assert cfg.dataset.name in path.stem and cfg.model.name == path.stem.split("_")[0]


def test_gat_ppi_matches_the_paper():
    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "gat_ppi.yaml")
    m = cfg.model
    assert (m.layers, m.heads, m.out_heads, m.hidden // m.heads, m.residual, m.dropout) == (3, 4, 6, 256, True, 0.0)


def test_resolved_yaml_round_trips():
    cfg = load_config(None, ["model.name=gcn", "training.lr=0.02"])
    again = from_dict(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


def test_unknown_key_suggests_the_close_one(tmp_path):
    msg = error_of(tmp_path, "model:\n  hiden: 8\n")
    assert "unknown key 'model.hiden'" in msg and "did you mean 'hidden'" in msg


def test_unknown_section_suggests(tmp_path):
    assert "did you mean 'training'" in error_of(tmp_path, "trainig: {lr: 0.1}\n")


def test_unknown_model_lists_choices(tmp_path):
    msg = error_of(tmp_path, "model: {name: gcnn}\n")
    assert msg == "unknown model.name 'gcnn'; choose one of gat, gatv2, gcn, sage (did you mean 'gcn'?)"


def test_unknown_dataset(tmp_path):
    assert "did you mean 'cora'" in error_of(tmp_path, "dataset: {name: corra}\n")


def test_hidden_must_divide_by_heads(tmp_path):
    msg = error_of(tmp_path, "model: {hidden: 60, heads: 8}\n")
    assert msg == "model.hidden=60 must be divisible by model.heads=8"


def test_heads_on_gcn_is_refused(tmp_path):
    assert "model.heads is only for attention models" in error_of(tmp_path, "model: {name: gcn, heads: 4}\n")


def test_removed_key_says_it_was_removed(tmp_path):
    msg = error_of(tmp_path, "dataset: {name: ppi}\ntraining: {loss: cross_entropy}\n")
    assert "training.loss was removed: the loss follows the dataset's task" in msg and msg.endswith("delete it from the config")
    with pytest.raises(ConfigError, match="training.loss was removed.*; drop that --set"):
        load_config(None, ["training.loss=bce"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("model: {hidden: abc}", "model.hidden=abc must be a whole number"),
        ("model: {hidden: 2.5}", "model.hidden=2.5 must be a whole number"),
        ("training: {lr: fast}", "training.lr=fast must be a number"),
        ("training: {lr: -1}", "training.lr=-1.0 must be greater than 0"),
        ("model: {dropout: 1.5}", "model.dropout=1.5 must be in [0, 1)"),
        ("training: {fast: 3}", "training.fast=3 must be true or false"),
        ("training: {epochs: 0}", "training.epochs=0 must be at least 1"),
        ("run: {device: gpu}", "run.device='gpu' is not a device; choose auto, cpu, cuda or cuda:N"),
    ],
)
def test_wrong_values_name_key_value_and_rule(tmp_path, text, expected):
    assert error_of(tmp_path, text) == expected


def test_malformed_yaml_names_line_and_column(tmp_path):
    msg = error_of(tmp_path, "model:\n  name: gat\n  hidden: [1, 2\n")
    assert "c.yaml:" in msg and "malformed YAML" in msg
    line = int(msg.split("c.yaml:")[1].split(":")[0])
    assert 3 <= line <= 4


def test_object_constructing_tags_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    msg = error_of(tmp_path, f"model: !!python/object/apply:os.system ['touch {marker}']\n")
    assert "remove the YAML tag" in msg and not marker.exists()


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_config(tmp_path, text):
    assert "is empty" in error_of(tmp_path, text)


def test_non_mapping_config(tmp_path):
    assert "must be a mapping" in error_of(tmp_path, "- a\n- b\n")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_are_typed_data():
    assert parse_override("model.hidden=32") == ("model.hidden", 32)
    assert load_config(None, ["training.lr=1e-3"]).training.lr == 1e-3  # YAML 1.1 reads this as text
    assert parse_override("training.fast=false") == ("training.fast", False)
    assert parse_override("run.device=cuda:1") == ("run.device", "cuda:1")
    cfg = load_config(None, ["model.hidden=32", "model.heads=4", "training.lr=0.01"])
    assert (cfg.model.hidden, cfg.model.heads, cfg.training.lr) == (32, 4, 0.01)


@pytest.mark.parametrize(
    "item, expected",
    [
        ("model.hidden", "--set 'model.hidden' is not key=value; write e.g. --set model.hidden=32"),
        ("model.hiden=3", "did you mean 'hidden'"),
        ("modle.hidden=3", "did you mean 'model'"),
        ("model.hidden=many", "model.hidden=many must be a whole number"),
        ("hidden=3", "must be section.field"),
    ],
)
def test_bad_overrides(item, expected):
    with pytest.raises(ConfigError) as exc:
        load_config(None, [item])
    assert expected in str(exc.value)


def test_override_values_are_never_evaluated(tmp_path):
    marker = tmp_path / "x"
    with pytest.raises(ConfigError):
        load_config(None, [f"run.device=__import__('os').system('touch {marker}')"])
    assert not marker.exists()


def test_config_equality_is_structural():
    assert Config() == Config()
