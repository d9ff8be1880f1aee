"""SqueezeNet's Fire module (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x
fewer parameters and <0.5MB model size", 2016)."""

from __future__ import annotations

import torch
from torch import nn

from striate.layers.activation import ReLU
from striate.layers.base import Shape
from striate.layers.blocks._base import Block
from striate.layers.container import Sequential, chain_macs, chain_shape, located
from striate.layers.conv import Conv2d
from striate.layers.errors import StriateError
from striate.layers.merge import Concat
from striate.layers.registry import register_layer


@register_layer("fire")
class Fire(Block, nn.Module):
    """Squeeze with ``squeeze`` 1×1 filters + ReLU, then expand with ``expand1x1`` 1×1 and
    ``expand3x3`` 3×3 filters (padding 1) side by side, each + ReLU, concatenated.

    Shape:
        (C_in, H, W) -> (expand1x1 + expand3x3, H, W)
    """

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        self._remember(in_channels=in_channels, squeeze=squeeze, expand1x1=expand1x1,
                       expand3x3=expand3x3)
        self.squeeze = Sequential(Conv2d(in_channels, squeeze, 1), ReLU())
        self.expand1x1 = Sequential(Conv2d(squeeze, expand1x1, 1), ReLU())
        self.expand3x3 = Sequential(Conv2d(squeeze, expand3x3, 3, padding=1), ReLU())
        self.concat = Concat(1)

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        mid = chain_shape([("squeeze", self.squeeze)], in_shape, strict=strict)
        a = chain_shape([("expand1x1", self.expand1x1)], mid, strict=strict)
        b = chain_shape([("expand3x3", self.expand3x3)], mid, strict=strict)
        try:
            return self.concat.output_shape(a, b)
        except StriateError as err:
            raise located(err, "concat") from None

    def macs(self, in_shape: Shape) -> int:
        mid = self.squeeze.output_shape(in_shape)
        return (chain_macs([("squeeze", self.squeeze)], in_shape)
                + chain_macs([("expand1x1", self.expand1x1)], mid)
                + chain_macs([("expand3x3", self.expand3x3)], mid))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return self.concat(self.expand1x1(x), self.expand3x3(x))
