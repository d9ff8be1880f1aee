"""Turning a labelled data set into batches the model accepts, the same way every time.

:class:`Preprocess` records what a run did to raw samples (0–1 scaling of uint8, zero
padding up to the model's input size, per-channel normalisation) so that evaluation and
prediction repeat it exactly from the run folder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from striate.layers.errors import ShapeError, StriateError


class DataSpecError(StriateError, ValueError):
    """Training data that cannot be used as given (shapes, labels, dtypes)."""


@dataclass
class Preprocess:
    """From raw samples (as stored) to model inputs.

    Attributes:
        raw_shape: one raw sample, e.g. ``(1, 28, 28)``.
        input_shape: what the model receives, e.g. ``(1, 32, 32)``.
        mean, std: per-channel statistics on the 0–1 scale (uint8 is divided by 255).
        outputs: ``logits`` or ``probs`` (a model that ends in a softmax, as Keras
            examples do); the loss and the probabilities account for it.
    """

    raw_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    outputs: str = "logits"

    def log_probs(self, out: torch.Tensor) -> torch.Tensor:
        """Log-probabilities from the model's outputs (float32)."""
        out = out.float()
        if self.outputs == "probs":
            return out.clamp_min(1e-12).log()
        return out.log_softmax(dim=1)

    @property
    def pad(self) -> list[int]:
        """``F.pad`` amounts (last axis first), centring the raw sample in the input."""
        out: list[int] = []
        for raw, want in reversed(list(zip(self.raw_shape[1:], self.input_shape[1:],
                                           strict=True))):
            extra = want - raw
            out += [extra // 2, extra - extra // 2]
        return out

    def scale(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw batch to float on the 0–1 scale, padded to the input size (zeros)."""
        x = raw.to(torch.float32).div_(255.0) if raw.dtype == torch.uint8 else raw.float()
        pad = self.pad
        if any(pad):
            x = F.pad(x, pad)
        return x

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Subtract the mean and divide by the std, per channel."""
        if not self.mean:
            return x
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(shape)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(shape)
        return (x - mean) / std

    def __call__(self, raw: torch.Tensor) -> torch.Tensor:
        return self.normalize(self.scale(raw))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in the run's ``config.json`` and model metadata)."""
        return {"raw_shape": list(self.raw_shape), "input_shape": list(self.input_shape),
                "mean": list(self.mean), "std": list(self.std), "outputs": self.outputs}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Preprocess:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(values["raw_shape"]), tuple(values["input_shape"]),
                   [float(v) for v in values.get("mean") or []],
                   [float(v) for v in values.get("std") or []],
                   str(values.get("outputs", "logits")))


@dataclass
class Labelled:
    """Raw samples and labels in memory (the training engine's view of a data set)."""

    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    name: str = "data"

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, index: torch.Tensor) -> Labelled:
        """The samples at ``index``."""
        return Labelled(self.x[index], self.y[index], self.classes, self.name)


def load_named(name: str, split: str = "train", root: str | None = None,
               options: dict[str, Any] | None = None) -> Any:
    """``striate.data.load_dataset`` with an optional root folder and the data set's own
    options (``resize`` for folders, ``label_mode`` for cifar100, ...)."""
    from striate.data import load_dataset

    if root:
        return load_dataset(name, split=split, root=root, **(options or {}))
    return load_dataset(name, split=split, **(options or {}))


def as_labelled(data: Any, split: str = "train", classes: list[str] | None = None
                ) -> Labelled:
    """Accept a data set name, an ``ArrayDataset``-like object or an ``(x, y)`` pair.

    Raises:
        DataSpecError: mismatched counts, labels out of range, unusable dtypes.
    """
    if isinstance(data, str):
        from striate.data import load_dataset

        data = load_dataset(data, split=split)
    if hasattr(data, "x") and hasattr(data, "y"):
        x, y = data.x, data.y
        classes = list(getattr(data, "classes", None) or classes or [])
        name = str(getattr(data, "name", "data"))
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
        name = "data"
    else:
        raise DataSpecError(f"training data must be a data set name, an ArrayDataset or an "
                            f"(x, y) pair, got {type(data).__name__}")
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y)
    return check_labelled(Labelled(x, y, classes or [], name))


