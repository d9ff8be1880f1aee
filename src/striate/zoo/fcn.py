"""Fully convolutional networks (Long, Shelhamer & Darrell, "Fully convolutional networks
for semantic segmentation", CVPR 2015; Shelhamer et al., PAMI 2016) on a VGG-16 trunk.

As the authors' Caffe models (``voc-fcn32s``/``16s``/``8s``): VGG-16's convolutions with
``conv1_1`` padded by 100 (so that any input survives the valid 7x7 fc6) and max pooling
rounding up; fc6/fc7 turned into convolutions (7x7 to 4096, 1x1 to 4096) with ReLU and
dropout 0.5; ``score_fr`` (1x1 to the classes). Then:

- FCN-32s: one 64x64/32 transposed convolution, cropped at offset 19 to the input;
- FCN-16s: a 4x4/2 transposed convolution, plus ``score_pool4`` (1x1 on pool4, cropped at
  5), a 32x32/16 transposed convolution, cropped at 27;
- FCN-8s: as 16s, then another 4x4/2 step fused with ``score_pool3`` (cropped at 9) and a
  16x16/8 transposed convolution, cropped at 31.

Transposed convolutions have no bias and start as bilinear interpolation. Parameters at 21
classes: 136,152,917 (32s), 134,815,994 (16s) and 134,489,759 (8s), as the prototxts.
Output: ``(classes, H, W)`` scores at the input's resolution.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.zoo import _nn
from striate.zoo.registry import register
from striate.zoo.vgg import vgg_layers

PAPER = ("Long, Shelhamer & Darrell, Fully convolutional networks for semantic segmentation, "
         "CVPR 2015")
# stride -> (final upsampling kernel, stride, crop offset), from the Caffe prototxts
FINAL = {32: (64, 32, 19), 16: (32, 16, 27), 8: (16, 8, 31)}


def _upscore(classes: int, kernel: int, stride: int) -> nn.ConvTranspose2d:
    layer = _nn.deconv2d(classes, classes, kernel, stride=stride, bias=False)
    _nn.bilinear_(layer.weight)
    return layer


class FCN(nn.Module):
    """FCN-32s/16s/8s: ``features`` (VGG-16 to pool5), ``head`` (fc6, fc7, score_fr) and the
    skip layers that its stride uses."""

    def __init__(self, in_channels: int, num_classes: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.stride = stride
        self.features = _nn.seq(*vgg_layers(16, in_channels, first_padding=100,
                                            pool_kwargs={"ceil_mode": True}))
        self.head = _nn.seq(
            ("fc6", _nn.conv2d(512, 4096, 7)), ("relu6", _nn.relu()),
            ("drop6", _nn.dropout(dropout)),
            ("fc7", _nn.conv2d(4096, 4096, 1)), ("relu7", _nn.relu()),
            ("drop7", _nn.dropout(dropout)),
            ("score_fr", _nn.conv2d(4096, num_classes, 1)))
        if stride <= 16:
            self.upscore2 = _upscore(num_classes, 4, 2)
            self.score_pool4 = _nn.conv2d(512, num_classes, 1)
        if stride <= 8:
            self.upscore_pool4 = _upscore(num_classes, 4, 2)
            self.score_pool3 = _nn.conv2d(256, num_classes, 1)
        kernel, step, self.offset = FINAL[stride]
        self.upscore = _upscore(num_classes, kernel, step)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        taps = {}
        y = x
        for name, layer in self.features.named_children():
            y = layer(y)
            if name in ("pool3", "pool4"):
                taps[name] = y
        y = self.head(y)
        if self.stride <= 16:
            y = self.upscore2(y)
            y = y + _nn.crop_to(self.score_pool4(taps["pool4"]), y, 5)
        if self.stride <= 8:
            y = self.upscore_pool4(y)
            y = y + _nn.crop_to(self.score_pool3(taps["pool3"]), y, 9)
        return _nn.crop_to(self.upscore(y), x, self.offset)


def _register(stride: int, params: int) -> None:
    register(f"fcn{stride}s", family="FCN", year=2015, paper=PAPER, params=params,
             input_shape=(3, 500, 500), num_classes=21, task="segmentation",
             fixed={"stride": stride},
             description=f"FCN-{stride}s: VGG-16 made fully convolutional, "
                         + ("one 32x upsampling" if stride == 32 else
                            f"skips to {'pool4' if stride == 16 else 'pool4 and pool3'}"))(fcn)


def fcn(*, stride: int, num_classes: int = 21, input_shape: tuple[int, ...] = (3, 500, 500),
        dropout: float = 0.5) -> nn.Module:
    """FCN-32s, 16s or 8s (see the module docstring).

    Shape:
        (C, H, W) -> (num_classes, H, W)
    """
    return FCN(input_shape[0], num_classes, stride, dropout)


for _stride, _params in ((32, 136_152_917), (16, 134_815_994), (8, 134_489_759)):
    _register(_stride, _params)
