"""The layer factories the zoo builds from: striate layers, under short names.

Every model is made of striate layers (``striate.layers``), which subclass the torch module
of the same name and keep its arguments, so parameter counts and MACs are the torch ones
and ``striate.arith`` / ``striate.to_spec`` understand every layer. These factories are
the one place where the zoo meets the layer API (``Dense`` takes ``out_features`` first,
for instance), so a change there is a change here only.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool1d,
    GlobalAvgPool2d,
    Identity,
    LocalResponseNorm,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool2d,
    ReLU,
    Sigmoid,
    Tanh,
)


def conv1d(cin: int, cout: int, kernel: int, stride: int = 1, padding: int | str = 0,
           dilation: int = 1, groups: int = 1, bias: bool = True) -> Conv1d:
    """A 1-D convolution."""
    return Conv1d(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, bias=bias)


def causal_conv1d(cin: int, cout: int, kernel: int, dilation: int = 1,
                  bias: bool = True) -> Conv1d:
    """A causal 1-D convolution: output ``t`` sees inputs ``≤ t`` only, same length
    (``d·(k − 1)`` zeros on the left)."""
    return Conv1d(cin, cout, kernel, padding="causal", dilation=dilation, bias=bias)


def conv2d(cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1,
           padding: int | tuple[int, int] = 0, dilation: int = 1, groups: int = 1,
           bias: bool = True) -> Conv2d:
    """A 2-D convolution."""
    return Conv2d(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, bias=bias)


def deconv2d(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
             bias: bool = True) -> ConvTranspose2d:
    """A transposed 2-D convolution."""
    return ConvTranspose2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias)


def max_pool2d(kernel: int, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False, return_indices: bool = False) -> MaxPool2d:
    """2-D max pooling; ``return_indices`` keeps the switches."""
    return MaxPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                     return_indices=return_indices)


def max_unpool2d(kernel: int, stride: int | None = None) -> MaxUnpool2d:
    """2-D max unpooling from the switches."""
    return MaxUnpool2d(kernel, stride=stride)


def avg_pool2d(kernel: int, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False) -> AvgPool2d:
    """2-D average pooling."""
    return AvgPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)


def max_pool1d(kernel: int, stride: int | None = None) -> MaxPool1d:
    """1-D max pooling."""
    return MaxPool1d(kernel, stride=stride)


def global_avg_pool(ndim: int = 2) -> nn.Module:
    """Global average pooling over the ``ndim`` spatial axes: ``(C, ...) -> (C,)``."""
    return GlobalAvgPool2d() if ndim == 2 else GlobalAvgPool1d()


def dense(cin: int, cout: int, bias: bool = True) -> Dense:
    """A fully connected layer ``cin -> cout`` (striate's ``Dense`` takes ``out_features``
    first)."""
    return Dense(out_features=cout, in_features=cin, bias=bias)


def flatten() -> Flatten:
    """Flatten everything but the batch axis."""
    return Flatten()


def dropout(p: float) -> Dropout:
    """Dropout with drop probability ``p``."""
    return Dropout(p)


def batch_norm2d(c: int) -> BatchNorm2d:
    """Batch normalisation over the channels of images."""
    return BatchNorm2d(c)


def lrn(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
        ) -> LocalResponseNorm:
    """Local response normalisation across channels.

    PyTorch, like Caffe, divides ``alpha`` by ``size`` inside the sum.
    """
    return LocalResponseNorm(size, alpha=alpha, beta=beta, k=k)


def relu() -> ReLU:
    """Rectified linear unit."""
    return ReLU()


def tanh() -> Tanh:
    """Hyperbolic tangent."""
    return Tanh()


def sigmoid() -> Sigmoid:
    """Logistic sigmoid."""
    return Sigmoid()


def identity() -> Identity:
    """A layer that returns its input."""
    return Identity()


def seq(*items: tuple[str, nn.Module]) -> nn.Sequential:
    """A Sequential with named children (``features.conv1``), for readable summaries."""
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(items))


def pooled_head(cin: int, num_classes: int, dropout: float | None = None) -> nn.Sequential:
    """Global average pooling, flatten, (dropout,) dense: the classifier of ResNet,
    DenseNet and GoogLeNet, named ``avgpool``, ``flatten``, ``dropout``, ``fc``."""
    drop = [] if dropout is None else [("dropout", Dropout(dropout))]
    return seq(("avgpool", global_avg_pool()), ("flatten", flatten()), *drop,
               ("fc", dense(cin, num_classes)))


class Net(nn.Module):
    """``features`` then ``classifier``: the two-part layout most zoo models share (so that
    transfer learning replaces ``classifier`` and Grad-CAM finds the last map in
    ``features``)."""

    def __init__(self, features: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def crop_to(x: torch.Tensor, like: torch.Tensor, offset: int) -> torch.Tensor:
    """Caffe's Crop: ``x[..., offset:offset + H, offset:offset + W]`` with ``like``'s H, W."""
    h, w = like.shape[-2:]
    return x[..., offset:offset + h, offset:offset + w]


def bilinear_(weight: torch.Tensor) -> torch.Tensor:
    """Fill a transposed-convolution weight ``(C, C, k, k)`` with bilinear interpolation
    (Caffe's ``bilinear`` filler as FCN uses it: channel ``c`` upsamples channel ``c``)."""
    if weight.is_meta:
        return weight
    k = weight.shape[-1]
    factor = (k + 1) // 2
    center = factor - 1 if k % 2 == 1 else factor - 0.5
    og = torch.arange(k, dtype=torch.float32, device=weight.device)
    filt = 1 - (og - center).abs() / factor
    kernel = filt[:, None] * filt[None, :]
    with torch.no_grad():
        weight.zero_()
        for c in range(min(weight.shape[0], weight.shape[1])):
            weight[c, c] = kernel
    return weight