def check_labelled(data: Labelled) -> Labelled:
    """Validate shapes, dtypes and label range; fill in class names if missing."""
    x, y, name = data.x, data.y, data.name
    if x.ndim < 2:
        raise DataSpecError(f"{name}: samples must be (N, C, H, W), (N, C, L) or (N, F), got "
                            f"shape {tuple(x.shape)}")
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise DataSpecError(f"{name}: samples are {x.dtype}; use uint8 images or float "
                            "arrays")
    if y.ndim != 1 or y.is_floating_point() or y.dtype == torch.bool:
        raise DataSpecError(f"{name}: labels must be integer class indices of shape (N,), "
                            f"got {y.dtype} {tuple(y.shape)}")
    if len(y) != len(x):
        raise DataSpecError(f"{name}: {len(x)} samples but {len(y)} labels; they must "
                            "match one for one")
    if len(x) == 0:
        raise DataSpecError(f"{name}: the data set is empty")
    y = y.long()
    low, high = int(y.min()), int(y.max())
    classes = list(data.classes) or [str(i) for i in range(high + 1)]
    if low < 0 or high >= len(classes):
        bad = low if low < 0 else high
        raise DataSpecError(f"{name}: label {bad} is out of range 0..{len(classes) - 1} "
                            f"for {len(classes)} classes; fix the labels or the class list")
    return Labelled(x, y, classes, name)


def split_validation(data: Labelled, fraction: float, seed: int
                     ) -> tuple[Labelled, Labelled | None]:
    """Hold out ``fraction`` of the samples, stratified by class, from a seeded shuffle."""
    if fraction <= 0:
        return data, None
    gen = torch.Generator().manual_seed(1_000_003 * seed + 17)
    perm = torch.randperm(len(data), generator=gen)
    labels = data.y[perm]
    val, train = [], []
    for c in torch.unique(labels).tolist():
        idx = perm[labels == c]
        k = math.floor(idx.numel() * fraction + 0.5)
        val.append(idx[:k])
        train.append(idx[k:])
    val_idx, train_idx = torch.sort(torch.cat(val)).values, torch.sort(torch.cat(train)).values
    if len(val_idx) == 0 and len(data) > 1:
        # too few samples per class to stratify: hold out a plain random share
        k = max(1, math.floor(len(data) * fraction + 0.5))
        val_idx, train_idx = torch.sort(perm[:k]).values, torch.sort(perm[k:]).values
    if len(val_idx) == 0 or len(train_idx) == 0:
        raise DataSpecError(f"{data.name}: --val-fraction {fraction} of {len(data)} samples "
                            f"leaves {len(train_idx)} to train and {len(val_idx)} to validate; "
                            "use more data or --val-fraction 0")
    return data.subset(train_idx), data.subset(val_idx)


def fit_input(raw_shape: tuple[int, ...], want: tuple[int, ...] | None, name: str
              ) -> tuple[int, ...]:
    """The model input shape for samples of ``raw_shape``: zero-pad up to ``want``.

    Raises:
        ShapeError: a different channel count or rank, or samples larger than ``want``.
    """
    if want is None:
        return tuple(raw_shape)
    want = tuple(int(v) for v in want)
    if len(want) != len(raw_shape) or want[0] != raw_shape[0]:
        raise ShapeError(f"{name}: samples are {tuple(raw_shape)} but the model expects "
                         f"{want}; use a model built for {tuple(raw_shape)} (e.g. "
                         f"--input-shape {' '.join(map(str, raw_shape))})")
    if any(r > w for r, w in zip(raw_shape[1:], want[1:], strict=True)):
        raise ShapeError(f"{name}: samples {tuple(raw_shape)} are larger than the model's "
                         f"input {want}; build the model for {tuple(raw_shape)}")
    return want


def channel_stats(data: Labelled, pre: Preprocess, chunk: int = 4096
                  ) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the raw samples on the 0–1 scale (no padding)."""
    if data.x.ndim < 3:
        return [], []
    c = data.x.shape[1]
    dims = [0, *range(2, data.x.ndim)]
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros(c, dtype=torch.float64)
    count = 0
    for start in range(0, len(data), chunk):
        x = data.x[start:start + chunk]
        x = x.double().div_(255.0) if x.dtype == torch.uint8 else x.double()
        total += x.sum(dim=dims).cpu()
        squares += (x * x).sum(dim=dims).cpu()
        count += x.numel() // c
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(0).sqrt().clamp_min(1e-6)
    return [float(v) for v in mean], [float(v) for v in std]
