"""``striate summary``: zoo names and spec files, formats, and one-line errors (exit 2)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from striate import zoo
from striate.cli import main

SPEC = """\
name: tiny
input: [1, 12, 12]
layers:
  - conv: {out: 4, kernel: 3, act: relu}
  - pool: {kind: max, kernel: 2}
  - flatten
  - dense: 10
"""


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_zoo_model_table(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert f"Params: {zoo.info('lenet5').params:,} " in out
    assert "input 1x32x32" in out  # the zoo model's default input


def test_zoo_vgg16_json_matches_published_params(capsys):
    assert main(["summary", "vgg16", "--format", "json", "--depth", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["params"] == zoo.info("vgg16").params == 138_357_544
    assert data["input_shape"] == [3, 224, 224]
    assert all(row["depth"] <= 1 for row in data["layers"])


def test_spec_file_csv_and_markdown(spec_file, capsys):
    assert main(["summary", str(spec_file), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    # conv 3x3: 12 → 10; pool: 10 → 5; dense 100 → 10
    conv = rows[0]
    assert conv["output_shape"] == "4x10x10"
    assert int(conv["params"]) == 4 * 9 + 4
    assert rows[-1]["name"] == "(total)"
    assert int(rows[-1]["params"]) == 40 + 4 * 5 * 5 * 10 + 10
    assert main(["summary", str(spec_file), "--format", "md", "--input", "1x13x13"]) == 0
    md = capsys.readouterr().out
    assert "input 1x13x13" in md
    assert "| 4x11x11 |" in md


def _error(capsys, argv: list[str]) -> tuple[str, str]:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "Traceback" not in captured.err
    return lines[0], captured.out


@pytest.mark.parametrize("value", ["3x-1x4", "3x2.5x4", "axb", "0x4x4", "1x28x28x", "3xx4"])
def test_bad_input_sizes(capsys, value):
    line, _ = _error(capsys, ["summary", "lenet5", "--input", value])
    assert line.startswith(f"striate: error: --input '{value}': every size must be a positive "
                           "integer")


def test_kernel_larger_than_input_prints_rows_then_the_error(spec_file, capsys):
    line, out = _error(capsys, ["summary", str(spec_file), "--input", "1x2x2"])
    assert "(Conv2d k=3 s=1): the window (3) is larger than the padded input (2)" in line
    assert "(input)" in out  # the table so far goes to stdout


def test_forward_failure_names_the_layer_after_the_rows(spec_file, capsys):
    # 1x16x16 → conv 14 → pool 7 → flatten 196, but the dense layer was sized for 100
    line, out = _error(capsys, ["summary", str(spec_file), "--input", "1x16x16"])
    assert line.endswith("expects 100 input features on the last axis but received shape "
                         f"(196,); use in_features=196 ({spec_file} was built for --input "
                         "1x12x12)")
    assert "Flatten" in out
    assert "Linear" not in out
    assert "Dense" not in out.split("\n", 3)[-1]


def test_strict_flag(capsys):
    line, _ = _error(capsys, ["summary", "lenet5", "--input", "1x33x33", "--strict"])
    # LeNet-5: 33 − 5 + 1 = 29 rows reach the first 2x2 pooling
    assert line == ("striate: error: features.pool1 (AvgPool2d k=2 s=2): (29 − 2 + 2·0)/2 + 1 "
                    "= 14.50 does not fit; use stride=1 or ceil_mode=True")


def test_unknown_target_and_bad_depth(capsys, tmp_path):
    line, _ = _error(capsys, ["summary", "vgg61"])
    assert "vgg16" in line
    line, _ = _error(capsys, ["summary", "lenet5", "--depth", "-1"])
    assert "--depth -1" in line
    line, _ = _error(capsys, ["summary", str(tmp_path)])
    assert line.endswith("is a folder but not a model folder (no meta.json); give a model "
                         "folder written by striate.save, a spec file or a zoo name")


MERGE_SPEC = """\
name: merge
input: [1, 12, 12]
layers:
  - conv: {out: 1, kernel: 3, stride: 2, padding: 1, name: a}
  - pool: {kind: max, kernel: 2, name: b, from: input}
  - add: [a, b]
  - conv: {out: 2, kernel: 1, stride: 2, name: c, from: input}
  - conv: {out: 2, kernel: 7, name: d, from: input}
  - add: [c, d]
"""


@pytest.fixture
def merge_spec(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text(MERGE_SPEC, encoding="utf-8")
    return path


def test_merge_of_different_sizes_names_the_layer(merge_spec, capsys):
    # 13 rows: the strided conv gives ceil(13/2) = 7, the pooling floor(13/2) = 6
    line, out = _error(capsys, ["summary", str(merge_spec), "--input", "1x13x13"])
    assert line.startswith("striate: error: add1 (Add): ")
    assert "(1, 7, 7)" in line
    assert "(1, 6, 6)" in line
    assert "\nb " in out  # rows before the failing merge


def test_merge_of_different_strides_names_the_layer(merge_spec, capsys):
    # c: 1x1 stride 2 (jump 2) and d: 7x7 stride 1 (jump 1) both give 6x6 maps
    line, _ = _error(capsys, ["summary", str(merge_spec)])
    assert line == ("striate: error: add2 (Add): paths that meet here have effective strides "
                    "1 and 2; their receptive fields cannot be merged: make the strides along "
                    "both paths multiply to the same value")


def test_model_folder(tmp_path, capsys):
    import striate

    folder = striate.save(zoo.create("lenet5"), tmp_path / "lenet")
    assert main(["summary", str(folder), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shape"] == [1, 32, 32]
    assert data["totals"]["params"] == zoo.info("lenet5").params


def test_rows_of_a_failed_forward_say_their_totals_are_partial(spec_file, capsys):
    _, out = _error(capsys, ["summary", str(spec_file), "--input", "1x16x16"])
    assert ("The forward stopped at an error: MACs and activations below cover the rows above "
            "only") in out
    assert main(["summary", str(spec_file)]) == 0
    assert "stopped" not in capsys.readouterr().out


def test_a_model_folder_on_another_input_says_the_input_it_was_built_for(tmp_path, capsys):
    import striate

    folder = tmp_path / "lenet"
    striate.save(zoo.create("lenet5"), folder, input_shape=(1, 32, 32))
    assert main(["summary", str(folder)]) == 0
    assert "input 1x32x32" in capsys.readouterr().out
    # 28x28 digits reach the first dense layer as 16·4·4 = 256 features, not 16·5·5 = 400
    line, _ = _error(capsys, ["summary", str(folder), "--input", "1x28x28"])
    assert line.endswith("expects 400 input features on the last axis but received shape "
                         f"(256,); use in_features=256 ({folder} was built for --input 1x32x32)")
