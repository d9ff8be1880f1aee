"""Top-k accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import numpy as np
import torch

from striate.train.metrics import Metrics, confusion_matrix, topk_correct


def test_topk_counts_the_target_among_the_k_best():
    logits = torch.tensor([[0.1, 0.5, 0.4], [0.9, 0.05, 0.05], [0.2, 0.3, 0.5]])
    target = torch.tensor([2, 0, 0])
    assert topk_correct(logits, target, 1) == 1  # only row 1
    assert topk_correct(logits, target, 2) == 2  # row 0's second best is 2
    assert topk_correct(logits, target, 5) == 3  # k larger than the classes: all


def test_confusion_matrix_rows_are_true_classes():
    t = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    m = confusion_matrix(t, p, 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    metrics = Metrics(loss=0.0, top1=4 / 6, top5=1.0, count=6, confusion=m,
                      classes=["a", "b", "c"])
    assert metrics.per_class.tolist() == [0.5, 1.0, 2 / 3]
    text = metrics.table()
    assert "66.67%" in text
    assert "confusion matrix" in text
    assert metrics.to_dict()["confusion"] == m.tolist()


def test_class_without_samples_is_nan_not_zero():
    m = confusion_matrix(np.array([0, 0]), np.array([0, 1]), 3)
    per = Metrics(0.0, 0.5, 1.0, 2, m).per_class
    assert per[0] == 0.5
    assert np.isnan(per[2])


def test_curve_legends_say_what_separates_training_from_validation():
    from striate.train.config import TrainConfig
    from striate.train.demo import demo_config
    from striate.train.report import curve_labels

    assert curve_labels(None) == ("training", "validation")
    assert curve_labels(demo_config()) == ("training (smoothed labels, augmented)",
                                           "validation (weight average)")
    plain = TrainConfig(label_smoothing=0.0, ema=0.0)
    assert curve_labels(plain) == ("training", "validation")
    assert curve_labels(TrainConfig()) == ("training (smoothed labels)",
                                           "validation (weight average)")
