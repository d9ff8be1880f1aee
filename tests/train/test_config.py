"""TrainConfig: fields are CLI flags and YAML keys; bad values are one-line errors."""

from __future__ import annotations

import argparse

import pytest

from striate.layers.errors import ConfigError
from striate.train.config import TrainConfig, add_arguments, from_args


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_are_the_recipe_and_the_demo_adds_augmentation():
    from striate.train.demo import DEMO_EPOCHS, demo_config

    cfg = TrainConfig()
    assert (cfg.optimizer, cfg.schedule, cfg.label_smoothing) == ("adamw", "onecycle", 0.1)
    assert (cfg.batch_size, cfg.lr, cfg.ema) == (64, 1e-2, 0.99)
    # augmentation suits some data and not others: off unless asked for
    assert (cfg.crop_padding, cfg.rotate, cfg.scale, cfg.flip, cfg.jitter) == (0, 0, 0,
                                                                               False, 0)
    demo = demo_config()
    assert (demo.crop_padding, demo.rotate, demo.scale, demo.flip) == (2, 15, 0.15, False)
    assert (demo.epochs, demo.lr, demo.batch_size) == (DEMO_EPOCHS, 5e-3, 64)


def test_demo_help_names_its_default_epochs():
    from striate.cli import build_parser
    from striate.train.demo import DEMO_EPOCHS

    demo = build_parser()._subparsers._group_actions[0].choices["demo"]
    assert f"(default: {DEMO_EPOCHS})" in demo.format_help()


def test_yaml_sets_defaults_and_flags_override(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 0.01\nbatch-size: 32\noptimizer: sgd\nnesterov: true\n"
                    "betas: [0.8, 0.99]\n")
    cfg = from_args(_parse(["--config", str(path), "--batch-size", "16", "--no-nesterov"]))
    assert cfg.lr == 0.01  # from the file
    assert cfg.batch_size == 16  # the flag wins
    assert cfg.nesterov is False
    assert cfg.optimizer == "sgd"
    assert cfg.betas == (0.8, 0.99)


def test_round_trip_through_dict():
    cfg = TrainConfig(lr=0.5, epochs=3, betas=(0.5, 0.6))
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_unknown_key_suggests_the_right_one(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("learning_rat: 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown option 'learning_rat'"):
        TrainConfig.from_yaml(path)
    with pytest.raises(ConfigError, match=r"did you mean 'batch_size'"):
        TrainConfig.from_dict({"batch_sise": 3})


def test_bad_values_name_the_flag():
    with pytest.raises(ConfigError, match=r"^--lr: must be positive, got -1"):
        TrainConfig(lr=-1)
    with pytest.raises(ConfigError, match=r"--optimizer: unknown value 'adamm'; did you mean "
                                          r"'adam'"):
        TrainConfig(optimizer="adamm")
    with pytest.raises(ConfigError, match=r"--early-stopping: needs a validation split"):
        TrainConfig(early_stopping=3, val_fraction=0)
    with pytest.raises(ConfigError, match=r"expects int, got 'ten'"):
        TrainConfig.from_dict({"epochs": "ten"})


def test_yaml_errors_are_located(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("lr: [0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        TrainConfig.from_yaml(path)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        TrainConfig.from_yaml(path)
