"""Training classifiers: a deterministic, resumable loop with a fast default recipe.

>>> from striate.train import TrainConfig, fit
>>> run = fit(model, "mnist-bundled", TrainConfig(epochs=10), out="runs/lenet")
>>> run.evaluate("mnist-bundled").top1

Runs write a folder (model file, config.json, metrics.jsonl/csv, checkpoints) that
:func:`load_run` reads back; ``striate train/evaluate/predict/demo`` are the CLI.
"""

from __future__ import annotations

from striate.train.callbacks import Callback
from striate.train.config import TrainConfig
from striate.train.metrics import Metrics
from striate.train.prepare import Preprocess
from striate.train.run import Run, RunError, load_run
from striate.train.trainer import DivergedError, Trainer, TrainingInterrupted, fit

__all__ = [
    "Callback",
    "DivergedError",
    "Metrics",
    "Preprocess",
    "Run",
    "RunError",
    "TrainConfig",
    "Trainer",
    "TrainingInterrupted",
    "fit",
    "load_run",
]
