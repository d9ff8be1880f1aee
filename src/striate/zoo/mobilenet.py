"""MobileNet v1 (Howard et al., "MobileNets: Efficient convolutional neural networks for
mobile vision applications", arXiv 1704.04861, 2017).

Table 1: a 3x3/2 convolution to 32 channels, then 13 depthwise-separable layers — each a
3x3 depthwise convolution (``groups = channels``) and a 1x1 pointwise convolution, both
followed by BN and ReLU — global average pooling and a dense layer. Convolutions have no
bias. At width 1.0 and 224x224: 4,231,976 parameters and 569 M multiply-adds (Table 8,
"1.0 MobileNet-224: 569 M mult-adds, 4.2 M parameters").

The two hyper-parameters of §3.3/3.4: the width multiplier ``alpha`` scales every layer's
channels (``int(c·alpha)``, as Keras does; the paper does not say how to round) and the
resolution multiplier is the ``input_shape`` (e.g. ``(3, 160, 160)``).
"""

from __future__ import annotations

import torch.nn as nn

from striate.layers.errors import ConfigError
from striate.zoo import _nn
from striate.zoo.registry import register

# (pointwise output channels, depthwise stride) of the 13 separable layers, Table 1
LAYERS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
          (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def _conv_bn(name: str, cin: int, cout: int, kernel: int, stride: int, groups: int = 1
             ) -> list[tuple[str, nn.Module]]:
    return [(f"{name}", _nn.conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2,
                                   groups=groups, bias=False)),
            (f"{name}_bn", _nn.batch_norm2d(cout)), (f"{name}_relu", _nn.relu())]


@register("mobilenet_v1", family="MobileNet", year=2017,
          paper="Howard et al., MobileNets: Efficient convolutional neural networks for mobile "
                "vision applications, arXiv 2017", params=4_231_976, input_shape=(3, 224, 224),
          description="MobileNet v1: 13 depthwise-separable layers, width multiplier alpha")
def mobilenet_v1(*, num_classes: int = 1000, input_shape: tuple[int, ...] = (3, 224, 224),
                 alpha: float = 1.0, dropout: float = 0.0) -> nn.Module:
    """MobileNet v1 (see the module docstring).

    Args:
        alpha: width multiplier in (0, 1] (the paper's 1.0, 0.75, 0.5, 0.25).
        dropout: dropout before the classifier (0 in the paper's Table 1; Keras uses 1e-3).

    Shape:
        (C, H, W) -> (num_classes,)
    """
    if not 0 < alpha <= 4:
        raise ConfigError(f"mobilenet_v1: alpha must be in (0, 4]. Received: alpha={alpha}")
    width = [max(1, int(32 * alpha))] + [max(1, int(c * alpha)) for c, _ in LAYERS]
    layers = _conv_bn("conv1", input_shape[0], width[0], 3, 2)
    for i, (_, stride) in enumerate(LAYERS, start=1):
        cin, cout = width[i - 1], width[i]
        layers += _conv_bn(f"dw{i}", cin, cin, 3, stride, groups=cin)
        layers += _conv_bn(f"pw{i}", cin, cout, 1, 1)
    head = [("avgpool", _nn.global_avg_pool()), ("flatten", _nn.flatten())]
    if dropout:
        head.append(("dropout", _nn.dropout(dropout)))
    head.append(("fc", _nn.dense(width[-1], num_classes)))
    return _nn.Net(_nn.seq(*layers), _nn.seq(*head))
