"""``striate zoo list`` and ``striate zoo show``, called in-process."""

from __future__ import annotations

import json

import pytest

from striate.cli import main
from striate.cli.cmd_zoo import parse_options


def test_list_family_table(capsys):
    assert main(["zoo", "list", "--family", "ResNet-CIFAR"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "family", "year", "params", "MACs", "input", "description"]
    rows = [line.split() for line in out[2:]]
    assert [r[0] for r in rows] == ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110"]
    assert rows[0][3] == "269,722"
    assert rows[0][4:6] == ["40.55", "M"]  # computed on meta, not stored


def test_list_json_has_computed_macs(capsys):
    assert main(["zoo", "list", "--family", "MobileNet", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "mobilenet_v1"
    assert row["params"] == 4_231_976
    assert row["macs"] == pytest.approx(569e6, rel=0.002)  # Howard et al. Table 8
    assert row["input"] == "3x224x224"


def test_list_csv_and_md(capsys):
    assert main(["zoo", "list", "--family", "LeNet", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,family,year,params,macs,input,description"
    assert lines[1].startswith("lenet5,LeNet,1998,61706,416520,1x32x32,")
    assert main(["zoo", "list", "--family", "LeNet", "--format", "md"]) == 0
    md = capsys.readouterr().out.splitlines()
    assert md[0].startswith("| name | family |")
    assert md[3].startswith("| lenet5_1998 | LeNet | 1998 | 60,000 |")


def test_unknown_family_exits_2(capsys):
    # (families match in any letter case, so "Resnet" is ResNet; ResNeXt is not in the zoo)
    assert main(["zoo", "list", "--family", "ResNeXt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("striate: error: --family 'ResNeXt': no such family; families: ")
    assert "ResNet" in err
    assert err.count("\n") == 1


def test_show_spec_and_summary(capsys):
    assert main(["zoo", "show", "lenet5", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lenet5 — LeNet-5")
    assert "params:  61,706 (published: 61,706, matches)" in out
    assert "spec (yaml):" in out
    assert "name: lenet5" in out  # the shipped YAML spec
    assert "Params: 61,706" in out  # the summary table's totals


def test_show_python_model_with_options(capsys):
    assert main(["zoo", "show", "resnet50", "--option", "stride_on=1x1", "--format",
                 "json", "--depth", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["options"]["stride_on"] == "1x1"
    assert out["params"] == out["published_params"] == 25_557_032
    assert out["macs"] == pytest.approx(3.86e9, rel=0.002)
    assert out["summary"]["totals"]["macs"] == out["macs"]  # arith agrees with the zoo count


def test_show_other_input_and_classes(capsys):
    assert main(["zoo", "show", "vgg16", "--input", "3x32x32", "--classes", "10",
                 "--depth", "0"]) == 0
    out = capsys.readouterr().out
    assert "input:   3x32x32" in out
    assert "published: 138,357,544 at its default input and classes" in out
    assert "spec (yaml):" in out  # written by to_spec for 32x32, not the 224x224 YAML file
    text = out.split("─" * 72)[1].strip("\n")
    import striate

    spec = striate.load_spec(text)
    assert tuple(spec.input_shape) == (3, 32, 32)
    built = striate.build(spec, device="meta")
    # VGG-16's convolutions (14,714,688) + dense 512 → 4096 → 4096 → 10
    expected = 14_714_688 + 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 10 + 10
    assert sum(p.numel() for p in built.parameters()) == expected
    assert f"params:  {expected:,}" in out


def test_show_python_only_model_prints_its_architecture_json(capsys):
    assert main(["zoo", "show", "fcn8s", "--depth", "0"]) == 0
    out = capsys.readouterr().out
    assert "architecture (json):" in out
    assert '"zoo": "fcn8s"' in out
    assert '"options": {"num_classes": 21, "input_shape": [3, 500, 500], "dropout": 0.5}' in out


@pytest.mark.parametrize(("argv", "message"), [
    (["zoo", "show", "resnet05"], "unknown zoo model 'resnet05'; did you mean"),
    (["zoo", "show", "resnet50", "--option", "stride=2"], "resnet50: unknown option 'stride'"),
    (["zoo", "show", "resnet50", "--option", "oops"], "--option 'oops': expected KEY=VALUE"),
    (["zoo", "show", "vgg16", "--input", "3x16x16"],
     "vgg16, input (3, 16, 16): features.pool5 (MaxPool2d k=2 s=2)"),
])
def test_show_errors_exit_2_in_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("striate: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_parse_options_reads_yaml_scalars():
    assert parse_options(["alpha=0.5", "aux=true", "layout=two_tower", "n=3"]) == {
        "alpha": 0.5, "aux": True, "layout": "two_tower", "n": 3}


def test_show_googlenet_with_aux_heads_summarises_inference(capsys):
    assert main(["zoo", "show", "googlenet", "--option", "aux=true", "--format", "json",
                 "--depth", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"] == out["summary"]["totals"]["params"] == 13_378_280
    assert out["macs"] == out["summary"]["totals"]["macs"]  # the main path only


def test_the_errors_shown_in_the_docs_are_real(capsys):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "zoo.md").read_text()
    block = doc.split("## Errors", 1)[1].split("```\n", 2)[1]
    shown = block.strip().splitlines()
    commands = [["zoo", "show", "resnet05"], ["zoo", "show", "resnet50", "--option",
                                              "stride=1x1"],
                ["zoo", "show", "vgg16", "--input", "3x16x16"],
                ["zoo", "show", "lenet5", "--input", "28x28x1"]]
    assert len(shown) == len(commands)
    for argv, line in zip(commands, shown, strict=True):
        assert main(argv) == 2
        assert capsys.readouterr().err.strip() == line
