"""The training loop end to end on a tiny CNN and 8x8 digits: learning, exact resume
(simulated crash, real SIGKILL, Ctrl-C), NaN detection and bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from train_helpers import RESUME_CFG, tiny_cnn

from striate.layers.errors import ShapeError, StriateError
from striate.train import (
    Callback,
    DivergedError,
    TrainConfig,
    Trainer,
    TrainingInterrupted,
    fit,
    load_run,
)
from striate.train.prepare import DataSpecError
from striate.train.run import RunError


def _net() -> nn.Module:
    return tiny_cnn(seed=3, dropout=0.3, batchnorm=True)


@pytest.fixture(scope="module")
def small(digits):
    return digits.subset(range(300))


@pytest.fixture(scope="module")
def reference(small, tmp_path_factory):
    """The uninterrupted run every resumed run must reproduce bit for bit."""
    out = tmp_path_factory.mktemp("ref") / "run"
    trainer = Trainer(_net(), RESUME_CFG, out=out)
    trainer.fit(small)
    return trainer


def _assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_tiny_cnn_learns_digits_well_above_chance(digits, digits_test):
    run = fit(tiny_cnn(), digits.subset(range(400)),
              TrainConfig(epochs=12, batch_size=32, lr=1e-2, progress=False, threads=1,
                          rotate=0, scale=0, crop_padding=1))
    metrics = run.evaluate(digits_test)
    assert metrics.count == len(digits_test)
    assert metrics.top1 > 0.8  # chance is 0.1 for ten balanced classes
    assert metrics.top5 >= metrics.top1
    assert metrics.confusion.sum() == len(digits_test)
    assert len(run.history) == 12
    assert run.history[-1]["val_acc"] > 0.8


def test_resume_after_simulated_crash_is_bit_exact(small, reference, tmp_path):
    out = tmp_path / "run"
    # step 13 is mid-epoch 2 and not on a checkpoint (every 5 steps): steps 11-13 are redone
    Trainer(_net(), RESUME_CFG, out=out).fit(small, stop_after=13)
    resumed = Trainer(_net(), RESUME_CFG, out=out, resume=True)
    assert resumed.fit(small).status == "finished"
    assert resumed.step == reference.step == 24
    _assert_same_weights(resumed.model, reference.model)
    assert [r["train_loss"] for r in resumed.history] == \
        [r["train_loss"] for r in reference.history]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from striate.data import load_dataset
    from striate.train import Callback, Trainer
    from train_helpers import RESUME_CFG, tiny_cnn

    class Kill(Callback):
        def on_step_end(self, trainer, loss, correct, seen):
            if trainer.step == {kill_at}:
                os.kill(os.getpid(), signal.SIGKILL)

    net = tiny_cnn(seed=3, dropout=0.3, batchnorm=True)
    Trainer(net, RESUME_CFG, out={out!r}, callbacks=[Kill()]).fit(
        load_dataset("digits").subset(range(300)))
""")


def test_resume_after_sigkill_is_bit_exact(small, reference, tmp_path):
    out = tmp_path / "run"
    tests = str(Path(__file__).resolve().parent)
    script = KILL_SCRIPT.format(tests=tests, kill_at=17, out=str(out))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert not (out / "model").exists()  # killed before the end
    resumed = Trainer(_net(), RESUME_CFG, out=out, resume=True)
    resumed.fit(small)
    _assert_same_weights(resumed.model, reference.model)


