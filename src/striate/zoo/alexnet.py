"""AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep convolutional
neural networks", NIPS 2012) and ZFNet (Zeiler & Fergus, "Visualizing and understanding
convolutional networks", ECCV 2014).

AlexNet layouts (``layout=``), all at 227x227 (the paper's "224" does not give its 55x55
maps: (227 − 11)/4 + 1 = 55):

- ``"single"`` (default): one tower with the widths 64/192/384/256/256 of Krizhevsky's
  "One weird trick" (arXiv 1404.5997) and torchvision — 61,100,840 parameters;
- ``"two_tower"``: the paper's two GPUs — widths 96/256/384/384/256, conv2, conv4 and conv5
  connected within a tower only (``groups=2``), conv3 and the dense layers across both,
  as Caffe's ``bvlc_alexnet`` — 60,965,224 parameters;
- ``"merged"``: the paper's widths on one device without the split — 62,378,344 parameters
  (the "62.3 millions" of the notes).

Choices: ReLU after every layer; local response normalisation after relu1 and relu2 with
the paper's k = 2, n = 5, α = 1e-4, β = 0.75 (``lrn=False`` drops it, as torchvision does;
PyTorch divides α by n, so α·n is passed); 3x3 max pooling with stride 2 (overlapping);
dropout 0.5 before fc7 and fc8 (Caffe's order). torchvision pads conv1 by 2 for a 224
input; at 227 without padding the maps are the same 55x55.
"""

from __future__ import annotations

import torch.nn as nn

from striate.layers.errors import ConfigError
from striate.zoo import _nn
from striate.zoo._probe import flat_size
from striate.zoo.registry import register

_LAYOUTS = {  # widths of conv1..conv5, and whether conv2/4/5 are split in two towers
    "single": ((64, 192, 384, 256, 256), 1),
    "two_tower": ((96, 256, 384, 384, 256), 2),
    "merged": ((96, 256, 384, 384, 256), 1),
}


def _classifier(flat: int, hidden: int, num_classes: int, dropout: float) -> nn.Sequential:
    return _nn.seq(
        ("flatten", _nn.flatten()),
        ("fc6", _nn.dense(flat, hidden)), ("relu6", _nn.relu()), ("drop6", _nn.dropout(dropout)),
        ("fc7", _nn.dense(hidden, hidden)), ("relu7", _nn.relu()),
        ("drop7", _nn.dropout(dropout)),
        ("fc8", _nn.dense(hidden, num_classes)),
    )


@register("alexnet", family="AlexNet", year=2012,
          paper="Krizhevsky, Sutskever & Hinton, ImageNet classification with deep "
                "convolutional neural networks, NIPS 2012", params=61_100_840,
          input_shape=(3, 227, 227),
          description="AlexNet: 5 convs (11x11/4 first), LRN, 3 dense layers with dropout")
def alexnet(*, num_classes: int = 1000, input_shape: tuple[int, ...] = (3, 227, 227),
            layout: str = "single", lrn: bool = True, hidden: int = 4096,
            dropout: float = 0.5) -> nn.Module:
    """AlexNet (see the module docstring for the three layouts).

    Args:
        layout: ``"single"``, ``"two_tower"`` or ``"merged"``.
        lrn: local response normalisation after the first two convolutions.
        hidden: width of fc6 and fc7.

    Shape:
        (C, H, W) -> (num_classes,)
    """
    if layout not in _LAYOUTS:
        raise ConfigError(f"alexnet: layout must be one of {', '.join(_LAYOUTS)}. "
                          f"Received: layout={layout!r}")
    (w1, w2, w3, w4, w5), towers = _LAYOUTS[layout]
    norm = [lambda i: (f"norm{i}", _nn.lrn(5, alpha=5e-4, beta=0.75, k=2.0))] if lrn else []
    layers = [("conv1", _nn.conv2d(input_shape[0], w1, 11, stride=4)), ("relu1", _nn.relu()),
              *[f(1) for f in norm], ("pool1", _nn.max_pool2d(3, 2)),
              ("conv2", _nn.conv2d(w1, w2, 5, padding=2, groups=towers)), ("relu2", _nn.relu()),
              *[f(2) for f in norm], ("pool2", _nn.max_pool2d(3, 2)),
              ("conv3", _nn.conv2d(w2, w3, 3, padding=1)), ("relu3", _nn.relu()),
              ("conv4", _nn.conv2d(w3, w4, 3, padding=1, groups=towers)), ("relu4", _nn.relu()),
              ("conv5", _nn.conv2d(w4, w5, 3, padding=1, groups=towers)), ("relu5", _nn.relu()),
              ("pool5", _nn.max_pool2d(3, 2))]
    features = _nn.seq(*layers)
    return _nn.Net(features, _classifier(flat_size(features, input_shape), hidden,
                                         num_classes, dropout))


@register("zfnet", family="AlexNet", year=2014,
          paper="Zeiler & Fergus, Visualizing and understanding convolutional networks, "
                "ECCV 2014", params=62_357_608, input_shape=(3, 224, 224),
          description="ZFNet: AlexNet with 7x7/2 first layer, as fixed by DeconvNet analysis")
def zfnet(*, num_classes: int = 1000, input_shape: tuple[int, ...] = (3, 224, 224),
          hidden: int = 4096, dropout: float = 0.5) -> nn.Module:
    """ZFNet, the model of Zeiler & Fergus's Figure 3.

    The figure's sizes fix the padding: conv1 7x7/2 with padding 1 (224 → 110), 3x3/2 max
    pooling rounding up as Caffe does (110 → 55, 26 → 13, 13 → 6), conv2 5x5/2 unpadded
    (55 → 26), conv3–5 3x3 padded. Contrast normalisation across maps after the first two
    layers: LRN over 3 maps, α = 5e-5, β = 0.75 (Caffe's ZF definition in py-faster-rcnn;
    the paper gives no constants). 96/256/384/384/256 filters, dense 4096-4096: 62,357,608
    parameters (the paper states none).

    Shape:
        (C, H, W) -> (num_classes,)
    """
    features = _nn.seq(
        ("conv1", _nn.conv2d(input_shape[0], 96, 7, stride=2, padding=1)), ("relu1", _nn.relu()),
        ("pool1", _nn.max_pool2d(3, 2, ceil_mode=True)), ("norm1", _nn.lrn(3, 5e-5, 0.75)),
        ("conv2", _nn.conv2d(96, 256, 5, stride=2)), ("relu2", _nn.relu()),
        ("pool2", _nn.max_pool2d(3, 2, ceil_mode=True)), ("norm2", _nn.lrn(3, 5e-5, 0.75)),
        ("conv3", _nn.conv2d(256, 384, 3, padding=1)), ("relu3", _nn.relu()),
        ("conv4", _nn.conv2d(384, 384, 3, padding=1)), ("relu4", _nn.relu()),
        ("conv5", _nn.conv2d(384, 256, 3, padding=1)), ("relu5", _nn.relu()),
        ("pool5", _nn.max_pool2d(3, 2, ceil_mode=True)),
    )
    return _nn.Net(features, _classifier(flat_size(features, input_shape), hidden,
                                         num_classes, dropout))
