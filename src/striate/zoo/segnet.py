"""SegNet (Badrinarayanan, Kendall & Cipolla, "SegNet: A deep convolutional encoder-decoder
architecture for image segmentation", IEEE TPAMI 39(12), 2017; arXiv 1511.00561, 2015).

The encoder is VGG-16's 13 convolutions (3x3, padding 1), each with batch norm and ReLU,
in five stages ending in 2x2/2 max pooling that **keeps its switches** (the argmax
indices). The decoder mirrors it: each stage unpools with the switches of the matching
encoder stage (no learned upsampling) and applies as many 3x3 convolution-BN-ReLU layers,
the last of each stage reducing the channels to those of the next; a final 3x3
convolution gives the class scores (no BN/ReLU), as in the authors' Caffe
``segnet_train.prototxt``. Unpooling restores the exact size the encoder pooled (so odd
sizes such as CamVid's 360x480 → 45 → 22 → 45 work).

Parameters at 11 classes: 29,449,355 — the paper's Table 6 gives 29.5 M.
Output: ``(classes, H, W)``.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.zoo import _nn
from striate.zoo.registry import register
from striate.zoo.vgg import CONFIGS, WIDTHS


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return _nn.seq(("conv", _nn.conv2d(cin, cout, 3, padding=1)),
                   ("bn", _nn.batch_norm2d(cout)), ("relu", _nn.relu()))


class SegNet(nn.Module):
    """``encoder`` stages ``stage1..5`` with pools ``pool1..5`` (switches kept), ``decoder``
    stages ``stage5..1`` with unpools, and ``classifier``."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.encoder = nn.ModuleDict()
        self.pools = nn.ModuleDict()
        cin = in_channels
        for s, (n, width) in enumerate(zip(CONFIGS[16], WIDTHS, strict=True), start=1):
            self.encoder[f"stage{s}"] = _nn.seq(*[
                (f"conv{s}_{i}", _conv_bn_relu(cin if i == 1 else width, width))
                for i in range(1, n + 1)])
            self.pools[f"pool{s}"] = _nn.max_pool2d(2, 2, return_indices=True)
            cin = width
        self.unpools = nn.ModuleDict()
        self.decoder = nn.ModuleDict()
        for s in range(5, 0, -1):
            n, width = CONFIGS[16][s - 1], WIDTHS[s - 1]
            out = WIDTHS[s - 2] if s > 1 else width
            self.unpools[f"unpool{s}"] = _nn.max_unpool2d(2, 2)
            layers = [(f"conv{s}_{i}_D", _conv_bn_relu(width, width if i > 1 else out))
                      for i in range(n, 0, -1)]
            if s == 1:  # conv1_1_D is the classifier, below
                layers = layers[:-1]
            self.decoder[f"stage{s}"] = _nn.seq(*layers)
        self.classifier = _nn.conv2d(WIDTHS[0], num_classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        switches = []
        for s in range(1, 6):
            x = self.encoder[f"stage{s}"](x)
            size = x.shape[-2:]
            x, idx = self.pools[f"pool{s}"](x)
            switches.append((idx, size))
        for s in range(5, 0, -1):
            idx, size = switches[s - 1]
            x = self.unpools[f"unpool{s}"](x, idx, output_size=list(size))
            x = self.decoder[f"stage{s}"](x)
        return self.classifier(x)


@register("segnet", family="SegNet", year=2015,
          paper="Badrinarayanan, Kendall & Cipolla, SegNet: A deep convolutional "
                "encoder-decoder architecture for image segmentation, TPAMI 2017",
          params=None, input_shape=(3, 360, 480), num_classes=11, task="segmentation",
          description="SegNet: VGG-16-BN encoder, decoder unpooling with the max-pool switches")
def segnet(*, num_classes: int = 11, input_shape: tuple[int, ...] = (3, 360, 480)
           ) -> nn.Module:
    """SegNet (see the module docstring); the defaults are CamVid's 360x480 and 11 classes.

    Shape:
        (C, H, W) -> (num_classes, H, W)
    """
    return SegNet(input_shape[0], num_classes)