class _CtrlC(Callback):
    def __init__(self, at: int) -> None:
        self.at = at

    def on_step_end(self, trainer, loss, correct, seen):
        if trainer.step == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_saves_a_checkpoint_and_resume_matches(small, reference, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(TrainingInterrupted, match=r"interrupted at step 7; checkpoint saved"):
        Trainer(_net(), RESUME_CFG, out=out, callbacks=[_CtrlC(7)]).fit(small)
    assert (out / "checkpoints" / "step-00000007.json").is_file()
    resumed = Trainer(_net(), RESUME_CFG, out=out, resume=True)
    resumed.fit(small)
    _assert_same_weights(resumed.model, reference.model)


class _NaNAfter(nn.Module):
    """Wraps a model and returns NaN from the ``at``-th training forward on."""

    def __init__(self, inner: nn.Module, at: int) -> None:
        super().__init__()
        self.inner, self.at, self.calls = inner, at, 0

    def forward(self, x):
        out = self.inner(x)
        if self.training:
            self.calls += 1
            if self.calls >= self.at:
                return out * float("nan")
        return out


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(small, tmp_path):
    out = tmp_path / "run"
    cfg = RESUME_CFG.replace(checkpoint_every=4)
    with pytest.raises(DivergedError, match=r"loss became nan at step 11 \(epoch 2, lr .*\); "
                                            r"the last good checkpoint is .*step-00000008"):
        Trainer(_NaNAfter(_net(), 11), cfg, out=out).fit(small)
    from striate.train.checkpoint import latest_checkpoint

    meta, tensors = latest_checkpoint(out / "checkpoints")
    assert meta["step"] == 8  # the epoch-end checkpoint; none after the bad step
    assert all(torch.isfinite(t).all() for k, t in tensors.items() if k.startswith("model."))


def test_a_new_run_never_reuses_a_non_empty_folder(small, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(RunError, match=r"already exists and is not empty; use --resume"):
        Trainer(_net(), RESUME_CFG, out=out)
    assert (out / "keep.txt").read_text() == "precious"
    with pytest.raises(RunError, match=r"not a striate run folder"):
        Trainer(_net(), RESUME_CFG, out=out, resume=True)


def test_resume_refuses_changed_options(small, reference):
    with pytest.raises(RunError, match=r"^--lr: the run used lr=0.01, not 0.1"):
        Trainer(_net(), RESUME_CFG.replace(lr=0.1), out=reference.out, resume=True)


def test_bad_data_is_a_one_line_error(tmp_path):
    x = torch.zeros(20, 1, 8, 8, dtype=torch.uint8)
    y = torch.arange(20) % 10
    y[3] = -1
    with pytest.raises(DataSpecError, match=r"label -1 is out of range 0..9 for 10 classes"):
        fit(tiny_cnn(), (x, y), TrainConfig(progress=False))
    with pytest.raises(DataSpecError, match=r"20 samples but 19 labels"):
        fit(tiny_cnn(), (x, y[:19]), TrainConfig(progress=False))
    y = torch.arange(20) % 3
    with pytest.raises(ShapeError, match=r"the model outputs \(10,\) per sample but the data "
                                         r"has 3 classes; build it with num_classes=3"):
        fit(tiny_cnn(), ((x, y)), TrainConfig(progress=False, val_fraction=0))
    with pytest.raises(ShapeError, match=r"samples \(1, 8, 8\) are larger than the model's "
                                         r"input \(1, 4, 4\)"):
        fit(tiny_cnn(), (x, y), TrainConfig(progress=False), input_shape=(1, 4, 4))
    for err in (DataSpecError, ShapeError):
        assert issubclass(err, StriateError)


def test_softmax_output_models_are_trained_on_log_probabilities(digits):
    # log(softmax(z)) = log_softmax(z): both models must follow the same path
    cfg = TrainConfig(epochs=3, lr=1e-2, batch_size=32, progress=False, threads=1)
    run = fit(nn.Sequential(tiny_cnn(), nn.Softmax(dim=1)), digits.subset(range(300)), cfg)
    plain = fit(tiny_cnn(), digits.subset(range(300)), cfg)
    assert run.preprocess.outputs == "probs"
    assert plain.preprocess.outputs == "logits"
    for a, b in zip(run.history, plain.history, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-3)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-3)
    probs = run.predict(digits.x[:5])
    assert torch.allclose(probs.sum(1), torch.ones(5), atol=1e-5)


def test_python_model_run_keeps_weights_and_loads_with_the_model(small, reference):
    with pytest.raises(RunError, match=r"load_run\(path, model=YourModel\(\)\)"):
        load_run(reference.out)
    run = load_run(reference.out, model=_net())
    _assert_same_weights(run.model, reference.model)
    assert run.classes == [str(i) for i in range(10)]
    assert run.preprocess.input_shape == (1, 8, 8)


def test_early_stopping_and_restore_best(small):
    cfg = TrainConfig(epochs=30, batch_size=64, lr=3e-2, early_stopping=2, monitor="val_acc",
                      restore_best=True, progress=False, threads=1, schedule="constant")
    run = Trainer(tiny_cnn(), cfg).fit(small)
    accs = [r["val_acc"] for r in run.history]
    if run.status == "early-stopped":
        assert len(accs) < 30
        assert max(accs[-2:]) <= max(accs[:-2])  # two epochs without a new best
    assert run.best_epoch == accs.index(max(accs)) + 1
    # the model holds the best epoch's weights: it scores that epoch's validation accuracy
    from striate.train.prepare import as_labelled, split_validation

    _, val = split_validation(as_labelled(small), cfg.val_fraction, cfg.seed)
    assert run.evaluate(val).top1 == pytest.approx(max(accs))


def test_force_starts_afresh_without_the_old_checkpoints(small, reference, tmp_path):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(reference.out, out)  # a finished 24-step run
    (out / "notes.txt").write_text("mine")
    short = RESUME_CFG.replace(epochs=1)
    Trainer(_net(), short, out=out, force=True).fit(small, stop_after=6)
    from striate.train.checkpoint import latest_checkpoint

    meta, _ = latest_checkpoint(out / "checkpoints")
    assert meta["step"] == 5  # the new run's, not the old step 24
    assert (out / "notes.txt").read_text() == "mine"


def test_weight_average_is_what_the_run_keeps_and_an_uncopyable_model_is_named(small):
    import threading

    cfg = TrainConfig(epochs=1, batch_size=32, progress=False, threads=1, val_fraction=0.0)
    trainer = Trainer(_net(), cfg)
    run = trainer.fit(small)
    # the kept model is the average, not the last step's weights
    kept = run.model.state_dict()
    averaged = trainer.ema_model.state_dict()
    assert all(torch.equal(kept[k], averaged[k]) for k in kept)

    class Locked(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = _net()
            self.lock = threading.Lock()  # deepcopy cannot copy a lock

        def forward(self, x):
            return self.net(x)

    with pytest.raises(StriateError, match=r"^--ema: the weight average needs a copy"):
        Trainer(Locked(), cfg).fit(small)
    assert Trainer(Locked(), cfg.replace(ema=0.0)).fit(small).status == "finished"
