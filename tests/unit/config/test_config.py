from pathlib import Path

import pytest
import yaml

from gnnviz.config import load_config
from gnnviz.config.overrides import parse_override
from gnnviz.config.schema import Config
from gnnviz.config.validate import from_dict
from gnnviz.errors import ConfigError

CONFIGS = sorted((Path(__file__).resolve().parents[3] / "configs").glob("*.yaml"))


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
    cfg = load_config(Path(__file__).resolve().parents[3] / "configs" / "gat_ppi.yaml")
    m = cfg.model
    assert (m.layers, m.heads, m.out_heads, m.hidden // m.heads, m.residual, m.dropout) == (3, 4, 6, 256, True, 0.0)


def test_resolved_yaml_round_trips():
    cfg = load_config(None, ["model.name=gcn", "training.lr=0.02"])
    again = from_dict(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


def test_unknown_key_suggests_the_close_one(tmp_path):
    msg = error_of(tmp_path, "model:\n  hiden: 8\n")
    assert "unknown key 'model.hiden'" in msg and "did you mean 'hidden'" in msg


def test_unknown_keys_and_sections_name_their_line_as_bad_values_do(tmp_path):
    assert error_of(tmp_path, "model:\n  name: gat\n  hiden: 8\n").startswith(
        f"{tmp_path / 'c.yaml'}:3: unknown key 'model.hiden'"
    )
    assert error_of(tmp_path, "model: {name: gat}\ntrainig:\n  lr: 0.1\n").startswith(f"{tmp_path / 'c.yaml'}:2: unknown section")


@pytest.mark.parametrize(("written", "meant"), [("training.learning_rate", "lr"), ("model.num_heads", "heads")])
def test_other_libraries_names_for_a_key_get_the_key_to_use(tmp_path, written, meant):
    section, key = written.split(".")
    assert f"did you mean '{meant}'" in error_of(tmp_path, f"{section}:\n  {key}: 1\n")
    with pytest.raises(ConfigError, match=f"did you mean '{meant}'"):
        load_config(None, [f"{written}=1"])


def test_unknown_section_suggests(tmp_path):
    assert "did you mean 'training'" in error_of(tmp_path, "trainig: {lr: 0.1}\n")


def test_unknown_model_lists_choices(tmp_path):
    msg = error_of(tmp_path, "model: {name: gcnn}\n")
    assert (
        msg
        == f"{tmp_path / 'c.yaml'}:1: unknown model.name 'gcnn'; choose one of gat, gatv2, gcn, sage, mlp (did you mean 'gcn'?)"
    )


def test_unknown_dataset(tmp_path):
    assert "did you mean 'cora'" in error_of(tmp_path, "dataset: {name: corra}\n")


def test_hidden_must_divide_by_heads(tmp_path):
    msg = error_of(tmp_path, "model: {hidden: 60, heads: 8}\n")
    assert msg.startswith("model.hidden=60 must be divisible by model.heads=8: hidden counts all heads together")
    assert msg.endswith("take a multiple of 8, e.g. model.hidden=56 or model.hidden=64")


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
    # Type errors name the file and line; range errors come after typing and name the key alone.
    assert error_of(tmp_path, text) in (expected, f"{tmp_path / 'c.yaml'}:1: {expected}")


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
    assert parse_override("model.hidden=32")[1].value == 32
    assert load_config(None, ["training.lr=1e-3"]).training.lr == 1e-3  # YAML 1.1 reads this as text
    assert parse_override("training.fast=false")[1].value is False
    assert parse_override("run.device=cuda:1")[1].value == "cuda:1"
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


def test_config_equality_is_structural():
    assert Config() == Config()


# ----------------------------------------------------------------------------- a config means what it shows

# Spellings that YAML 1.1 (PyYAML) reads differently from how they look or from YAML 1.2, and
# plain ones. Every one is tried on every field of every section, in a file and in --set.
SPELLINGS = [
    "1:30", "1:2:3", "010", "08", "0x40", "0b11", "0o10", "1_000", "1_0.5", ".inf", "-.inf", ".nan", "1e3", "5e-4",
    "1.0e3", "no", "No", "NO", "off", "On", "yes", "y", "n", "Y", "true", "False", '"no"', "'8'", '"true"', "8", "0",
    "-3", "0.5", "cora", "gat", "cpu", "mean", "cuda:1", "null", "~", '"5e-4"', "tRue", "2001-13-45", "2024-01-02",
]  # fmt: skip
_NOTHING = object()


def visible(spelling, hint):
    """What a person reads in ``spelling`` for a field of type ``hint``, or _NOTHING if unclear."""
    import re

    quoted = spelling[:1] in "\"'" and spelling[-1:] == spelling[:1] and len(spelling) > 1
    if hint is str:
        if quoted:
            return spelling[1:-1]
        ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9_.:-]*", spelling)
        return (
            spelling if ok and spelling.lower() not in {"true", "false", "yes", "no", "on", "off", "y", "n", "null"} else _NOTHING
        )
    if quoted:
        return _NOTHING
    if hint is bool:
        return {"true": True, "false": False}.get(spelling.lower(), _NOTHING)
    if hint is int:
        return int(spelling) if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", spelling) else _NOTHING
    if re.fullmatch(r"[-+]?0[0-9]+", spelling) or not re.fullmatch(
        r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", spelling
    ):
        return _NOTHING
    return float(spelling)


def every_field():
    import dataclasses
    from typing import get_args, get_type_hints

    from gnnviz.config.schema import SECTIONS

    for section, cls in SECTIONS.items():
        hints = get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = next((a for a in get_args(hints[f.name]) if a is not type(None)), hints[f.name])
            yield section, f.name, hint


@pytest.mark.parametrize("section, name, hint", list(every_field()), ids=lambda v: getattr(v, "__name__", v))
def test_every_spelling_means_what_it_shows_or_fails_naming_the_key(tmp_path, section, name, hint):
    key = f"{section}.{name}"
    for spelling in SPELLINGS:
        for how in ("file", "set"):
            try:
                if how == "file":
                    cfg = load_config(write(tmp_path, f"{section}:\n  {name}: {spelling}\n"))
                else:
                    cfg = load_config(None, [f"{key}={spelling}"])
            except ConfigError as exc:
                msg = str(exc)
                assert key in msg and "\n" not in msg, (how, spelling, msg)
                continue
            if spelling in ("null", "~"):
                continue  # null: the field's default
            got, want = getattr(getattr(cfg, section), name), visible(spelling, hint)
            assert want is not _NOTHING and got == want and type(got) is type(want), (how, key, spelling, got)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "model:\n  hidden: 010\n",
            "c.yaml:2: model.hidden: 010 has a leading zero: YAML 1.1 reads it as octal (or text), YAML 1.2 as decimal; write the number in plain decimal digits",
        ),
        ("training:\n  epochs: 1:30\n", "c.yaml:2: training.epochs: 1:30 is a base-60 number to YAML 1.1 but text to YAML 1.2"),
        (
            "training:\n  epochs: 1_000\n",
            "c.yaml:2: training.epochs: 1_000 is a number to YAML 1.1 but text to YAML 1.2 (the underscores); write 1000",
        ),
        (
            "training:\n  epochs: 1e3\n",
            "c.yaml:2: training.epochs: 1e3 is a number to YAML 1.2 but text to YAML 1.1 (an exponent without a dot); write the number in plain decimal digits, e.g. 1000 for 1e3",
        ),
        ("model:\n  hidden: 0x40\n", "c.yaml:2: model.hidden: 0x40 is a hexadecimal, binary or octal number, not a decimal one"),
        (
            "dataset:\n  name: no\n",
            'c.yaml:2: dataset.name: no is the boolean false to YAML 1.1 but text to YAML 1.2; if you mean the text, quote it: name: "no"',
        ),
        (
            "run:\n  device: off\n",
            'c.yaml:2: run.device: off is the boolean false to YAML 1.1 but text to YAML 1.2; if you mean the text, quote it: device: "off"',
        ),
        (
            "training:\n  fast: yes\n",
            "c.yaml:2: training.fast: yes is the boolean true to YAML 1.1 but text to YAML 1.2; write true or false",
        ),
        (
            'model:\n  hidden: "8"\n',
            'c.yaml:2: model.hidden: "8" is quoted, so YAML reads it as text, not a number; remove the quotes',
        ),
        (
            "model:\n  hidden: 8\n  hidden: 16\n",
            "c.yaml:3: 'model.hidden' is given twice (lines 2 and 3); YAML would keep only the last: keep one",
        ),
        ("model: {}\nmodel: {}\n", "c.yaml:2: 'model' is given twice (lines 1 and 2)"),
        ("model: {}\n---\ntraining: {}\n", "c.yaml:2:1: a second YAML document starts here ('---'); a config is one document"),
        ("model: &m {hidden: 8}\n", "c.yaml:1:8: YAML anchors and aliases (&name, *name) are not allowed"),
        ("model:\n  <<: {hidden: 8}\n", "c.yaml:2: merge keys (<<) are not allowed; write the keys out in full"),
        ("1: x\n", "c.yaml:1: key 1 is read by YAML as int, not a name"),
        ("null: x\n", "c.yaml:1: key null is read by YAML as null, not a name"),
        ("model:\n  true: 3\n", "c.yaml:2: key true is read by YAML as bool, not a name"),
        ("model:\n\thidden: 8\n", "a tab where YAML allows only spaces; indent with spaces"),
        (
            "dataset:\n  name: cora\u200b\n",
            "c.yaml:2: dataset.name: cora\u200b contains the invisible character U+200B (ZERO WIDTH SPACE); retype the value",
        ),
        (
            "model:\n  hidden: [8, 2001-13-45]\n",
            "c.yaml:2: model.hidden takes one value, not a list or mapping; write e.g. hidden: 8",
        ),
        ("model: [1, 2]\n", "c.yaml:1: section 'model' must be a mapping of key: value, not a list"),
        (
            "model:\n  hidden: !!int 8\n",
            "YAML tag tag:yaml.org,2002:int is not allowed; configs hold plain data only, remove the YAML tag",
        ),
    ],
)
def test_ambiguous_files_are_refused_naming_file_and_line(tmp_path, text, expected):
    assert expected.replace("c.yaml", str(tmp_path / "c.yaml")) in error_of(tmp_path, text)


