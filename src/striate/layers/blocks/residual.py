"""Residual blocks (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016).

``BasicBlock``: two 3×3 convolutions (ResNet-18/34, the CIFAR ResNets). ``Bottleneck``:
1×1 reduce, 3×3, 1×1 expand (ResNet-50/101/152). Each convolution is followed by batch
norm; the sum with the shortcut is followed by a ReLU.

Shortcuts when the shape changes (section 3.3 of the paper):

- ``"identity"``: ``x`` itself (only when channels and size are unchanged);
- ``"zero_pad"`` (option A): subsample with the stride and append zero channels, no
  parameters (the CIFAR ResNets);
- ``"projection"`` (option B): a strided 1×1 convolution and batch norm.

The default (``shortcut=None``) is identity when the shape is unchanged, else projection.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from striate.layers._util import positive
from striate.layers._window import spatial_output
from striate.layers.activation import ReLU
from striate.layers.base import Layer, RFParams, Shape
from striate.layers.blocks._base import Block
from striate.layers.container import Sequential, chain_macs, chain_shape, located
from striate.layers.conv import Conv2d
from striate.layers.dense import Identity
from striate.layers.errors import ConfigError, ShapeError, StriateError
from striate.layers.merge import Add
from striate.layers.norm import BatchNorm2d
from striate.layers.registry import register_layer

SHORTCUTS = ("identity", "zero_pad", "projection")


@register_layer("zero_pad_shortcut")
class ZeroPadShortcut(Layer, nn.Module):
    """Option A shortcut: keep every ``stride``-th position and append ``out − in`` zero
    channels. No parameters.

    Shape:
        (C_in, H, W) -> (C_out, ceil(H/S), ceil(W/S))
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        positive("in_channels", in_channels)
        positive("out_channels", out_channels)
        positive("stride", stride)
        if out_channels < in_channels:
            raise ConfigError(
                f"a zero-padding shortcut cannot reduce channels; use shortcut='projection'. "
                f"Received: in_channels={in_channels}, out_channels={out_channels}"
            )
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shape = tuple(in_shape)
        if len(shape) != 3 or shape[0] != self.in_channels:
            raise ShapeError(
                f"ZeroPadShortcut({self.in_channels}→{self.out_channels}) expects "
                f"({self.in_channels}, H, W) but received shape {shape}"
            )
        # Keeping every S-th position is a 1×1 window with stride S.
        s = (self.stride, self.stride)
        out = spatial_output("ZeroPadShortcut", shape[1:], (1, 1), s, [(0, 0)] * 2, (1, 1))
        return (self.out_channels, *out)

    def rf(self, in_shape: Shape | None = None) -> RFParams:
        return RFParams((1, 1), (self.stride, self.stride), (0, 0), (1, 1))

    def config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "stride": self.stride}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[..., ::self.stride, ::self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, 0, extra)) if extra else x


def _shortcut(kind: str | None, in_channels: int, out_channels: int, stride: int) -> nn.Module:
    same = in_channels == out_channels and stride == 1
    kind = kind or ("identity" if same else "projection")
    if kind not in SHORTCUTS:
        raise ConfigError(f"shortcut must be one of {', '.join(SHORTCUTS)}. "
                          f"Received: shortcut={kind!r}")
    if kind == "identity":
        if not same:
            raise ConfigError(
                f"shortcut='identity' needs in_channels == out_channels and stride=1; use "
                f"shortcut='projection' or 'zero_pad'. Received: in_channels={in_channels}, "
                f"out_channels={out_channels}, stride={stride}"
            )
        return Identity()
    if kind == "zero_pad":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    return Sequential(Conv2d(in_channels, out_channels, 1, stride, bias=False),
                      BatchNorm2d(out_channels))


class _Residual(Block, nn.Module):
    """``relu(main(x) + shortcut(x))``; subclasses list the main path in ``_main``."""

    _main: tuple[str, ...]
    shortcut: nn.Module
    add: Add
    out_relu: ReLU

    def _main_path(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in self._main]

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        main = chain_shape(self._main_path(), in_shape, strict=strict)
        short = chain_shape([("shortcut", self.shortcut)], in_shape, strict=strict)
        try:
            return self.out_relu.output_shape(self.add.output_shape(main, short))
        except StriateError as err:
            raise located(err, "add") from None

    def macs(self, in_shape: Shape) -> int:
        return chain_macs(self._main_path(), in_shape) + chain_macs(
            [("shortcut", self.shortcut)], in_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for name in self._main:
            out = getattr(self, name)(out)
        return self.out_relu(self.add(out, self.shortcut(x)))


@register_layer("basic_block")
class BasicBlock(_Residual):
    """ResNet basic block: 3×3 conv (stride) - BN - ReLU - 3×3 conv - BN, plus the shortcut,
    then ReLU.

    Shape:
        (C_in, H, W) -> (C_out, ceil(H/S), ceil(W/S))
    """

    expansion = 1
    _main = ("conv1", "bn1", "relu", "conv2", "bn2")

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 shortcut: str | None = None) -> None:
        super().__init__()
        positive("stride", stride)
        self._remember(in_channels=in_channels, out_channels=out_channels, stride=stride,
                       shortcut=shortcut)
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = BatchNorm2d(out_channels)
        self.relu = ReLU()
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = BatchNorm2d(out_channels)
        self.shortcut = _shortcut(shortcut, in_channels, out_channels, stride)
        self.add = Add()
        self.out_relu = ReLU()


@register_layer("bottleneck")
class Bottleneck(_Residual):
    """ResNet bottleneck block: 1×1 conv to ``mid_channels`` - 3×3 conv - 1×1 conv to
    ``out_channels`` (default ``4·mid_channels``), each with BN, ReLU after the first two
    and after the sum.

    Args:
        stride_on: ``"3x3"`` puts the stride on the 3×3 convolution (torchvision's
            "ResNet v1.5", slightly more accurate); ``"1x1"`` on the first 1×1 convolution,
            as in the paper.

    Shape:
        (C_in, H, W) -> (C_out, ceil(H/S), ceil(W/S))
    """

    expansion = 4
    _main = ("conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3")

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int | None = None,
                 stride: int = 1, shortcut: str | None = None, stride_on: str = "3x3") -> None:
        super().__init__()
        positive("stride", stride)
        if stride_on not in ("3x3", "1x1"):
            raise ConfigError(f"stride_on must be '3x3' or '1x1'. Received: stride_on="
                              f"{stride_on!r}")
        out = positive("mid_channels", mid_channels) * self.expansion \
            if out_channels is None else out_channels
        self._remember(in_channels=in_channels, mid_channels=mid_channels,
                       out_channels=out_channels, stride=stride, shortcut=shortcut,
                       stride_on=stride_on)
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = Conv2d(in_channels, mid_channels, 1, s1, bias=False)
        self.bn1 = BatchNorm2d(mid_channels)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(mid_channels, mid_channels, 3, s3, 1, bias=False)
        self.bn2 = BatchNorm2d(mid_channels)
        self.relu2 = ReLU()
        self.conv3 = Conv2d(mid_channels, out, 1, bias=False)
        self.bn3 = BatchNorm2d(out)
        self.shortcut = _shortcut(shortcut, in_channels, out, stride)
        self.add = Add()
        self.out_relu = ReLU()
