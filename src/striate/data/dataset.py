"""`ArrayDataset`: a whole data set held in memory as two tensors.

Images are kept as uint8 ``(N, C, H, W)`` (four times smaller than float32, converted
batch by batch with :func:`to_float`); sequences as float32 ``(N, C, L)``. Labels are int64
``(N,)``, or ``(N, H, W)`` masks for segmentation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import torch

from striate.data.errors import DataError

# chunk size (samples) for the statistics, so CIFAR-sized sets never need a float copy
_STATS_CHUNK = 4096


def to_float(x: torch.Tensor) -> torch.Tensor:
    """Convert a batch to float32 on the 0–1 scale (uint8 is divided by 255).

    Shape: unchanged.
    """
    if x.dtype == torch.uint8:
        return x.to(torch.float32).div_(255.0)
    return x.to(torch.float32)


class ArrayDataset:
    """A labelled data set in memory.

    Attributes:
        x: uint8 ``(N, C, H, W)`` images, or float32 ``(N, C, L)`` / ``(N, C, H, W)``.
        y: int64 ``(N,)`` class indices, or int64 ``(N, H, W)`` segmentation masks.
        classes: the class names; ``y`` holds indices into it.
        name: the data set's name (as given to ``load_dataset``), used in messages.
        info: free-form JSON-able facts (source files, generator options).

    Raises:
        DataError: the arrays disagree (counts, label range, dtypes).
    """

    def __init__(self, x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray,
                 classes: Sequence[str], name: str = "data",
                 info: dict[str, Any] | None = None) -> None:
        x = torch.as_tensor(x)
        y = torch.as_tensor(y)
        if x.dtype != torch.uint8:
            x = x.to(torch.float32)
        y = y.to(torch.int64)
        if x.ndim not in (3, 4):
            raise DataError(f"{name}: samples must be (N, C, L) or (N, C, H, W), got shape "
                            f"{tuple(x.shape)}; add the channel axis (x[:, None])")
        if y.shape[0] != x.shape[0]:
            raise DataError(f"{name}: {x.shape[0]} samples but {y.shape[0]} labels; the image "
                            "and label files must come from the same split")
        is_mask = y.ndim == 3 and x.ndim == 4 and tuple(y.shape[1:]) == tuple(x.shape[2:])
        if y.ndim != 1 and not is_mask:
            raise DataError(f"{name}: labels must be (N,) or (N, H, W) masks matching the "
                            f"images {tuple(x.shape)}, got {tuple(y.shape)}")
        classes = [str(c) for c in classes]
        if not classes:
            raise DataError(f"{name}: no class names given; pass classes=[...]")
        if y.numel():
            low, high = int(y.min()), int(y.max())
            if low < 0 or high >= len(classes):
                bad = low if low < 0 else high
                raise DataError(f"{name}: label {bad} is out of range 0..{len(classes) - 1} "
                                f"({len(classes)} classes); check the label file or the "
                                "class list")
        self.x = x
        self.y = y
        self.classes = classes
        self.name = name
        self.info = dict(info or {})

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]

    def __repr__(self) -> str:
        return (f"ArrayDataset({self.name!r}, n={len(self)}, sample_shape={self.input_shape}, "
                f"dtype={str(self.x.dtype).removeprefix('torch.')}, "
                f"classes={len(self.classes)})")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample, e.g. ``(1, 28, 28)``."""
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        """The number of classes (``len(classes)``)."""
        return len(self.classes)

    def subset(self, indices: Sequence[int] | torch.Tensor | np.ndarray | slice) -> ArrayDataset:
        """A new data set holding the given samples (indices in that order, a slice, or a
        boolean mask)."""
        if not isinstance(indices, slice):
            indices = torch.as_tensor(np.asarray(indices)).reshape(-1)
            if indices.dtype == torch.bool:
                if indices.numel() != len(self):
                    raise DataError(f"{self.name}: boolean mask of {indices.numel()} for "
                                    f"{len(self)} samples; give one flag per sample")
                indices = indices.nonzero().reshape(-1)
            indices = indices.to(torch.int64)
            if indices.numel() and (int(indices.min()) < -len(self)
                                    or int(indices.max()) >= len(self)):
                raise DataError(f"{self.name}: subset index out of range for {len(self)} "
                                "samples")
        return ArrayDataset(self.x[indices], self.y[indices], self.classes, self.name,
                            self.info)

    def split(self, fraction: float, seed: int = 0) -> tuple[ArrayDataset, ArrayDataset]:
        """Split at random into two parts, the first holding ``fraction`` of the samples.

        Classification sets are stratified: each class gives ``round(n_c * fraction)`` of
        its ``n_c`` samples to the first part, so both parts keep the class balance. The
        same seed always gives the same split.

        Raises:
            DataError: ``fraction`` is not strictly between 0 and 1, or a part is empty.
        """
        if not 0.0 < float(fraction) < 1.0:
            raise DataError(f"{self.name}: split fraction {fraction} must be between 0 and 1 "
                            "(e.g. 0.9 keeps 90% in the first part)")
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise DataError(f"{self.name}: split seed must be an integer, got {seed!r}")
        gen = torch.Generator().manual_seed(int(seed))
        perm = torch.randperm(len(self), generator=gen)
        if self.y.ndim == 1:
            labels = self.y[perm]
            first, second = [], []
            for c in torch.unique(labels).tolist():
                idx = perm[labels == c]
                k = math.floor(idx.numel() * fraction + 0.5)
                first.append(idx[:k])
                second.append(idx[k:])
            a, b = torch.cat(first), torch.cat(second)
        else:
            k = math.floor(len(self) * fraction + 0.5)
            a, b = perm[:k], perm[k:]
        if a.numel() == 0 or b.numel() == 0:
            raise DataError(f"{self.name}: split({fraction}) of {len(self)} samples leaves "
                            f"{a.numel()} and {b.numel()}; use a fraction nearer 0.5 or more "
                            "data")
        return self.subset(torch.sort(a).values), self.subset(torch.sort(b).values)

    def channel_stats(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Per-channel mean and standard deviation over all samples and positions.

        uint8 images are measured on the 0–1 scale (the scale :func:`to_float` gives), so
        the result is what a ``Normalize(mean, std)`` after ``to_float`` needs. The
        standard deviation is the population one (divide by the count), accumulated in
        float64 (exact integer sums for uint8).

        Returns:
            ``(mean, std)``, each a tuple of ``C`` floats.
        """
        channels = int(self.x.shape[1])
        count = len(self) * math.prod(self.x.shape[2:])
        if count == 0:
            raise DataError(f"{self.name}: no samples to compute statistics from")
        dims = [0, *range(2, self.x.ndim)]
        if self.x.dtype == torch.uint8:
            total = torch.zeros(channels, dtype=torch.int64)
            squares = torch.zeros(channels, dtype=torch.int64)
            for start in range(0, len(self), _STATS_CHUNK):
                chunk = self.x[start:start + _STATS_CHUNK].to(torch.int64)
                total += chunk.sum(dim=dims)
                squares += (chunk * chunk).sum(dim=dims)
            mean = total.double() / count
            var = squares.double() / count - mean * mean
            mean, std = mean / 255.0, var.clamp_min(0).sqrt() / 255.0
        else:
            total = torch.zeros(channels, dtype=torch.float64)
            for start in range(0, len(self), _STATS_CHUNK):
                total += self.x[start:start + _STATS_CHUNK].double().sum(dim=dims)
            mean = total / count
            shape = [1, channels] + [1] * (self.x.ndim - 2)
            dev = torch.zeros(channels, dtype=torch.float64)
            for start in range(0, len(self), _STATS_CHUNK):
                chunk = self.x[start:start + _STATS_CHUNK].double() - mean.view(shape)
                dev += (chunk * chunk).sum(dim=dims)
            std = (dev / count).sqrt()
        return tuple(float(v) for v in mean), tuple(float(v) for v in std)