def test_a_later_set_of_the_same_key_wins():
    assert load_config(None, ["model.hidden=8", "model.heads=4", "model.hidden=16"]).model.hidden == 16


def test_plain_spellings_still_load(tmp_path):
    cfg = load_config(
        write(tmp_path, "---\nmodel:\n  hidden: 32\n  heads: 4\ntraining:\n  lr: 5e-4\n  fast: False\n  weight_decay: 1.0e-3\n")
    )
    assert (cfg.model.hidden, cfg.model.heads, cfg.training.lr, cfg.training.fast, cfg.training.weight_decay) == (
        32,
        4,
        5e-4,
        False,
        1e-3,
    )
    assert load_config(None, ['dataset.name="karate"', "run.device=cuda:1"]).run.device == "cuda:1"


def test_file_encodings(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_bytes(b"\xef\xbb\xbfmodel:\n  hidden: 32\n")  # a UTF-8 byte-order mark changes nothing
    assert load_config(p).model.hidden == 32
    p.write_bytes("model:\n  hidden: 32\n".encode("utf-16"))
    with pytest.raises(ConfigError, match="is UTF-16 or UTF-32 text .*; save it as UTF-8"):
        load_config(p)
    p.write_bytes(b"model:\n  name: gat\ndataset:\n  name: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"c.yaml:4: byte 0xe9 is not UTF-8; save the file as UTF-8"):
        load_config(p)


@pytest.mark.parametrize(
    "items, expected",
    [
        (["model.hidden=010"], "--set model.hidden=010 has a leading zero"),
        (
            ["dataset.name=no"],
            "--set dataset.name=no is the boolean false to YAML 1.1 but text to YAML 1.2; if you mean the text, quote it: --set 'dataset.name=\"no\"'",
        ),
        (
            ["training.fast=on"],
            "--set training.fast=on is the boolean true to YAML 1.1 but text to YAML 1.2; write true or false",
        ),
        (["model.hidden=*x"], "model.hidden"),
        (["model.hidden=&x 8"], "YAML anchors and aliases"),
        (
            ["run.device=#cpu"],
            "--set 'run.device=#cpu': YAML reads this value as a comment, i.e. no value; quote it, or drop the --set",
        ),
        (["run.device=cpu\nmodel: x"], "a value spans several lines; give each --set one line"),
        (["model.hidden='8'"], "--set model.hidden='8'"),
    ],
)
def test_ambiguous_overrides_are_refused(items, expected):
    with pytest.raises(ConfigError) as exc:
        load_config(None, items)
    assert expected in str(exc.value)


@pytest.mark.parametrize(
    "items, expected",
    [
        (["training.batch_size=-1"], "training.batch_size=-1 must be at least 0"),
        (
            ["training.num_neighbors=10,5"],
            "training.num_neighbors samples mini-batches; set training.batch_size too (seed nodes per batch)",
        ),
        (
            ["training.batch_size=64", "training.num_neighbors=10"],
            "training.num_neighbors='10' gives 1 layer(s) but model.layers=2; give one count per layer, e.g. '10,10'",
        ),
        (
            ["training.batch_size=64", "training.num_neighbors=10,x"],
            "training.num_neighbors='10,x' must be whole numbers separated by commas, one per layer, e.g. '10,10'",
        ),
        (
            ["training.batch_size=64", "training.num_neighbors=10,0"],
            "training.num_neighbors='10,0': each count must be at least 1, or -1 for all neighbours",
        ),
    ],
)
def test_mini_batch_options_are_checked(items, expected):
    with pytest.raises(ConfigError) as exc:
        load_config(None, items)
    assert str(exc.value) == expected


def test_mini_batch_options_load():
    from gnnviz.config.validate import fanouts

    cfg = load_config(None, ["training.batch_size=512", "training.num_neighbors=15, -1"])
    assert cfg.training.batch_size == 512
    assert fanouts(cfg.training.num_neighbors, cfg.model.layers) == [15, -1]
    assert load_config(None, []).training.batch_size == 0  # full batch by default
    one = load_config(None, ["model.layers=1", "training.batch_size=8", "training.num_neighbors=7"])
    assert one.training.num_neighbors == "7"


@pytest.mark.parametrize(
    "name, code, cause",
    [
        ("EIO", 1, "input/output error from the device (EIO); check the disk"),
        ("EFBIG", 1, "file too large for the file-size limit (EFBIG)"),
        ("ENOMEM", 1, "out of memory (ENOMEM)"),
        ("EACCES", 2, "permission denied (EACCES); fix the permissions"),
    ],
)
def test_a_config_that_cannot_be_read_names_the_cause_and_its_exit_class(tmp_path, monkeypatch, name, code, cause):
    import errno
    import os

    from gnnviz.errors import GnnvizError

    path = tmp_path / "c.yaml"
    path.write_text("model:\n  name: gcn\n")
    real = Path.read_bytes

    def failing(self):
        if self == path:
            raise OSError(getattr(errno, name), os.strerror(getattr(errno, name)))  # as a failed read(2): no file name
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", failing)
    with pytest.raises(GnnvizError) as exc:
        load_config(path)
    assert str(exc.value).startswith(f"cannot read config file {path}: {cause}")
    assert exc.value.exit_code == code and "Errno" not in str(exc.value)
