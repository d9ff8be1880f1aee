"""``striate demo`` end to end (one epoch; the full recipe is measured by the benchmark)."""

from __future__ import annotations

import re

from striate.cli import main


def test_demo_prints_summary_and_accuracy_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--epochs", "1", "--threads", "1",
                 "--no-interpret", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "61,706" in text  # LeNet-5's parameters (LeCun et al. 1998, modern form)
    assert "training lenet5 on mnist-bundled: 4000 digits" in text
    match = re.search(r"test accuracy: (\d+\.\d+)% \((\d+)/1000 held-out digits\)", text)
    assert match
    assert float(match.group(1)) > 50  # one epoch already learns much; chance is 10%
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # curves, confusion, misclassified
    assert "Model summary" in page
    assert "confusion matrix" in page
    for png in ("learning_curves.png", "confusion_matrix.png", "misclassified.png"):
        assert (out / "report" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same folder again: refused, nothing touched
    before = page
    assert main(["demo", "--out", str(out), "--epochs", "1"]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (out / "report.html").read_text() == before
