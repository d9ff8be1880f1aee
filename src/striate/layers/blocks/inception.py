"""GoogLeNet's Inception module and auxiliary classifier (Szegedy et al., "Going Deeper
with Convolutions", CVPR 2015).

Unlike torchvision (issue #906), the 5×5 branch really is a 5×5 convolution.
"""

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
from striate.layers.dense import Dense, Dropout, Flatten
from striate.layers.errors import StriateError
from striate.layers.merge import Concat
from striate.layers.norm import BatchNorm2d
from striate.layers.pool import AvgPool2d, MaxPool2d
from striate.layers.registry import register_layer


def _conv(in_channels: int, out_channels: int, kernel: int, batch_norm: bool) -> list[nn.Module]:
    """Conv (same size) - [BN] - ReLU; the conv has a bias only without BN."""
    layers: list[nn.Module] = [Conv2d(in_channels, out_channels, kernel, padding=kernel // 2,
                                      bias=not batch_norm)]
    if batch_norm:
        layers.append(BatchNorm2d(out_channels))
    layers.append(ReLU())
    return layers


@register_layer("inception")
class InceptionBlock(Block, nn.Module):
    """Four parallel branches concatenated on channels: 1×1; 1×1 reduce then 3×3; 1×1
    reduce then 5×5; 3×3 max pool (stride 1) then 1×1 projection. Each convolution is
    followed by a ReLU (and by batch norm first with ``batch_norm=True``, as in later
    versions; the paper has none).

    Shape:
        (C_in, H, W) -> (c1 + c3 + c5 + pool_proj, H, W)
    """

    def __init__(self, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int,
                 c5: int, pool_proj: int, batch_norm: bool = False) -> None:
        super().__init__()
        self._remember(in_channels=in_channels, c1=c1, c3_reduce=c3_reduce, c3=c3,
                       c5_reduce=c5_reduce, c5=c5, pool_proj=pool_proj, batch_norm=batch_norm)
        bn = bool(batch_norm)
        self.branch1 = Sequential(*_conv(in_channels, c1, 1, bn))
        self.branch3 = Sequential(*_conv(in_channels, c3_reduce, 1, bn),
                                    *_conv(c3_reduce, c3, 3, bn))
        self.branch5 = Sequential(*_conv(in_channels, c5_reduce, 1, bn),
                                    *_conv(c5_reduce, c5, 5, bn))
        self.branch_pool = Sequential(MaxPool2d(3, 1, 1), *_conv(in_channels, pool_proj, 1, bn))
        self.concat = Concat(1)

    def _branches(self) -> list[tuple[str, nn.Module]]:
        return [(n, m) for n, m in self.named_children() if n.startswith("branch")]

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shapes = [chain_shape([pair], in_shape, strict=strict) for pair in self._branches()]
        try:
            return self.concat.output_shape(*shapes)
        except StriateError as err:
            raise located(err, "concat") from None

    def macs(self, in_shape: Shape) -> int:
        return sum(chain_macs([pair], in_shape) for pair in self._branches())

    @property
    def out_channels(self) -> int:
        o = self._options
        return o["c1"] + o["c3"] + o["c5"] + o["pool_proj"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.concat(self.branch1(x), self.branch3(x), self.branch5(x),
                           self.branch_pool(x))


@register_layer("inception_aux")
class InceptionAux(Block, Sequential):
    """Auxiliary classifier attached to Inception (4a) and (4d) during training: 5×5 average
    pool with stride 3, 1×1 conv with 128 filters + ReLU, FC 1024 + ReLU, dropout 0.7, FC to
    the classes (the paper's section 5).

    Args:
        input_size: the input's height (= width), 14 in GoogLeNet, to size the first FC
            layer; None infers it at the first forward.

    Shape:
        (C, 14, 14) -> (num_classes,)   (the pool gives 4×4, so FC 1024 sees 4·4·128 = 2048)
    """

    def __init__(self, in_channels: int, num_classes: int, input_size: int | None = 14,
                 dropout: float = 0.7) -> None:
        positive("num_classes", num_classes)
        probability("dropout", dropout)
        head = [("pool", AvgPool2d(5, 3)), ("conv", Conv2d(in_channels, 128, 1)),
                ("relu1", ReLU()), ("flatten", Flatten())]
        features = None
        if input_size is not None:
            positive("input_size", input_size)
            # Fold the head's own output_shape rather than repeat the pooling formula.
            features = chain_shape(head, (in_channels, input_size, input_size))[0]
        super().__init__(OrderedDict([
            *head, ("fc1", Dense(1024, features)), ("relu2", ReLU()), ("dropout", Dropout(dropout)),
            ("fc2", Dense(num_classes, 1024)),
        ]))
        self._remember(in_channels=in_channels, num_classes=num_classes, input_size=input_size,
                       dropout=dropout)

    def config(self) -> dict[str, Any]:
        return Block.config(self)

    def rf(self, in_shape: Shape | None = None) -> None:
        return None
