"""DenseNet's dense block and transition layer (Huang et al., "Densely Connected
Convolutional Networks", CVPR 2017), the DenseNet-BC form with 1×1 bottlenecks."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from striate.layers._util import positive, probability
from striate.layers.activation import ReLU
from striate.layers.base import Shape
from striate.layers.blocks._base import Block
from striate.layers.container import Sequential, chain_macs, chain_shape, located
from striate.layers.conv import Conv2d
from striate.layers.dense import Dropout
from striate.layers.errors import StriateError
from striate.layers.merge import Concat
from striate.layers.norm import BatchNorm2d
from striate.layers.pool import AvgPool2d
from striate.layers.registry import register_layer


@register_layer("dense_layer")
class DenseLayer(Block, Sequential):
    """One layer of a dense block: BN-ReLU-1×1 conv (``bn_size·growth_rate``) -
    BN-ReLU-3×3 conv (``growth_rate``) [- dropout]. Outputs only the new ``growth_rate``
    channels; the block concatenates them to its input.

    Shape:
        (C, H, W) -> (growth_rate, H, W)
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4,
                 drop_rate: float = 0.0) -> None:
        mid = positive("bn_size", bn_size) * positive("growth_rate", growth_rate)
        layers = [("norm1", BatchNorm2d(in_channels)), ("relu1", ReLU()),
                  ("conv1", Conv2d(in_channels, mid, 1, bias=False)),
                  ("norm2", BatchNorm2d(mid)), ("relu2", ReLU()),
                  ("conv2", Conv2d(mid, growth_rate, 3, padding=1, bias=False))]
        if probability("drop_rate", drop_rate) > 0:
            layers.append(("dropout", Dropout(drop_rate)))
        super().__init__(OrderedDict(layers))
        self._remember(in_channels=in_channels, growth_rate=growth_rate, bn_size=bn_size,
                       drop_rate=drop_rate)

    def config(self) -> dict[str, Any]:
        return Block.config(self)

    def rf(self, in_shape: Shape | None = None) -> None:
        return None


@register_layer("dense_block")
class DenseBlock(Block, nn.Module):
    """``num_layers`` dense layers, each fed the concatenation of the block's input and all
    earlier layers' outputs.

    Shape:
        (C, H, W) -> (C + num_layers·growth_rate, H, W)
    """

    def __init__(self, in_channels: int, num_layers: int, growth_rate: int, bn_size: int = 4,
                 drop_rate: float = 0.0) -> None:
        super().__init__()
        positive("in_channels", in_channels)
        positive("num_layers", num_layers)
        self._remember(in_channels=in_channels, num_layers=num_layers, growth_rate=growth_rate,
                       bn_size=bn_size, drop_rate=drop_rate)
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate)
            for i in range(num_layers))
        self.concat = Concat(1)

    @property
    def out_channels(self) -> int:
        return self._options["in_channels"] + self._options["num_layers"] * \
            self._options["growth_rate"]

    def _fold(self, in_shape: Shape, strict: bool) -> tuple[Shape, int]:
        shape, macs = tuple(in_shape), 0
        for i, layer in enumerate(self.layers):
            pair = [(f"layers.{i}", layer)]
            macs += chain_macs(pair, shape)
            new = chain_shape(pair, shape, strict=strict)
            try:
                shape = self.concat.output_shape(shape, new)
            except StriateError as err:
                raise located(err, "concat") from None
        return shape, macs

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        return self._fold(in_shape, strict)[0]

    def macs(self, in_shape: Shape) -> int:
        return self._fold(in_shape, False)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = self.concat(x, layer(x))
        return x


@register_layer("transition")
class Transition(Block, Sequential):
    """Between dense blocks: BN-ReLU-1×1 conv (``out_channels``, usually half the input,
    compression 0.5) - 2×2 average pool with stride 2.

    Shape:
        (C_in, H, W) -> (out_channels, floor(H/2), floor(W/2))
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(OrderedDict([
            ("norm", BatchNorm2d(in_channels)), ("relu", ReLU()),
            ("conv", Conv2d(in_channels, out_channels, 1, bias=False)),
            ("pool", AvgPool2d(2, 2)),
        ]))
        self._remember(in_channels=in_channels, out_channels=out_channels)

    def config(self) -> dict[str, Any]:
        return Block.config(self)

    def rf(self, in_shape: Shape | None = None) -> None:
        return None
