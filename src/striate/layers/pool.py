"""Pooling over a window: max (with switches), average, L2-norm; global average and max.

Shape:
    out = floor((W − d·(k − 1) − 1 + 2P)/S) + 1 per spatial axis (``ceil`` with
    ``ceil_mode=True``, Caffe's rule; a last window must still start inside the input).
    The channel count is unchanged. Pools have no parameters and count 0 multiply-adds.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from striate.layers._util import check_rank, kxs, ntuple, rethrow_shape, torch_forward
from striate.layers._window import ceil_fix, compact, dropped, spatial_output
from striate.layers.base import Layer, RFParams, Shape
from striate.layers.errors import ConfigError
from striate.layers.registry import register_layer


def pool_args(dims: int, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any = 1) -> tuple[tuple[int, ...], ...]:
    """Check pooling arguments; ``stride=None`` means the kernel size (no overlap)."""
    k = ntuple(kernel_size, dims, "kernel_size")
    s = k if stride is None else ntuple(stride, dims, "stride")
    p = ntuple(padding, dims, "padding", minimum=0)
    d = ntuple(dilation, dims, "dilation")
    if any(2 * pi > ki for pi, ki in zip(p, k, strict=True)):
        raise ConfigError(
            f"padding must be at most half the kernel size. "
            f"Received: padding={padding!r}, kernel_size={kernel_size!r}"
        )
    return k, s, p, d


class _PoolBase(Layer):
    """Window arithmetic of the pools; subclasses set ``_dims`` and ``_axes``."""

    _dims: int
    _axes: str

    def _window(self) -> tuple[tuple[int, ...], ...]:
        dilation = getattr(self, "dilation", 1)
        return pool_args(self._dims, self.kernel_size, self.stride, self.padding, dilation)

    def describe(self) -> str:
        k, s, _, _ = self._window()
        return f"{type(self).__name__}({kxs(k, s)})"

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        """``(C, *spatial) -> (C, *spatial')``; see the module docstring."""
        shape = check_rank(in_shape, self._dims + 1, self.describe(), self._axes)
        k, s, p, d = self._window()
        out = spatial_output(self.describe(), shape[1:], k, s, [(q, q) for q in p], d,
                             ceil_mode=bool(getattr(self, "ceil_mode", False)), strict=strict,
                             also=ceil_fix(self))
        return (shape[0], *out)

    def dropped_inputs(self, in_shape: Shape) -> tuple[int, ...]:
        shape = check_rank(in_shape, self._dims + 1, self.describe(), self._axes)
        k, s, p, d = self._window()
        return dropped(self.describe(), shape[1:], k, s, [(q, q) for q in p], d,
                       bool(getattr(self, "ceil_mode", False)))

    def rf(self, in_shape: Shape | None = None) -> RFParams:
        return RFParams(*self._window())

    def _window_config(self) -> dict[str, Any]:
        k, s, p, _ = self._window()
        return {"kernel_size": compact(k), "stride": compact(s), "padding": compact(p)}

    def _check_ceil(self, x: torch.Tensor) -> None:
        """With ceil_mode PyTorch accepts a window larger than the input; striate does not."""
        if getattr(self, "ceil_mode", False) and not isinstance(x, torch.fx.Proxy):
            self.output_shape(tuple(x.shape[1:]))

    def forward(self, x: torch.Tensor) -> Any:
        self._check_ceil(x)
        try:
            return torch_forward(self, x)
        except RuntimeError as err:
            rethrow_shape(self, x, err)
            raise


class _MaxPoolBase(_PoolBase):
    def config(self) -> dict[str, Any]:
        return {**self._window_config(), "dilation": compact(self._window()[3]),
                "return_indices": self.return_indices, "ceil_mode": self.ceil_mode}


@register_layer("max_pool2d")
class MaxPool2d(_MaxPoolBase, nn.MaxPool2d):
    """2-D max pooling; ``return_indices=True`` also returns the switches (where each max
    came from) for :class:`MaxUnpool2d` (SegNet, DeconvNet).

    Shape:
        (C, H, W) -> (C, H', W'), H' = floor((H − d·(k − 1) − 1 + 2P)/S) + 1
    """

    _dims = 2
    _axes = "(C, H, W)"

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        pool_args(2, kernel_size, stride, padding, dilation)
        super().__init__(kernel_size, stride, padding, dilation, return_indices, ceil_mode)


@register_layer("max_pool1d")
class MaxPool1d(_MaxPoolBase, nn.MaxPool1d):
    """1-D max pooling on ``(C, L)`` sequences.

    Shape:
        (C, L) -> (C, L'), L' = floor((L − d·(k − 1) − 1 + 2P)/S) + 1
    """

    _dims = 1
    _axes = "(C, L)"

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0,
                 dilation: int = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        pool_args(1, kernel_size, stride, padding, dilation)
        super().__init__(kernel_size, stride, padding, dilation, return_indices, ceil_mode)


@register_layer("avg_pool2d")
class AvgPool2d(_PoolBase, nn.AvgPool2d):
    """2-D average pooling.

    Shape:
        (C, H, W) -> (C, H', W'), H' = floor((H − k + 2P)/S) + 1
    """

    _dims = 2
    _axes = "(C, H, W)"

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        pool_args(2, kernel_size, stride, padding)
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override)

    def config(self) -> dict[str, Any]:
        return {**self._window_config(), "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}


@register_layer("avg_pool1d")
class AvgPool1d(_PoolBase, nn.AvgPool1d):
    """1-D average pooling on ``(C, L)`` sequences.

    Shape:
        (C, L) -> (C, L'), L' = floor((L − k + 2P)/S) + 1
    """

    _dims = 1
    _axes = "(C, L)"

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        pool_args(1, kernel_size, stride, padding)
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def config(self) -> dict[str, Any]:
        return {**self._window_config(), "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad}


@register_layer("l2_pool2d")
class L2Pool2d(_PoolBase, nn.LPPool2d):
    """L2-norm pooling: the square root of the sum of squares over each window.

    Shape:
        (C, H, W) -> (C, H', W'), H' = floor((H − k + 2P)/S) + 1
    """

    _dims = 2
    _axes = "(C, H, W)"

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False) -> None:
        k, s, _, _ = pool_args(2, kernel_size, stride, padding)
        super().__init__(2, k, s, ceil_mode)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s, p, _ = self._window()
        self._check_ceil(x)
        try:
            # divisor_override=1 makes avg_pool2d a window sum, also for ceil_mode overhangs.
            sums = F.avg_pool2d(x * x, k, s, p, self.ceil_mode, True, 1)
        except RuntimeError as err:
            rethrow_shape(self, x, err)
            raise
        # Clamp inside the sqrt so an all-zero window has a zero, not an infinite, gradient.
        return torch.where(sums > 0, sums.clamp_min(1e-30).sqrt(), torch.zeros_like(sums))

    def config(self) -> dict[str, Any]:
        return {**self._window_config(), "ceil_mode": self.ceil_mode}


class _GlobalBase(Layer):
    _dims: int
    _axes: str

    def __init__(self, keepdim: bool = False) -> None:
        super().__init__(1)  # the torch adaptive pool, to one position per axis
        self.keepdim = bool(keepdim)

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        """``(C, *spatial) -> (C,)``, or ``(C, 1, …)`` with ``keepdim=True``."""
        shape = check_rank(in_shape, self._dims + 1, type(self).__name__, self._axes)
        return (shape[0], *(1,) * self._dims) if self.keepdim else (shape[0],)

    def config(self) -> dict[str, Any]:
        return {"keepdim": self.keepdim}

    def rf(self, in_shape: Shape | None = None) -> None:
        """None: each output sees its whole input, which depends on the input size."""
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch_forward(self, x)
        return out if self.keepdim else out.flatten(-1 - self._dims)


@register_layer("global_avg_pool2d")
class GlobalAvgPool2d(_GlobalBase, nn.AdaptiveAvgPool2d):
    """Average over all positions of each channel (Network in Network, GoogLeNet, ResNet).

    Shape:
        (C, H, W) -> (C,)   (``(C, 1, 1)`` with ``keepdim=True``)
    """

    _dims = 2
    _axes = "(C, H, W)"


@register_layer("global_avg_pool1d")
class GlobalAvgPool1d(_GlobalBase, nn.AdaptiveAvgPool1d):
    """Average over the whole sequence of each channel.

    Shape:
        (C, L) -> (C,)   (``(C, 1)`` with ``keepdim=True``)
    """

    _dims = 1
    _axes = "(C, L)"


@register_layer("global_max_pool2d")
class GlobalMaxPool2d(_GlobalBase, nn.AdaptiveMaxPool2d):
    """Maximum over all positions of each channel.

    Shape:
        (C, H, W) -> (C,)   (``(C, 1, 1)`` with ``keepdim=True``)
    """

    _dims = 2
    _axes = "(C, H, W)"


@register_layer("global_max_pool1d")
class GlobalMaxPool1d(_GlobalBase, nn.AdaptiveMaxPool1d):
    """Maximum over the whole sequence of each channel (DeepBind's motif detectors).

    Shape:
        (C, L) -> (C,)   (``(C, 1)`` with ``keepdim=True``)
    """

    _dims = 1
    _axes = "(C, L)"
