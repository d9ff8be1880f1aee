"""Table, JSON, CSV and Markdown agree; the table of a small net is a golden file.

Regenerate the golden file only on purpose: ``STRIATE_UPDATE_GOLDEN=1 pytest tests/arith``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from arith_models import Scale, SmallNet
from torch import nn

from striate.arith.summary import summary

GOLDEN = Path(__file__).parent / "golden" / "smallnet_3x32x32.txt"


@pytest.fixture(scope="module")
def small():
    return summary(SmallNet(), (3, 32, 32))


def test_golden_table(small):
    text = str(small)
    if os.environ.get("STRIATE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def _table_rows(text: str) -> dict[str, list[str]]:
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"-"}]
    rows = {}
    for line in lines[rules[0] + 1:rules[1]]:
        cells = [c for c in line.split() if c != "*"]  # "*" marks dropped inputs
        rows[cells[0]] = cells
    return rows


def test_json_has_the_documented_fields_and_matches_the_table(small):
    data = json.loads(small.to_json())
    assert data == json.loads(json.dumps(small.to_dict()))
    for row in data["layers"]:
        assert {"name", "type", "output_shape", "params", "trainable_params", "macs",
                "activations", "receptive_field", "effective_stride",
                "effective_padding"} <= set(row)
    assert {"params", "trainable_params", "macs", "activations", "param_bytes",
            "forward_bytes", "train_bytes"} <= set(data["totals"])
    table = _table_rows(str(small))
    for row in data["layers"]:
        cells = table[row["name"]]
        assert cells[1] == row["type"]
        assert cells[2] == "x".join(map(str, row["output_shape"]))
        assert [int(c.replace(",", "")) for c in cells[3:6]] == [
            row["params"], row["macs"], row["activations"]]
        assert int(cells[6]) == row["receptive_field"][0]
        assert int(cells[7]) == row["effective_stride"][0]
    assert "multiply-adds of convolution and dense layers" in data["conventions"]["macs"]


def test_csv_parses_and_agrees(small):
    rows = list(csv.DictReader(io.StringIO(small.to_csv())))
    assert [r["name"] for r in rows] == [r.name for r in small.layers] + ["(total)"]
    for parsed, row in zip(rows, small.layers, strict=False):
        assert int(parsed["params"]) == row.params
        assert int(parsed["macs"]) == row.macs
        assert int(parsed["activations"]) == row.activations
        assert parsed["output_shape"] == "x".join(map(str, row.output_shape[0]))
        assert parsed["receptive_field"] == "x".join(map(str, row.receptive_field))
    total = rows[-1]
    assert int(total["params"]) == small.totals["params"]
    assert int(total["macs"]) == small.totals["macs"]
    assert int(total["activations"]) == small.totals["activations"]


def test_markdown_parses_and_agrees(small):
    lines = small.to_markdown().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| Layer"))
    assert lines[header + 1].startswith("|---|")
    body = [line for line in lines[header + 2:] if line.startswith("|")]
    assert len(body) == len(small.layers)
    for line, row in zip(body, small.layers, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0].removesuffix(" \\*") == row.name  # "\*" marks dropped inputs
        assert int(cells[3].replace(",", "")) == row.params
        assert int(cells[4].replace(",", "")) == row.macs
    assert any(line.startswith("- MACs: 285,472") for line in lines)


def test_unknown_macs_are_marked_not_zero():
    s = summary(nn.Sequential(nn.Conv2d(1, 1, 1), Scale()), (1, 2, 2))
    assert s.to_dict()["layers"][1]["macs"] is None
    assert list(csv.DictReader(io.StringIO(s.to_csv())))[1]["macs"] == "?"
    assert "| ? |" in s.to_markdown()


def test_frozen_column_appears_only_with_frozen_parameters(small):
    assert "Frozen" not in str(small)
    model = SmallNet()
    for p in model.features.parameters():
        p.requires_grad_(False)
    s = summary(model, (3, 32, 32))
    table = _table_rows(str(s))
    header = str(s).splitlines()[1].split()
    assert header[4:6] == ["Params", "Frozen"]  # after "Output shape"
    assert table["features.0"][3:5] == ["224", "224"]  # conv 3x3x3x8 + 8, all frozen
    assert table["classifier.2"][3:5] == ["7,850", "0"]
    assert s.totals["frozen_params"] == 224 + 16 + 1168
    assert "| Frozen |" in s.to_markdown()
