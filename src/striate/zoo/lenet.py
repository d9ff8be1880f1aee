"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 86(11), 1998).

Two layouts:

- ``lenet5`` (default): the form every course teaches — C1 6@5x5, tanh, 2x2 average
  pooling, C3 16@5x5 fully connected to the 6 maps, tanh, pooling, then dense 120, 84 and
  the classes; 61,706 parameters at 32x32 and 10 classes.
- ``lenet5(original=True)`` / ``lenet5_1998``: the paper's network, with exactly the
  60,000 trainable parameters it states (§II-B):

  ======  =================================================  ======
  layer   what the paper describes                           params
  ======  =================================================  ======
  C1      6 maps, 5x5 kernels                                   156
  S2      2x2 sums × trainable coefficient + bias, per map       12
  C3      16 maps, 5x5, partial connections of Table I        1,516
  S4      as S2, 16 maps                                         32
  C5      120 maps, 5x5 (a full connection at 32x32 input)   48,120
  F6      84 units                                           10,164
  output  Euclidean RBF units, parameters fixed by hand           0
  ======  =================================================  ======

  Squashing is ``1.7159·tanh(2/3·a)`` (Appendix A). C3's Table I wires maps 0–5 to three
  contiguous S2 maps, 6–11 to four contiguous, 12–14 to four non-contiguous and map 15 to
  all six: 60 connections × 25 weights + 16 biases = 1,516. The RBF output returns
  ``−‖x − w_i‖²`` so that the largest value is the predicted class and a softmax loss
  applies; its prototypes are fixed ±1 codes drawn once from a seeded generator (the
  paper's are stylised 7x12 bitmaps of the characters, not published as numbers).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.layers.base import Layer
from striate.zoo import _nn
from striate.zoo._probe import flat_size
from striate.zoo.registry import register

# LeCun et al. 1998, Table I: which S2 maps feed each C3 map.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class ScaledTanh(nn.Module):
    """LeCun's squashing function ``A·tanh(S·a)`` with A = 1.7159, S = 2/3."""

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)


class Subsampling(Layer, nn.Module):
    """S2/S4: the sum of each 2x2 window, times a trainable coefficient, plus a bias (per map).

    Shape:
        (C, H, W) -> (C, H/2, W/2); 2·C parameters.
    """

    def output_shape(self, in_shape: tuple[int, ...], *, strict: bool = False
                     ) -> tuple[int, ...]:
        """The pooled shape (its 2x2 window's)."""
        return self.pool.output_shape(in_shape, strict=strict)

    def macs(self, in_shape: tuple[int, ...]) -> int:
        """0: one scaling per output, and the convention counts convolution and dense
        layers only (as for batch norm)."""
        return 0

    def config(self) -> dict[str, int]:
        """Constructor arguments."""
        return {"channels": int(self.weight.shape[0])}

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pool = _nn.avg_pool2d(2)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # average × 4 = the sum of the four inputs the paper describes
        return self.pool(x) * (4.0 * self.weight).view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv(nn.Module):
    """C3: one small convolution per output map over the input maps ``table`` lists.

    Parameters are exactly ``sum(len(group))·k² + len(table)`` (1,516 for Table I).
    """

    def __init__(self, table: tuple[tuple[int, ...], ...], kernel: int = 5) -> None:
        super().__init__()
        self.table = [list(group) for group in table]
        self.maps = nn.ModuleList(_nn.conv2d(len(group), 1, kernel) for group in table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, group]) for conv, group in zip(self.maps, self.table,
                                                                   strict=True)], dim=1)


class EuclideanRBF(nn.Module):
    """Output layer of the 1998 paper: ``y_i = −‖x − w_i‖²`` with fixed (buffer) ``w_i``."""

    def __init__(self, in_features: int, classes: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        codes = torch.randint(0, 2, (classes, in_features), generator=gen).float() * 2 - 1
        device = getattr(torch, "get_default_device", lambda: torch.device("cpu"))()
        self.register_buffer("centers", codes.to(device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -((x.unsqueeze(1) - self.centers.unsqueeze(0)) ** 2).sum(-1)


def _original(num_classes: int, input_shape: tuple[int, ...]) -> nn.Module:
    features = _nn.seq(
        ("c1", _nn.conv2d(input_shape[0], 6, 5)), ("squash1", ScaledTanh()),
        ("s2", Subsampling(6)), ("squash2", ScaledTanh()),
        ("c3", PartialConv(C3_TABLE)), ("squash3", ScaledTanh()),
        ("s4", Subsampling(16)), ("squash4", ScaledTanh()),
        ("c5", _nn.conv2d(16, 120, 5)), ("squash5", ScaledTanh()),
    )
    head = _nn.seq(("flatten", _nn.flatten()),
                   ("f6", _nn.dense(flat_size(features, input_shape), 84)),
                   ("squash6", ScaledTanh()), ("output", EuclideanRBF(84, num_classes)))
    return _nn.Net(features, head)


@register("lenet5_1998", family="LeNet", year=1998,
          paper="LeCun et al., Gradient-based learning applied to document recognition, "
                "Proc. IEEE 1998", params=60_000, input_shape=(1, 32, 32), num_classes=10,
          description="LeNet-5 as published: partial C3 table, trainable subsampling, RBF out",
          fixed={"original": True})
@register("lenet5", family="LeNet", year=1998,
          paper="LeCun et al., Gradient-based learning applied to document recognition, "
                "Proc. IEEE 1998", params=61_706, input_shape=(1, 32, 32), num_classes=10,
          description="LeNet-5: 2 tanh convs + average pooling, dense 120-84 (modern form)")
def lenet5(*, num_classes: int = 10, input_shape: tuple[int, ...] = (1, 32, 32),
           original: bool = False) -> nn.Module:
    """LeNet-5 (LeCun et al. 1998), see the module docstring for both layouts.

    No padding: at 28x28 (MNIST as stored) the maps are 24 → 12 → 8 → 4 and the first dense
    layer takes 16·4·4 inputs; the paper pads the digits to 32x32 instead.

    Args:
        original: the 1998 network (60,000 parameters) instead of the modern form.

    Shape:
        (C, H, W) -> (num_classes,)
    """
    if original:
        return _original(num_classes, input_shape)
    features = _nn.seq(
        ("conv1", _nn.conv2d(input_shape[0], 6, 5)), ("tanh1", _nn.tanh()),
        ("pool1", _nn.avg_pool2d(2)),
        ("conv2", _nn.conv2d(6, 16, 5)), ("tanh2", _nn.tanh()),
        ("pool2", _nn.avg_pool2d(2)),
    )
    flat = flat_size(features, input_shape)
    classifier = _nn.seq(
        ("flatten", _nn.flatten()),
        ("fc1", _nn.dense(flat, 120)), ("tanh3", _nn.tanh()),
        ("fc2", _nn.dense(120, 84)), ("tanh4", _nn.tanh()),
        ("fc3", _nn.dense(84, num_classes)),
    )
    return _nn.Net(features, classifier)

