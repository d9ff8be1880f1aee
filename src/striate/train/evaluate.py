"""Evaluation and prediction under ``torch.inference_mode``, batch by batch."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from striate.layers.errors import ShapeError
from striate.train.metrics import Metrics, confusion_matrix, topk_correct
from striate.train.prepare import Labelled, Preprocess, as_labelled


def _device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _check_shape(raw_shape: tuple[int, ...], pre: Preprocess, name: str) -> None:
    if tuple(raw_shape) != tuple(pre.raw_shape):
        raise ShapeError(f"{name}: samples are {tuple(raw_shape)} but the model was trained "
                         f"on {tuple(pre.raw_shape)}; use data of the same shape")


def evaluate(model: nn.Module, data: Any, preprocess: Preprocess, *, split: str = "test",
             classes: list[str] | None = None, batch_size: int = 1000,
             channels_last: bool = False) -> Metrics:
    """Loss, top-1/top-5 accuracy and the confusion matrix of ``model`` on ``data``.

    Args:
        data: a data set name (its ``split`` is loaded), an ArrayDataset or ``(x, y)``.
        preprocess: the run's preprocessing (padding, normalisation).

    Raises:
        DataSpecError / ShapeError: labels out of range, samples of another shape.
    """
    labelled = data if isinstance(data, Labelled) else as_labelled(data, split, classes)
    if classes and len(labelled.classes) != len(classes):
        from striate.train.prepare import DataSpecError

        raise DataSpecError(f"{labelled.name}: {len(labelled.classes)} classes, but the model "
                            f"was trained on {len(classes)}; evaluate on the same kind of "
                            "data")
    _check_shape(tuple(labelled.x.shape[1:]), preprocess, labelled.name)
    num_classes = len(classes or labelled.classes)
    device = _device_of(model)
    was_training = model.training
    model.eval()
    loss_sum, top1, top5 = 0.0, 0, 0
    preds = []
    try:
        with torch.inference_mode():
            for start in range(0, len(labelled), batch_size):
                xb = preprocess(labelled.x[start:start + batch_size].to(device))
                if channels_last and xb.ndim == 4:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                yb = labelled.y[start:start + batch_size].to(device)
                logits = preprocess.log_probs(model(xb))
                loss_sum += float(F.nll_loss(logits, yb, reduction="sum"))
                top1 += topk_correct(logits, yb, 1)
                top5 += topk_correct(logits, yb, 5)
                preds.append(logits.argmax(1).cpu())
    finally:
        model.train(was_training)
    n = len(labelled)
    return Metrics(loss=loss_sum / n, top1=top1 / n, top5=top5 / n, count=n,
                   confusion=confusion_matrix(labelled.y, torch.cat(preds), num_classes),
                   classes=list(classes or labelled.classes))


def predict_log_probs(model: nn.Module, raw: torch.Tensor, preprocess: Preprocess,
                      batch_size: int = 1000) -> torch.Tensor:
    """Log-probabilities ``(N, classes)`` for raw samples ``(N, *raw_shape)``."""
    device = _device_of(model)
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, raw.shape[0], batch_size):
                out.append(preprocess.log_probs(
                    model(preprocess(raw[start:start + batch_size].to(device)))).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def predict_proba(model: nn.Module, raw: torch.Tensor, preprocess: Preprocess,
                  batch_size: int = 1000) -> torch.Tensor:
    """Softmax probabilities ``(N, classes)`` for raw samples ``(N, *raw_shape)``."""
    return predict_log_probs(model, raw, preprocess, batch_size).exp()
