"""The dilated network of Yu & Koltun, "Multi-scale context aggregation by dilated
convolutions", ICLR 2016.

Front-end (§4): VGG-16 with its last two poolings removed and the layers after them
dilated instead — conv5 by 2, fc6 (a 7x7 convolution to 4096) by 4 — fc7 (1x1 to 4096)
and a 1x1 ``fc-final`` to the classes; like the authors' Caffe model
(``dilation8_pascal_voc``) its convolutions are unpadded, so a 900x900 input gives 66x66
score maps at 1/8 of the resolution (they pad the image by reflection beforehand).

Context module (§3, Table 1): seven 3x3 layers with dilations 1, 1, 2, 4, 8, 16, 1 and
ReLU, then a 1x1 layer, on C = classes channels. ``context="basic"`` keeps C channels;
``"large"`` (the released model) widens them to 2C, 2C, 4C, 8C, 16C, 32C, 32C. Its
convolutions are unpadded too; the first is padded by 33 so the module keeps the size.
The paper initialises the basic module to the identity; striate uses the default
initialisation.

Parameters at 21 classes: 134,346,581 (front-end) and 141,149,720 (front-end + large
context, as ``dilation8_pascal_voc_deploy.prototxt``). ``same_padding=True`` pads every
convolution instead, so that any input of at least 8x8 gives an H/8 x W/8 map.
"""

from __future__ import annotations

import torch.nn as nn

from striate.layers.errors import ConfigError
from striate.zoo import _nn
from striate.zoo.registry import register
from striate.zoo.vgg import vgg_layers

DILATIONS = (1, 1, 2, 4, 8, 16, 1)
LARGE = (2, 2, 4, 8, 16, 32, 32)


def context_module(classes: int, kind: str = "large", same_padding: bool = False
                   ) -> nn.Sequential:
    """The context module of Table 1 on ``classes`` channels (``"basic"`` or ``"large"``)."""
    widths = [classes] * 7 if kind == "basic" else [m * classes for m in LARGE]
    layers, cin = [], classes
    for i, (d, w) in enumerate(zip(DILATIONS, widths, strict=True), start=1):
        pad = d if same_padding else (sum(DILATIONS) if i == 1 else 0)
        layers += [(f"ct_conv{i}", _nn.conv2d(cin, w, 3, padding=pad, dilation=d)),
                   (f"ct_relu{i}", _nn.relu())]
        cin = w
    layers.append(("ct_final", _nn.conv2d(cin, classes, 1)))
    return _nn.seq(*layers)


def _front_end(in_channels: int, classes: int, same: bool, dropout: float
               ) -> list[tuple[str, nn.Module]]:
    layers = []
    for name, layer in vgg_layers(16, in_channels, stages=5):
        if name in ("pool4", "pool5"):
            continue
        if name.startswith("conv"):
            d = 2 if name.startswith("conv5") else 1
            layer = _nn.conv2d(layer.in_channels, layer.out_channels, 3,
                               padding=d if same else 0, dilation=d)
        layers.append((name, layer))
    layers += [("fc6", _nn.conv2d(512, 4096, 7, dilation=4, padding=12 if same else 0)),
               ("relu6", _nn.relu()), ("drop6", _nn.dropout(dropout)),
               ("fc7", _nn.conv2d(4096, 4096, 1)), ("relu7", _nn.relu()),
               ("drop7", _nn.dropout(dropout)),
               ("fc_final", _nn.conv2d(4096, classes, 1))]
    return layers


_PAPER = ("Yu & Koltun, Multi-scale context aggregation by dilated convolutions, ICLR 2016")


@register("dilated_frontend", family="Dilated", year=2015, paper=_PAPER, params=134_346_581,
          input_shape=(3, 900, 900), num_classes=21, task="segmentation",
          fixed={"context": "none"},
          description="Yu-Koltun front-end: VGG-16 without pool4/5, dilated conv5 and fc6")
@register("dilation8", family="Dilated", year=2015, paper=_PAPER, params=141_149_720,
          input_shape=(3, 900, 900), num_classes=21, task="segmentation",
          description="dilated front-end + context module (dilations 1-16), VOC 'Dilation8'")
def dilated(*, num_classes: int = 21, input_shape: tuple[int, ...] = (3, 900, 900),
            context: str = "large", same_padding: bool = False,
            dropout: float = 0.5) -> nn.Module:
    """The dilated front-end, optionally with the context module (module docstring).

    Args:
        context: ``"large"``, ``"basic"`` or ``"none"``.
        same_padding: pad every convolution (output H/8 x W/8) instead of Caffe's valid ones.

    Shape:
        (C, H, W) -> (num_classes, H', W'): 900 → 66 with Caffe's valid convolutions,
        H/8 with ``same_padding``
    """
    if context not in ("large", "basic", "none"):
        raise ConfigError(f"dilation8: context must be 'large', 'basic' or 'none'. "
                          f"Received: context={context!r}")
    features = _nn.seq(*_front_end(input_shape[0], num_classes, same_padding, dropout))
    if context == "none":
        return _nn.Net(features, _nn.identity())
    return _nn.Net(features, context_module(num_classes, context, same_padding))
