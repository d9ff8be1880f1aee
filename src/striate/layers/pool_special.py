"""Pools with a twist: stochastic pooling, cross-channel maxout, and max unpooling."""

from __future__ import annotations

from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from striate.layers._util import check_rank, kxs, positive, rethrow_shape
from striate.layers._window import compact
from striate.layers.base import Layer, Shape
from striate.layers.errors import ShapeError
from striate.layers.formulas import transposed_output
from striate.layers.pool import _PoolBase, pool_args
from striate.layers.registry import register_layer


@register_layer("stochastic_pool2d")
class StochasticPool2d(_PoolBase, nn.Module):
    """Stochastic pooling (Zeiler & Fergus, ICLR 2013).

    In training each window outputs one of its activations, drawn with probability
    ``p_i = a_i / Σ_j a_j``; at test time it outputs the probability-weighted average
    ``Σ_i p_i·a_i = Σ a_i² / Σ a_i``. Activations are expected non-negative (after a ReLU);
    negative values are treated as 0. A window of zeros outputs 0. Padding adds zeros, which
    are never drawn.

    Shape:
        (C, H, W) -> (C, H', W'), H' = floor((H − k + 2P)/S) + 1
    """

    _dims = 2
    _axes = "(C, H, W)"

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        k, s, p, _ = pool_args(2, kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = k, s, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (ph, pw), _ = self._window()
        a = x.clamp_min(0)
        if ph or pw:
            a = F.pad(a, (pw, pw, ph, ph))
        try:
            windows = a.unfold(-2, kh, sh).unfold(-2, kw, sw)
        except RuntimeError as err:
            rethrow_shape(self, x, err)
            raise
        windows = windows.reshape(*windows.shape[:-2], kh * kw)
        if self.training:
            cumulative = windows.cumsum(-1)
            total = cumulative[..., -1:]
            # Inverse-CDF sampling: the first position whose running sum exceeds u·total;
            # zero activations add nothing to the running sum, so they are never drawn.
            u = torch.rand_like(total) * total
            index = (cumulative <= u).sum(-1, keepdim=True).clamp_max(kh * kw - 1)
            return windows.gather(-1, index).squeeze(-1)
        total = windows.sum(-1)
        weighted = (windows * windows).sum(-1)
        return torch.where(total > 0, weighted / total.clamp_min(1e-30),
                           torch.zeros_like(total))

    def config(self) -> dict[str, Any]:
        return self._window_config()


@register_layer("maxout")
class MaxoutPool(Layer, nn.Module):
    """Cross-channel max pooling (maxout, Goodfellow et al. 2013): the maximum over each
    group of ``pool_size`` consecutive channels.

    Shape:
        (C, *spatial) -> (C / pool_size, *spatial)
    """

    def __init__(self, pool_size: int) -> None:
        super().__init__()
        self.pool_size = positive("pool_size", pool_size)

    def describe(self) -> str:
        return f"MaxoutPool(pool_size={self.pool_size})"

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shape = tuple(int(s) for s in in_shape)
        if not shape or shape[0] % self.pool_size:
            channels = shape[0] if shape else 0
            raise ShapeError(
                f"{self.describe()}: {channels} channels (shape {shape}) do not split into "
                f"groups of {self.pool_size}; use a channel count divisible by {self.pool_size}"
            )
        return (shape[0] // self.pool_size, *shape[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.fx.Proxy) and x.shape[1] % self.pool_size:
            self.output_shape(tuple(x.shape[1:]))
        return x.unflatten(1, (-1, self.pool_size)).amax(2)

    def config(self) -> dict[str, Any]:
        return {"pool_size": self.pool_size}


@register_layer("max_unpool2d")
class MaxUnpool2d(Layer, nn.MaxUnpool2d):
    """Put pooled maxima back where they came from (the switches of
    ``MaxPool2d(return_indices=True)``), zeros elsewhere (SegNet, DeconvNet).

    ``forward(x, indices, output_size=None)``; pass ``output_size`` when the pooled input had
    trailing rows that the pool dropped.

    Shape:
        (C, H, W) -> (C, H', W'), H' = (H − 1)·S − 2P + k
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        k, s, p, _ = pool_args(2, kernel_size, stride, padding)
        super().__init__(k, s, p)

    def describe(self) -> str:
        return f"MaxUnpool2d({kxs(self.kernel_size, self.stride)})"

    def output_shape(self, in_shape: Shape, indices_shape: Shape | None = None, *,
                     strict: bool = False) -> Shape:
        shape = check_rank(in_shape, 3, self.describe(), "(C, H, W)")
        if indices_shape is not None and tuple(indices_shape) != shape:
            raise ShapeError(
                f"{self.describe()}: the indices {tuple(indices_shape)} must have the shape "
                f"of the input {shape}; pass the switches of the matching MaxPool2d"
            )
        out = tuple(transposed_output(w, k, s, p) for w, k, s, p in
                    zip(shape[1:], self.kernel_size, self.stride, self.padding, strict=True))
        return (shape[0], *out)

    def forward(self, x: torch.Tensor, indices: torch.Tensor,
                output_size: list[int] | None = None) -> torch.Tensor:
        return nn.MaxUnpool2d.forward(self, x, indices, output_size)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": compact(tuple(self.kernel_size)),
                "stride": compact(tuple(self.stride)), "padding": compact(tuple(self.padding))}
