"""DenseNets (Huang, Liu, van der Maaten & Weinberger, "Densely connected convolutional
networks", CVPR 2017).

ImageNet DenseNet-121/169/201 (Table 1, the "BC" form): a 7x7/2 convolution to 2k = 64
channels and 3x3/2 max pooling, four dense blocks of (6, 12, 24, 16) / (6, 12, 32, 32) /
(6, 12, 48, 32) layers with growth rate k = 32, each layer BN-ReLU-1x1 conv (4k) -
BN-ReLU-3x3 conv (k) whose output is concatenated to its input; between blocks a
transition BN-ReLU-1x1 conv (halving the channels, θ = 0.5) - 2x2 average pooling; a final
BN-ReLU, global average pooling and a dense layer. Convolutions have no bias.
Parameters: 7,978,856 / 14,149,480 / 20,013,928 (torchvision's tables).

CIFAR DenseNet-BC (§3, "Implementation details"): a 3x3 convolution to 2k channels, three
dense blocks of (L − 4)/6 bottleneck layers on 32x32/16x16/8x8 maps, θ = 0.5 transitions,
BN-ReLU, global pooling, dense. ``densenet_bc_100`` (L = 100, k = 12) has 769,162
parameters for 10 classes, the "0.8 M" of Table 2. Dropout (0.2 in the paper, only for
the runs without augmentation) is an option, off by default.

The blocks are striate's ``DenseBlock`` and ``Transition`` (``striate.layers.blocks``).
"""

from __future__ import annotations

import torch.nn as nn

from striate.layers.blocks import DenseBlock, Transition
from striate.zoo import _nn
from striate.zoo.registry import register

PAPER = "Huang et al., Densely connected convolutional networks, CVPR 2017"


def _densenet(stem: list, cin: int, blocks: tuple[int, ...], growth: int, num_classes: int,
              dropout: float) -> nn.Module:
    layers = list(stem)
    for i, n in enumerate(blocks, start=1):
        layers.append((f"denseblock{i}", DenseBlock(cin, n, growth, bn_size=4, drop_rate=dropout)))
        cin += n * growth
        if i < len(blocks):
            layers.append((f"transition{i}", Transition(cin, cin // 2)))
            cin //= 2
    layers += [("norm5", _nn.batch_norm2d(cin)), ("relu5", _nn.relu())]
    return _nn.Net(_nn.seq(*layers), _nn.pooled_head(cin, num_classes))


BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}


@register("densenet201", family="DenseNet", year=2017, paper=PAPER, params=20_013_928,
          input_shape=(3, 224, 224), fixed={"depth": 201},
          description="DenseNet-201: dense blocks (6, 12, 48, 32), growth 32")
@register("densenet169", family="DenseNet", year=2017, paper=PAPER, params=14_149_480,
          input_shape=(3, 224, 224), fixed={"depth": 169},
          description="DenseNet-169: dense blocks (6, 12, 32, 32), growth 32")
@register("densenet121", family="DenseNet", year=2017, paper=PAPER, params=7_978_856,
          input_shape=(3, 224, 224), fixed={"depth": 121},
          description="DenseNet-121: dense blocks (6, 12, 24, 16), growth 32, BC transitions")
def densenet(*, depth: int, num_classes: int = 1000,
             input_shape: tuple[int, ...] = (3, 224, 224), growth: int = 32,
             dropout: float = 0.0) -> nn.Module:
    """An ImageNet DenseNet-BC of Huang et al. 2017, Table 1 (see the module docstring).

    Args:
        growth: growth rate k (channels each layer adds).
        dropout: dropout after each 3x3 convolution.

    Shape:
        (C, H, W) -> (num_classes,)
    """
    stem = [("conv0", _nn.conv2d(input_shape[0], 2 * growth, 7, stride=2, padding=3,
                                 bias=False)),
            ("norm0", _nn.batch_norm2d(2 * growth)), ("relu0", _nn.relu()),
            ("pool0", _nn.max_pool2d(3, 2, padding=1))]
    return _densenet(stem, 2 * growth, BLOCKS[depth], growth, num_classes, dropout)


@register("densenet_bc_100", family="DenseNet", year=2017, paper=PAPER, params=769_162,
          input_shape=(3, 32, 32), num_classes=10,
          description="CIFAR DenseNet-BC (L=100, k=12): 3 dense blocks of 16 bottleneck layers")
def densenet_bc(*, num_classes: int = 10, input_shape: tuple[int, ...] = (3, 32, 32),
                depth: int = 100, growth: int = 12, dropout: float = 0.0) -> nn.Module:
    """DenseNet-BC for 32x32 inputs (Huang et al. 2017, §3): ``(depth − 4)/6`` bottleneck
    layers per block; L = 250, k = 24 and L = 190, k = 40 are the paper's larger ones.

    Shape:
        (C, H, W) -> (num_classes,)
    """
    from striate.layers.errors import ConfigError

    if (depth - 4) % 6 or depth < 10:
        raise ConfigError(f"densenet_bc_100: depth must be 6n + 4 (n ≥ 1), e.g. 100, 190, 250."
                          f" Received: depth={depth}")
    stem = [("conv0", _nn.conv2d(input_shape[0], 2 * growth, 3, padding=1, bias=False))]
    n = (depth - 4) // 6
    return _densenet(stem, 2 * growth, (n, n, n), growth, num_classes, dropout)
