"""GoogLeNet / Inception v1 (Szegedy et al., "Going deeper with convolutions", CVPR 2015).

Table 1 of the paper, as the BVLC Caffe ``bvlc_googlenet`` implements it: a 7x7/2
convolution, 3x3/2 max pooling, LRN, a 1x1 reduction and a 3x3 convolution to 192, LRN,
pooling, inception modules 3a–3b, pooling, 4a–4e, pooling, 5a–5b, 7x7 average pooling,
dropout 0.4 and a dense layer. Every convolution has a bias and a ReLU (no batch norm).
Each inception module (striate's ``InceptionBlock``) concatenates four branches: 1x1;
1x1 reduce → 3x3; 1x1 reduce → **5x5** (torchvision's copy uses 3x3 here by mistake, which
gives its 6,624,904); 3x3 max pooling → 1x1 projection. Max pooling rounds up (Caffe),
so 224 → 112 → 56 → 28 → 14 → 7.

Parameters at 1000 classes: 6,998,552 without the auxiliary heads (as Caffe's
``deploy.prototxt``), 13,378,280 with them (its ``train_val.prototxt``). The notes'
"only 5 millions" rounds the paper's "12 times fewer parameters than AlexNet" (§1); the
paper states no exact count.

``aux=True`` adds the two auxiliary classifiers of §5 on the outputs of 4a and 4d
(5x5/3 average pooling, 1x1 convolution to 128, dense 1024 with ReLU, dropout 0.7, dense
to the classes). In training mode the model then returns ``(main, aux1, aux2)``; the paper
adds the auxiliary losses with weight 0.3. In eval mode it returns the main output only.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.layers.blocks import InceptionBlock
from striate.zoo import _nn
from striate.zoo._probe import flat_size
from striate.zoo.registry import register

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}
POOL_AFTER = ("3b", "4e")


def _aux_head(cin: int, in_shape: tuple[int, ...], num_classes: int) -> nn.Sequential:
    pool_conv = _nn.seq(("pool", _nn.avg_pool2d(5, 3, ceil_mode=True)),
                        ("conv", _nn.conv2d(cin, 128, 1)), ("relu", _nn.relu()),
                        ("flatten", _nn.flatten()))
    flat = flat_size(pool_conv, in_shape, prefix="aux")
    return _nn.seq(*pool_conv.named_children(),
                   ("fc1", _nn.dense(flat, 1024)), ("relu_fc", _nn.relu()),
                   ("drop", _nn.dropout(0.7)), ("fc2", _nn.dense(1024, num_classes)))


class GoogLeNet(nn.Module):
    """``features`` (stem and inception modules), ``classifier`` and the auxiliary heads
    ``aux1``/``aux2`` (without them, ``googlenet`` is a plain features-classifier net)."""

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential,
                 aux: tuple[nn.Module, nn.Module]) -> None:
        super().__init__()
        self.features, self.classifier = features, classifier
        self.aux1, self.aux2 = aux

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        heads = self.training
        extra = []
        for name, layer in self.features.named_children():
            x = layer(x)
            if heads and name in ("inception4a", "inception4d"):
                extra.append((self.aux1 if name == "inception4a" else self.aux2)(x))
        out = self.classifier(x)
        return (out, *extra) if heads else out


@register("googlenet", family="GoogLeNet", year=2014,
          paper="Szegedy et al., Going deeper with convolutions, CVPR 2015", params=6_998_552,
          input_shape=(3, 224, 224),
          description="GoogLeNet / Inception v1: 9 inception modules with real 5x5 branches")
def googlenet(*, num_classes: int = 1000, input_shape: tuple[int, ...] = (3, 224, 224),
              aux: bool = False, dropout: float = 0.4) -> nn.Module:
    """GoogLeNet (see the module docstring).

    Args:
        aux: build the two auxiliary classifiers (returned in training mode).
        dropout: dropout before the dense layer (0.4 in the paper).

    Shape:
        (C, H, W) -> (num_classes,), or a tuple of three in training mode with ``aux``
    """
    layers: list[tuple[str, nn.Module]] = [
        ("conv1", _nn.conv2d(input_shape[0], 64, 7, stride=2, padding=3)), ("relu1", _nn.relu()),
        ("pool1", _nn.max_pool2d(3, 2, ceil_mode=True)), ("norm1", _nn.lrn(5, 1e-4, 0.75)),
        ("conv2_reduce", _nn.conv2d(64, 64, 1)), ("relu2_reduce", _nn.relu()),
        ("conv2", _nn.conv2d(64, 192, 3, padding=1)), ("relu2", _nn.relu()),
        ("norm2", _nn.lrn(5, 1e-4, 0.75)), ("pool2", _nn.max_pool2d(3, 2, ceil_mode=True)),
    ]
    cin, taps = 192, {}
    for name, widths in MODULES.items():
        module = InceptionBlock(cin, *widths)
        layers.append((f"inception{name}", module))
        if name in ("4a", "4d"):
            taps[name] = (module.out_channels, len(layers))
        cin = module.out_channels
        if name in POOL_AFTER:
            layers.append((f"pool{name[0]}", _nn.max_pool2d(3, 2, ceil_mode=True)))
    features = _nn.seq(*layers)
    classifier = _nn.pooled_head(cin, num_classes, dropout)
    if not aux:
        return _nn.Net(features, classifier)
    heads = tuple(_aux_head(c, _tap_shape(features, n, input_shape), num_classes)
                  for c, n in (taps["4a"], taps["4d"]))
    return GoogLeNet(features, classifier, heads)


def _tap_shape(features: nn.Sequential, upto: int, in_shape: tuple[int, ...]
               ) -> tuple[int, ...]:
    from striate.zoo._probe import output_shape

    return output_shape(features[:upto], in_shape, prefix="features")
