"""``striate train / evaluate / predict`` in-process: outputs, files, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from striate.cli import main

FAST = ["--epochs", "3", "--batch-size", "32", "--threads", "1", "--no-progress", "--scale", "0",
        "--rotate", "0", "--crop-padding", "1", "--lr", "0.01"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run of the tiny spec on digits, trained once through the CLI."""
    from conftest import TINY_SPEC

    folder = tmp_path_factory.mktemp("cli")
    spec = folder / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    out = folder / "run"
    assert main(["train", str(spec), "--data", "digits", "--out", str(out), *FAST]) == 0
    return out


def test_train_writes_a_complete_run_folder(trained, capsys):
    for name in ("config.json", "metrics.jsonl", "metrics.csv", "result.json",
                 "model/meta.json", "model/weights.safetensors", "model/spec.yaml"):
        assert (trained / name).is_file(), name
    lines = (trained / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    csv_lines = (trained / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,step,lr,train_loss")
    assert len(csv_lines) == 4
    config = json.loads((trained / "config.json").read_text())
    assert config["train"]["epochs"] == 3
    assert config["data"] == "digits"
    assert list(trained.joinpath("checkpoints").glob("step-*.safetensors"))


def test_evaluate_prints_accuracy_and_confusion_matrix(trained, capsys):
    assert main(["evaluate", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "digits (test split)" in out
    assert "confusion matrix" in out
    assert main(["evaluate", str(trained), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 359  # scikit-learn's 1,797 digits: 20% held out
    assert report["top1"] > 0.5  # chance is 0.1
    assert np.array(report["confusion"]).sum() == 359


def test_predict_images_and_arrays(trained, tmp_path, capsys):
    from PIL import Image

    from striate.data import load_dataset

    test = load_dataset("digits", "test")
    arr = tmp_path / "batch.npy"
    np.save(arr, test.x[:4].numpy())
    png = tmp_path / "one.png"
    Image.fromarray(test.x[0, 0].numpy()).save(png)
    assert main(["predict", str(trained), str(png), str(arr), "--top-k", "2",
                 "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in results] == [str(png)] + [f"{arr}[{i}]" for i in range(4)]
    for r in results:
        probs = [t["probability"] for t in r["top"]]
        assert len(probs) == 2
        assert probs[0] >= probs[1]
    # the PNG holds the same pixels as the first array sample: same answer (up to the
    # rounding of a batch of 1 against a batch of 4)
    png_top, arr_top = results[0]["top"], results[1]["top"]
    assert [t["class"] for t in png_top] == [t["class"] for t in arr_top]
    assert [t["probability"] for t in png_top] == pytest.approx(
        [t["probability"] for t in arr_top], rel=1e-5)


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "lenet55", "--data", "digits"], "unknown zoo model 'lenet55'; did you mean"),
    (["train", "nosuch.yaml", "--data", "digits"], "nosuch.yaml: no such spec file"),
    (["train", "lenet5", "--data", "digits", "--lr", "-1"], "--lr: must be positive"),
    (["train", "lenet5", "--data", "folder:/no/such/folder"], "/no/such/folder"),
    (["evaluate", "/no/such/run"], "/no/such/run is not a folder"),
    (["train", "--resume", "--data", "digits"], "--resume: needs --out RUN"),
])
def test_user_mistakes_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("striate: error: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_unknown_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "lenet5", "--data", "digits", "--learning-rate", "1"])
    assert exc.value.code == 2


def test_existing_run_is_never_overwritten(trained, capsys):
    before = (trained / "metrics.jsonl").read_text()
    assert main(["train", "lenet5", "--data", "digits", "--out", str(trained), *FAST]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (trained / "metrics.jsonl").read_text() == before


def test_resume_of_a_finished_run_continues_to_more_epochs(trained, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    assert main(["train", "--out", str(copy), "--resume", "--epochs", "4",
                 "--no-progress"]) == 0
    assert len((copy / "metrics.jsonl").read_text().splitlines()) == 4


def test_not_a_run_folder(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "is not a striate run folder (no config.json)" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), "x.npy"]) == 2


def test_bad_prediction_inputs(trained, tmp_path, capsys):
    bad = tmp_path / "x.txt"
    bad.write_text("hello")
    assert main(["predict", str(trained), str(bad)]) == 2
    assert "unknown file type '.txt'" in capsys.readouterr().err
    wrong = tmp_path / "w.npy"
    np.save(wrong, np.zeros((3, 5), dtype=np.float32))
    assert main(["predict", str(trained), str(wrong)]) == 2
    assert "array shape (3, 5) fits neither one sample (1, 8, 8)" in capsys.readouterr().err
    broken = tmp_path / "b.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    assert main(["predict", str(trained), str(broken)]) == 2
    assert "not a readable image" in capsys.readouterr().err


def test_truncated_data_file_is_a_one_line_error(tmp_path, capsys):
    from PIL import Image

    root = tmp_path / "imgs"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((8, 8), 40 * i, dtype=np.uint8)).save(root / name / f"{i}.png")
    broken = root / "b" / "0.png"
    broken.write_bytes(broken.read_bytes()[:30])
    out = tmp_path / "run"
    assert main(["train", "lenet5", "--data", f"folder:{root}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"striate: error: {broken}")
    assert len(err.splitlines()) == 1
    assert not out.exists()  # nothing written for a run that could not start


def test_data_options_reach_the_loader_and_the_run_remembers_them(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / "pets" / cls).mkdir(parents=True)
        for i in range(5):
            size = (10 + i, 12 + i, 3)  # every image a different size
            Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8)).save(
                tmp_path / "pets" / cls / f"{i}.png")
    data = f"folder:{tmp_path / 'pets'}"
    out = tmp_path / "run"
    # without a size the loader refuses, and says how to give one here
    assert main(["train", "lenet5", "--data", data, "--out", str(out), *FAST]) == 2
    assert "--data-option resize=HxW" in capsys.readouterr().err
    assert not out.exists()
    assert main(["train", "lenet5", "--data", data, "--data-option", "resize=16x16",
                 "--data-option", "channels=1", "--out", str(out), *FAST]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["data_options"] == {"resize": "16x16", "channels": 1}
    assert config["preprocess"]["raw_shape"] == [1, 16, 16]
    capsys.readouterr()
    # evaluate loads the same data the same way without being told again
    assert main(["evaluate", str(out), "--split", "train", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 10
    assert main(["train", "lenet5", "--data", data, "--data-option", "resize",
                 "--out", str(tmp_path / "other"), *FAST]) == 2
    assert capsys.readouterr().err.strip() == ("striate: error: --data-option: expected "
                                               "KEY=VALUE, got 'resize'; e.g. --data-option "
                                               "resize=64x64")
