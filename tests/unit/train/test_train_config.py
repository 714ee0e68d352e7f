from __future__ import annotations

from pathlib import Path

import pytest

from luodi.errors import ConfigError, InputNotFoundError
from luodi.train.config import load_config, parse_config

MINIMAL = {"Train": {"steps": 10, "labels": ["train.txt"]}}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_has_defaults() -> None:
    cfg = parse_config(MINIMAL)
    assert cfg.base == "pp-ocrv6-small"  # the most accurate stock recogniser
    assert cfg.Train.batch_size == 16
    assert cfg.Optimizer.name == "adamw"
    assert cfg.Preprocess.height == 48


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "Train: {steps: 1, labels: [a.txt]}\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'learning_rate'") as info:
        load_config(path)
    assert str(path) in info.value.message


def test_unknown_nested_key_is_named_with_its_section() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'Optimizer.learning_rat'"):
        parse_config({**MINIMAL, "Optimizer": {"learning_rat": 0.1}})


def test_unknown_key_inside_a_synth_entry() -> None:
    train = {"steps": 1, "synth": [{"style": "dotmatrix", "n": 5, "text": "t.txt", "colour": "red"}]}
    with pytest.raises(ConfigError, match=r"unknown key 'Train.synth.0.colour'"):
        parse_config({"Train": train})


def test_steps_and_epochs_are_exclusive() -> None:
    with pytest.raises(ConfigError, match="exactly one of steps or epochs"):
        parse_config({"Train": {"steps": 1, "epochs": 1, "labels": ["a.txt"]}})


def test_train_needs_data() -> None:
    with pytest.raises(ConfigError, match="label files"):
        parse_config({"Train": {"steps": 1}})


def test_missing_train_section() -> None:
    with pytest.raises(ConfigError, match=r"missing key 'Train'"):
        parse_config({"base": "pp-ocrv4"})


def test_bad_style_is_rejected() -> None:
    with pytest.raises(ConfigError, match="style"):
        parse_config({"Train": {"steps": 1, "synth": [{"style": "neon", "n": 1, "text": "t.txt"}]}})


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    sub = tmp_path / "recipes"
    sub.mkdir()
    path = sub / "r.yml"
    path.write_text(
        "output_dir: out\nTrain:\n  steps: 1\n  labels: data/train.txt\n"
        "  synth: [{style: print, n: 2, text: ../texts.txt}]\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.output_dir == sub / "out"
    assert cfg.Train.labels == (sub / "data" / "train.txt",)
    assert cfg.Train.synth[0].text == tmp_path / "texts.txt"


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.yml")


def test_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "Train: [unclosed\n"))


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- 1\n- 2\n"))


@pytest.mark.parametrize("name", ["dotmatrix.yml", "bankslip.yml"])
def test_shipped_recipes_are_valid_guarded_and_stay_off_the_blind_family(name: str) -> None:
    recipe = Path(__file__).resolve().parents[3] / "examples" / "finetune" / name
    cfg = load_config(recipe)
    assert cfg.base == "pp-ocrv6-small"
    assert cfg.Guard.enabled and cfg.Guard.share > 0 and cfg.Guard.distill > 0 and cfg.Report.regression
    assert cfg.Eval is not None
    # every rendered line, trained or evaluated in the loop, comes from the renderer's train family
    assert {s.family for s in (*cfg.Train.synth, *cfg.Eval.synth)} == {"train"}
    # file-based train text and eval text come from different splits
    assert {s.text.name for s in cfg.Train.synth if s.text} <= {"train.txt"}
    assert {s.text.name for s in cfg.Eval.synth if s.text} <= {"dev.txt"}


def test_generated_text_needs_no_file_but_file_formats_do() -> None:
    ok = {"style": "print", "n": 2, "text_format": "slip"}
    parse_config({"Train": {"steps": 1, "synth": [ok]}})
    with pytest.raises(ConfigError, match="needs a text file"):
        parse_config({"Train": {"steps": 1, "synth": [{"style": "print", "n": 2}]}})
