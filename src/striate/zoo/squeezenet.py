"""SqueezeNet 1.0 and 1.1 (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x
fewer parameters and <0.5MB model size", arXiv 1602.07360, 2016).

Built from fire modules (striate's ``Fire``): a 1x1 "squeeze" convolution to ``s``
channels, then 1x1 and 3x3 "expand" convolutions (``e`` channels each) whose outputs are
concatenated, ReLU after each. Layouts follow the authors' Caffe ``deploy.prototxt`` files:

- 1.0 (Table 1): conv1 96@7x7/2, max pool, fire2–4, max pool, fire5–8, max pool, fire9;
- 1.1: conv1 64@3x3/2 and the pools moved earlier (after conv1, fire3, fire5), 2.4x less
  computation for the same accuracy.

Then dropout 0.5, conv10 (1x1 to the classes), ReLU and global average pooling — no dense
layer. Max pooling is 3x3/2 rounding up, as Caffe does. Parameters at 1000 classes:
1,248,424 (1.0) and 1,235,496 (1.1). The 1.0 prototxt pads its 1x1 conv10 by 1 (a quirk
with no effect on parameters); striate does not.
"""

from __future__ import annotations

import torch.nn as nn

from striate.layers.blocks import Fire
from striate.zoo import _nn
from striate.zoo.registry import register

FIRES = {2: (16, 64), 3: (16, 64), 4: (32, 128), 5: (32, 128), 6: (48, 192), 7: (48, 192),
         8: (64, 256), 9: (64, 256)}
# version -> (conv1 channels, conv1 kernel, fire modules after which a max pool comes)
VERSIONS = {"1.0": (96, 7, (4, 8)), "1.1": (64, 3, (3, 5))}


@register("squeezenet1_1", family="SqueezeNet", year=2016,
          paper="Iandola et al., SqueezeNet: AlexNet-level accuracy with 50x fewer parameters, "
                "arXiv 2016", params=1_235_496, input_shape=(3, 227, 227),
          fixed={"version": "1.1"},
          description="SqueezeNet 1.1: 3x3 first conv, earlier pooling, 2.4x fewer MACs")
@register("squeezenet1_0", family="SqueezeNet", year=2016,
          paper="Iandola et al., SqueezeNet: AlexNet-level accuracy with 50x fewer parameters, "
                "arXiv 2016", params=1_248_424, input_shape=(3, 227, 227),
          fixed={"version": "1.0"},
          description="SqueezeNet 1.0: 8 fire modules, no dense layer, AlexNet accuracy")
def squeezenet(*, version: str, num_classes: int = 1000,
               input_shape: tuple[int, ...] = (3, 227, 227), dropout: float = 0.5) -> nn.Module:
    """SqueezeNet (see the module docstring).

    Shape:
        (C, H, W) -> (num_classes,)
    """
    width, kernel, pools = VERSIONS[version]
    layers: list[tuple[str, nn.Module]] = [
        ("conv1", _nn.conv2d(input_shape[0], width, kernel, stride=2)), ("relu1", _nn.relu()),
        ("pool1", _nn.max_pool2d(3, 2, ceil_mode=True))]
    cin = width
    for i, (s, e) in FIRES.items():
        layers.append((f"fire{i}", Fire(cin, s, e, e)))
        cin = 2 * e
        if i in pools:
            layers.append((f"pool{i}", _nn.max_pool2d(3, 2, ceil_mode=True)))
    classifier = _nn.seq(
        ("drop9", _nn.dropout(dropout)), ("conv10", _nn.conv2d(cin, num_classes, 1)),
        ("relu10", _nn.relu()), ("pool10", _nn.global_avg_pool()), ("flatten", _nn.flatten()))
    return _nn.Net(_nn.seq(*layers), classifier)
