"""VGG (Simonyan & Zisserman, "Very deep convolutional networks for large-scale image
recognition", ICLR 2015), configurations A, B, D, E = VGG-11, -13, -16, -19 of Table 1.

3x3 convolutions with stride 1 and padding 1, 2x2 max pooling with stride 2 after each of
five stages, then dense 4096-4096-classes with ReLU and dropout 0.5. Parameters at 224x224
and 1000 classes: VGG-11 132,863,336, VGG-13 133,047,848, VGG-16 138,357,544,
VGG-19 143,667,240 (Table 2 rounds them to 133, 133, 138, 144 M).

Choices: ``batch_norm=True`` (``vgg16_bn``) puts batch normalisation between each
convolution and its ReLU, as torchvision does (the paper predates batch norm; the
convolutions keep their bias). The configuration-C variant with 1x1 convolutions and the
LRN of A-LRN are not built. On a smaller input the first dense layer is sized for the last
map (512 inputs at 32x32) rather than resampling it to 7x7.
"""

from __future__ import annotations

import torch.nn as nn

from striate.zoo import _nn
from striate.zoo._probe import flat_size
from striate.zoo.registry import register

# convolutions per stage (Table 1); stage widths are always 64, 128, 256, 512, 512
CONFIGS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)
PAPER = ("Simonyan & Zisserman, Very deep convolutional networks for large-scale image "
         "recognition, ICLR 2015")


def vgg_layers(depth: int, in_channels: int, batch_norm: bool = False, *,
               pool_kwargs: dict | None = None, first_padding: int = 1,
               stages: int = 5) -> list[tuple[str, nn.Module]]:
    """The named layers of a VGG trunk (``conv1_1`` … ``pool5``), shared with FCN and the
    dilated network.

    Args:
        pool_kwargs: extra arguments of the max-pooling layers (``ceil_mode``...).
        first_padding: padding of ``conv1_1`` (FCN pads it by 100).
        stages: number of stages to build (the dilated front-end stops after four).
    """
    layers: list[tuple[str, nn.Module]] = []
    cin = in_channels
    for stage, (n, width) in enumerate(zip(CONFIGS[depth], WIDTHS, strict=True), start=1):
        if stage > stages:
            break
        for i in range(1, n + 1):
            pad = first_padding if (stage, i) == (1, 1) else 1
            layers.append((f"conv{stage}_{i}", _nn.conv2d(cin, width, 3, padding=pad)))
            if batch_norm:
                layers.append((f"bn{stage}_{i}", _nn.batch_norm2d(width)))
            layers.append((f"relu{stage}_{i}", _nn.relu()))
            cin = width
        layers.append((f"pool{stage}", _nn.max_pool2d(2, 2, **(pool_kwargs or {}))))
    return layers


def _vgg(depth: int, num_classes: int, input_shape: tuple[int, ...], batch_norm: bool,
         hidden: int, dropout: float) -> nn.Module:
    features = _nn.seq(*vgg_layers(depth, input_shape[0], batch_norm))
    classifier = _nn.seq(
        ("flatten", _nn.flatten()),
        ("fc6", _nn.dense(flat_size(features, input_shape), hidden)), ("relu6", _nn.relu()),
        ("drop6", _nn.dropout(dropout)),
        ("fc7", _nn.dense(hidden, hidden)), ("relu7", _nn.relu()), ("drop7", _nn.dropout(dropout)),
        ("fc8", _nn.dense(hidden, num_classes)),
    )
    return _nn.Net(features, classifier)


def _register(name: str, depth: int, bn: bool, params: int) -> None:
    label = f"VGG-{depth}{' with batch norm' if bn else ''}"
    desc = f"{label}: {sum(CONFIGS[depth])} 3x3 convs in 5 stages + 3 dense layers"

    def build(*, num_classes: int = 1000, input_shape: tuple[int, ...] = (3, 224, 224),
              hidden: int = 4096, dropout: float = 0.5) -> nn.Module:
        return _vgg(depth, num_classes, input_shape, bn, hidden, dropout)

    build.__name__ = name
    build.__doc__ = (f"{label} (Simonyan & Zisserman 2015, Table 1); see the module "
                     "docstring.\n\n    Shape:\n        (C, H, W) -> (num_classes,)\n")
    register(name, family="VGG", year=2014, paper=PAPER, params=params,
             input_shape=(3, 224, 224), description=desc)(build)
    globals()[name] = build


# torchvision's model tables give the _bn counts (BN adds 2 parameters per channel)
for _name, _depth, _bn, _params in (
    ("vgg11", 11, False, 132_863_336), ("vgg13", 13, False, 133_047_848),
    ("vgg16", 16, False, 138_357_544), ("vgg19", 19, False, 143_667_240),
    ("vgg11_bn", 11, True, 132_868_840), ("vgg13_bn", 13, True, 133_053_736),
    ("vgg16_bn", 16, True, 138_365_992), ("vgg19_bn", 19, True, 143_678_248),
):
    _register(_name, _depth, _bn, _params)
