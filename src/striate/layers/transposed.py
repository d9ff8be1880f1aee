"""Transposed convolutions ("deconvolution"): the gradient of a convolution with respect to
its input, used to upsample (FCN, SegNet decoders, DeconvNet).

Shape:
    out = (W − 1)·S − 2P + d·(k − 1) + 1 + output_padding per spatial axis.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from striate.layers._util import check_channels, check_rank, kxs, ntuple, rethrow_shape
from striate.layers._window import compact
from striate.layers.base import Layer, Shape
from striate.layers.conv import check_conv_args
from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import effective_kernel, transposed_conv_macs, transposed_output
from striate.layers.registry import register_layer


class _ConvTransposeBase(Layer):
    """Arithmetic of transposed convolutions.

    ``rf()`` is None: a transposed convolution moves by a fraction ``1/S`` of an input, which
    the integer window of :class:`RFParams` cannot express; the receptive-field engine must
    treat it by type (each output sees ``ceil(k/S)`` inputs per axis).
    """

    _dims: int
    _axes: str

    def describe(self) -> str:
        return f"{type(self).__name__}({kxs(self.kernel_size, self.stride)})"

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        """``(C_in, *spatial) -> (C_out, (W − 1)·S − 2P + d·(k − 1) + 1 + output_padding)``."""
        shape = check_rank(in_shape, self._dims + 1, self.describe(), self._axes)
        check_channels(shape, self.in_channels, self.describe())
        out = []
        for w, k, s, p, d, op in zip(shape[1:], self.kernel_size, self.stride, self.padding,
                                     self.dilation, self.output_padding, strict=True):
            size = transposed_output(w, k, s, p, d, op)
            if size <= 0:
                raise ShapeError(
                    f"{self.describe()}: ({w} − 1)·{s} − 2·{p} + {effective_kernel(k, d)} + {op}"
                    f" = {size} is not a positive size; use less padding"
                )
            out.append(size)
        return (self.out_channels, *out)

    def macs(self, in_shape: Shape) -> int:
        self.output_shape(in_shape)
        return transposed_conv_macs(tuple(in_shape), self.out_channels, self.kernel_size,
                                    self.groups)

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": compact(tuple(self.kernel_size)),
            "stride": compact(tuple(self.stride)),
            "padding": compact(tuple(self.padding)),
            "output_padding": compact(tuple(self.output_padding)),
            "groups": self.groups,
            "bias": self.bias is not None,
            "dilation": compact(tuple(self.dilation)),
        }

    def _init_checked(self, torch_cls: type, in_channels: int, out_channels: int,
                      kernel_size: Any, stride: Any, padding: Any, output_padding: Any,
                      groups: int, bias: bool, dilation: Any) -> None:
        check_conv_args(in_channels, out_channels, groups, "zeros")
        n = self._dims
        k, s, d = (ntuple(v, n, name) for v, name in ((kernel_size, "kernel_size"),
                                                      (stride, "stride"), (dilation, "dilation")))
        p = ntuple(padding, n, "padding", minimum=0)
        op = ntuple(output_padding, n, "output_padding", minimum=0)
        if any(o >= max(si, di) for o, si, di in zip(op, s, d, strict=True)):
            raise ConfigError(
                f"output_padding must be smaller than stride or dilation. "
                f"Received: output_padding={output_padding!r}, stride={stride!r}"
            )
        torch_cls.__init__(self, in_channels, out_channels, k, s, p, op, groups, bias, d)

    def _run(self, torch_cls: type, x: torch.Tensor,
             output_size: list[int] | None) -> torch.Tensor:
        try:
            out = torch_cls.forward(self, x, output_size)
        except RuntimeError as err:
            rethrow_shape(self, x, err)
            raise
        if out.numel() == 0 and x.numel() > 0:
            # Recent PyTorch returns an empty map where the padding eats the whole output.
            self.output_shape(tuple(x.shape[1:]))
        return out


@register_layer("conv_transpose2d")
class ConvTranspose2d(nn.ConvTranspose2d, _ConvTransposeBase):
    """2-D transposed convolution (the gradient of a convolution; "deconvolution").

    Shape:
        (C_in, H, W) -> (C_out, H'), H' = (H − 1)·S − 2P + d·(k − 1) + 1 + output_padding
    """

    _dims = 2
    _axes = "(C, H, W)"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int, int] = 1) -> None:
        self._init_checked(nn.ConvTranspose2d, in_channels, out_channels, kernel_size, stride,
                           padding, output_padding, groups, bias, dilation)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """``output_size`` picks among the sizes a strided input could have had."""
        return self._run(nn.ConvTranspose2d, x, output_size)


@register_layer("conv_transpose1d")
class ConvTranspose1d(nn.ConvTranspose1d, _ConvTransposeBase):
    """1-D transposed convolution.

    Shape:
        (C_in, L) -> (C_out, L'), L' = (L − 1)·S − 2P + d·(k − 1) + 1 + output_padding
    """

    _dims = 1
    _axes = "(C, L)"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] = 0,
                 output_padding: int | tuple[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int] = 1) -> None:
        self._init_checked(nn.ConvTranspose1d, in_channels, out_channels, kernel_size, stride,
                           padding, output_padding, groups, bias, dilation)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """``output_size`` picks among the sizes a strided input could have had."""
        return self._run(nn.ConvTranspose1d, x, output_size)
