"""Classification metrics: top-k accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


def topk_correct(logits: torch.Tensor, target: torch.Tensor, k: int) -> int:
    """How many rows have ``target`` among their ``k`` largest logits."""
    k = min(k, logits.shape[1])
    top = logits.topk(k, dim=1).indices
    return int((top == target[:, None]).any(dim=1).sum())


def confusion_matrix(target: torch.Tensor | np.ndarray, predicted: torch.Tensor | np.ndarray,
                     num_classes: int) -> np.ndarray:
    """Counts ``m[i, j]`` of samples of true class ``i`` predicted as class ``j``."""
    t = torch.as_tensor(target).long().cpu()
    p = torch.as_tensor(predicted).long().cpu()
    flat = torch.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).numpy()


@dataclass
class Metrics:
    """Metrics of a model on one labelled set.

    ``top1``/``top5`` are fractions; ``per_class`` is the recall of each class (NaN for a
    class without samples); ``confusion[i, j]`` counts true ``i`` predicted as ``j``.
    """

    loss: float
    top1: float
    top5: float
    count: int
    confusion: np.ndarray
    classes: list[str] = field(default_factory=list)

    @property
    def per_class(self) -> np.ndarray:
        """Accuracy of each class: the diagonal over the row sums."""
        rows = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(rows > 0, np.diag(self.confusion) / np.maximum(rows, 1), np.nan)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"loss": self.loss, "top1": self.top1, "top5": self.top5,
                "count": self.count, "classes": list(self.classes),
                "per_class": [None if np.isnan(v) else float(v) for v in self.per_class],
                "confusion": self.confusion.tolist()}

    def table(self) -> str:
        """A plain-text report: totals, per-class accuracy and the confusion matrix."""
        lines = [f"samples  {self.count}", f"loss     {self.loss:.4f}",
                 f"top-1    {100 * self.top1:.2f}%", f"top-5    {100 * self.top5:.2f}%", ""]
        names = self.classes or [str(i) for i in range(len(self.confusion))]
        width = max(5, *(len(n) for n in names))
        lines.append(f"{'class':<{width}}  accuracy  samples")
        rows = self.confusion.sum(axis=1)
        for name, acc, n in zip(names, self.per_class, rows, strict=True):
            text = "   -" if np.isnan(acc) else f"{100 * acc:6.2f}%"
            lines.append(f"{name:<{width}}  {text:>8}  {n:7d}")
        lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
        cell = max(4, len(str(int(self.confusion.max(initial=0)))) + 1)
        short = [n[:cell - 1] for n in names]
        lines.append(" " * width + "".join(f"{s:>{cell}}" for s in short))
        for name, row in zip(names, self.confusion, strict=True):
            lines.append(f"{name:<{width}}" + "".join(f"{int(v):>{cell}}" for v in row))
        return "\n".join(lines)
