"""``striate check``: exit 0 with one OK line, or 2 with every located problem."""

from pathlib import Path

from striate.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_check_ok(capsys):
    assert main(["check", str(EXAMPLES / "keras_mnist.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (f"OK {EXAMPLES / 'keras_mnist.yaml'}: 1,087,106 parameters, "
                           "input (1, 28, 28) -> output (10,)")


def test_check_lists_every_problem_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [1, 28, 28]\nlayers:\n  - conv: {out: 32, kernal: 5}\n"
                   "  - pool: {kind: max, kernel: 2}\n  - dropuot: 0.5\n")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"striate: error: {bad}:3:21: conv: unknown option 'kernal'; "
                               "did you mean kernel?")
    assert lines[1].startswith(f"striate: error: {bad}:5:5: unknown layer type 'dropuot'; "
                               "did you mean dropout")
    assert lines[2] == f"striate: 2 problems in {bad}"
    assert "Traceback" not in err


def test_check_json_and_missing_file(tmp_path, capsys):
    assert main(["check", "--format", "json", str(EXAMPLES / "lenet5.yaml")]) == 0
    assert '"params": 61706' in capsys.readouterr().out
    assert main(["check", str(tmp_path / "none.yaml")]) == 2
    assert "striate: error:" in capsys.readouterr().err


def test_check_a_model_folder(tmp_path, capsys):
    from striate.spec.build import build
    from striate.spec.modelfile import save

    path = save(build(EXAMPLES / "cs231n_cifar.yaml"), tmp_path / "model")
    assert main(["check", str(path)]) == 0
    assert "31,066 parameters" in capsys.readouterr().out


def test_check_a_zoo_model_folder_as_json(tmp_path, capsys):
    # --format json printed the text line for zoo model folders
    import json

    import torch

    from striate import zoo
    from striate.spec.modelfile import save

    torch.manual_seed(0)
    path = save(zoo.create("lenet5", num_classes=3), tmp_path / "lenet")
    assert main(["check", "--format", "json", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    # LeNet-5 with 3 classes: 61,706 − 84·10 − 10 + 84·3 + 3
    assert out == {"ok": True, "file": str(path), "zoo": "lenet5", "params": 61_706 - 850 + 255,
                   "options": {"num_classes": 3, "input_shape": [1, 32, 32], "original": False}}


def test_json_format_reports_file_and_folder_errors_as_json(tmp_path, capsys):
    # a missing file or a broken model folder printed a text error under --format json
    import json

    assert main(["check", "--format", "json", str(tmp_path / "none.yaml")]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out == {"ok": False, "problems": [
        {"file": str(tmp_path / "none.yaml"), "line": None, "column": None,
         "message": f"{tmp_path / 'none.yaml'}: No such file or directory"}]}
    assert main(["check", "--format", "json", str(tmp_path)]) == 2
    (problem,) = json.loads(capsys.readouterr().out)["problems"]
    assert problem["message"].startswith(f"{tmp_path} is a folder but not a striate model")


def test_check_a_folder_that_is_not_a_model(tmp_path, capsys):
    # used to say only "<folder>/meta.json: No such file or directory"
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"striate: error: {tmp_path} is a folder but not a striate model "
                           "folder (no meta.json); give a folder written by striate.save, or a "
                           "spec file")


def test_check_a_model_folder_checks_its_weights(tmp_path, capsys):
    # the spec alone was checked; weights that no longer fit it passed as OK
    from striate.spec.build import build
    from striate.spec.modelfile import save

    path = save(build(EXAMPLES / "cs231n_cifar.yaml"), tmp_path / "model")
    spec = (path / "spec.yaml").read_text()
    (path / "spec.yaml").write_text(spec.replace("dense: 10", "dense: 11"))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"striate: error: {path / 'weights.safetensors'}: ")
    assert err.strip().endswith("has shape (10,) but the architecture needs (11,)")


def test_the_tutorial_outputs_in_the_docs_are_real(tmp_path, monkeypatch, capsys):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "spec.md").read_text()
    spec_text = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    consoles = [block.split("```", 1)[0] for block in doc.split("```console\n")[1:]]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mynet.yaml").write_text(spec_text)
    assert main(["check", "mynet.yaml"]) == 2
    shown = consoles[0].splitlines()
    assert shown[0] == "$ striate check mynet.yaml"
    assert capsys.readouterr().err.splitlines() == shown[1:]
    fixed = spec_text.replace("kernel: 11", "kernel: 3").replace("sofmax", "softmax")
    (tmp_path / "mynet.yaml").write_text(fixed)
    assert main(["check", "mynet.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == consoles[1].splitlines()[1:]
    # the summary table shown in the tutorial is the one the command prints today
    assert consoles[2].splitlines()[0] == "$ striate summary mynet.yaml"
    assert main(["summary", "mynet.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == consoles[2].splitlines()[1:]
