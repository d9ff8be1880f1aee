"""ResNets (He, Zhang, Ren & Sun, "Deep residual learning for image recognition", CVPR 2016).

ImageNet ResNet-18/34/50/101/152 (Table 1) in torchvision's layout: a 7x7/2 stem with
3x3/2 max pooling, four stages of 64/128/256/512 (x4 for bottlenecks) channels, projection
shortcuts (1x1 convolution + BN, "option B") where the shape changes, global average
pooling and a dense layer. Convolutions have no bias (batch norm follows each).
Parameters: 11,689,512 / 21,797,672 / 25,557,032 / 44,549,160 / 60,192,808.

Where the paper is ambiguous:

- the bottleneck's stride sits on its 3x3 convolution (torchvision, "ResNet v1.5": 4.1 G
  MACs for ResNet-50); ``stride_on="1x1"`` puts it on the first 1x1 convolution as in the
  original Caffe models (3.86 G MACs, the "3.8 × 10⁹" of Table 1);
- BN after every convolution, ReLU after the addition (Fig. 2).

CIFAR ResNets (§4.2): 6n + 2 layers (n = 3, 5, 7, 9, 18 → ResNet-20/32/44/56/110), a 3x3
convolution to 16 channels, three stages of n basic blocks with 16/32/64 channels on
32x32/16x16/8x8 maps, identity shortcuts that subsample and pad the new channels with
zeros ("option A", no parameters), global average pooling and a 10-way dense layer.
ResNet-20 has 269,722 parameters (0.27 M in Table 6). ``shortcut="B"`` uses projections.

The blocks are striate's ``BasicBlock`` and ``Bottleneck`` (``striate.layers.blocks``).
"""

from __future__ import annotations

import torch.nn as nn

from striate.layers.blocks import BasicBlock, Bottleneck
from striate.layers.errors import ConfigError
from striate.zoo import _nn
from striate.zoo.registry import register

PAPER = "He et al., Deep residual learning for image recognition, CVPR 2016"


def _stage(block: type, cin: int, width: int, blocks: int, stride: int, shortcut: str | None,
           stride_on: str) -> tuple[nn.Sequential, int]:
    """``blocks`` residual blocks (striate ``BasicBlock``/``Bottleneck``); the first one
    downsamples and, where the shape changes, takes the ``shortcut`` kind."""
    layers = []
    for i in range(blocks):
        step = stride if i == 0 else 1
        cout = width * block.expansion
        kind = shortcut if (step != 1 or cin != cout) else None
        if block is Bottleneck:
            layers.append((str(i), Bottleneck(cin, width, stride=step, shortcut=kind,
                                              stride_on=stride_on)))
        else:
            layers.append((str(i), BasicBlock(cin, width, stride=step, shortcut=kind)))
        cin = cout
    return _nn.seq(*layers), cin


IMAGENET = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
            50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3)),
            152: (Bottleneck, (3, 8, 36, 3))}


@register("resnet152", family="ResNet", year=2015, paper=PAPER, params=60_192_808,
          input_shape=(3, 224, 224), fixed={"depth": 152},
          description="ResNet-152: 50 bottleneck blocks [3, 8, 36, 3]")
@register("resnet101", family="ResNet", year=2015, paper=PAPER, params=44_549_160,
          input_shape=(3, 224, 224), fixed={"depth": 101},
          description="ResNet-101: 33 bottleneck blocks [3, 4, 23, 3]")
@register("resnet50", family="ResNet", year=2015, paper=PAPER, params=25_557_032,
          input_shape=(3, 224, 224), fixed={"depth": 50},
          description="ResNet-50: 16 bottleneck blocks [3, 4, 6, 3], projection shortcuts")
@register("resnet34", family="ResNet", year=2015, paper=PAPER, params=21_797_672,
          input_shape=(3, 224, 224), fixed={"depth": 34},
          description="ResNet-34: 16 basic blocks [3, 4, 6, 3]")
@register("resnet18", family="ResNet", year=2015, paper=PAPER, params=11_689_512,
          input_shape=(3, 224, 224), fixed={"depth": 18},
          description="ResNet-18: 8 basic blocks [2, 2, 2, 2]")
def resnet(*, depth: int, num_classes: int = 1000,
           input_shape: tuple[int, ...] = (3, 224, 224), stride_on: str = "3x3") -> nn.Module:
    """An ImageNet ResNet of He et al. 2016, Table 1 (see the module docstring).

    Args:
        stride_on: ``"3x3"`` (torchvision) or ``"1x1"`` (the original Caffe models) — where
            a downsampling bottleneck puts its stride.

    Shape:
        (C, H, W) -> (num_classes,)
    """
    if stride_on not in ("3x3", "1x1"):
        raise ConfigError(f"resnet{depth}: stride_on must be '3x3' or '1x1'. "
                          f"Received: stride_on={stride_on!r}")
    block, counts = IMAGENET[depth]
    layers = [("conv1", _nn.conv2d(input_shape[0], 64, 7, stride=2, padding=3, bias=False)),
              ("bn1", _nn.batch_norm2d(64)), ("relu", _nn.relu()),
              ("maxpool", _nn.max_pool2d(3, 2, padding=1))]
    cin = 64
    for i, (width, n) in enumerate(zip((64, 128, 256, 512), counts, strict=True)):
        stage, cin = _stage(block, cin, width, n, 1 if i == 0 else 2, "projection", stride_on)
        layers.append((f"layer{i + 1}", stage))
    return _nn.Net(_nn.seq(*layers), _nn.pooled_head(cin, num_classes))


def _cifar_register(depth: int, params: int | None) -> None:
    n = (depth - 2) // 6
    register(f"resnet{depth}", family="ResNet-CIFAR", year=2015, paper=PAPER, params=params,
             input_shape=(3, 32, 32), num_classes=10, fixed={"depth": depth},
             description=f"CIFAR ResNet-{depth} (§4.2): 3 stages x {n} basic blocks, "
                         "16/32/64 channels, option A")(cifar_resnet)


def cifar_resnet(*, depth: int, num_classes: int = 10,
                 input_shape: tuple[int, ...] = (3, 32, 32), shortcut: str = "A") -> nn.Module:
    """A CIFAR ResNet of He et al. 2016, §4.2: ``depth = 6n + 2``.

    Args:
        shortcut: ``"A"`` (zero-padding identity, the paper's CIFAR choice) or ``"B"``
            (1x1 projections where the shape changes).

    Shape:
        (C, H, W) -> (num_classes,)
    """
    if shortcut not in ("A", "B"):
        raise ConfigError(f"resnet{depth}: shortcut must be 'A' or 'B'. "
                          f"Received: shortcut={shortcut!r}")
    n = (depth - 2) // 6
    layers = [("conv1", _nn.conv2d(input_shape[0], 16, 3, padding=1, bias=False)),
              ("bn1", _nn.batch_norm2d(16)), ("relu", _nn.relu())]
    cin = 16
    for i, width in enumerate((16, 32, 64)):
        kind = "zero_pad" if shortcut == "A" else "projection"
        stage, cin = _stage(BasicBlock, cin, width, n, 1 if i == 0 else 2, kind, "3x3")
        layers.append((f"layer{i + 1}", stage))
    return _nn.Net(_nn.seq(*layers), _nn.pooled_head(cin, num_classes))


# Table 6 gives 0.27 M, 0.46 M, 0.66 M, 0.85 M and 1.7 M; the exact counts are the
# 6n + 2 layout's (checked by formula in the tests).
for _depth in (20, 32, 44, 56, 110):
    _cifar_register(_depth, 269_722 if _depth == 20 else None)
