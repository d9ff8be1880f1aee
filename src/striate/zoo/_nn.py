"""The layer factories the zoo builds from.

Every model is made of striate layers (``striate.layers``), which subclass the torch module
of the same name and keep its arguments, so parameter counts and MACs are the torch ones.
The factories below are the single place where the zoo meets the layer API: a layer that
is not (yet) available in ``striate.layers`` falls back to the torch module with the same
arguments, so the zoo never breaks on a missing piece.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def _cls(name: str, fallback: type) -> type:
    try:
        import striate.layers as layers
    except ImportError:  # pragma: no cover - the package always has striate.layers
        return fallback
    found = getattr(layers, name, None)
    return found if isinstance(found, type) and issubclass(found, fallback) else fallback


def conv1d(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
           dilation: int = 1, groups: int = 1, bias: bool = True) -> nn.Conv1d:
    """A 1-D convolution (striate ``Conv1d``)."""
    return _cls("Conv1d", nn.Conv1d)(cin, cout, kernel, stride=stride, padding=padding,
                                     dilation=dilation, groups=groups, bias=bias)


def conv2d(cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1,
           padding: int | tuple[int, int] = 0, dilation: int = 1, groups: int = 1,
           bias: bool = True) -> nn.Conv2d:
    """A 2-D convolution (striate ``Conv2d``)."""
    return _cls("Conv2d", nn.Conv2d)(cin, cout, kernel, stride=stride, padding=padding,
                                     dilation=dilation, groups=groups, bias=bias)


def deconv2d(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
             bias: bool = True) -> nn.ConvTranspose2d:
    """A transposed 2-D convolution (striate ``ConvTranspose2d``)."""
    return _cls("ConvTranspose2d", nn.ConvTranspose2d)(cin, cout, kernel, stride=stride,
                                                       padding=padding, bias=bias)


def max_pool2d(kernel: int, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False, return_indices: bool = False) -> nn.MaxPool2d:
    """2-D max pooling (striate ``MaxPool2d``); ``return_indices`` keeps the switches."""
    return _cls("MaxPool2d", nn.MaxPool2d)(kernel, stride=stride, padding=padding,
                                           ceil_mode=ceil_mode, return_indices=return_indices)


def max_unpool2d(kernel: int, stride: int | None = None) -> nn.MaxUnpool2d:
    """2-D max unpooling from the switches (striate ``MaxUnpool2d``)."""
    return _cls("MaxUnpool2d", nn.MaxUnpool2d)(kernel, stride=stride)


def avg_pool2d(kernel: int, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False) -> nn.AvgPool2d:
    """2-D average pooling (striate ``AvgPool2d``)."""
    return _cls("AvgPool2d", nn.AvgPool2d)(kernel, stride=stride, padding=padding,
                                           ceil_mode=ceil_mode)


def max_pool1d(kernel: int, stride: int | None = None) -> nn.MaxPool1d:
    """1-D max pooling (striate ``MaxPool1d``)."""
    return _cls("MaxPool1d", nn.MaxPool1d)(kernel, stride=stride)


class _GlobalAvgPool(nn.Module):
    """Mean over every spatial axis: ``(C, *spatial) -> (C,)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(-1)


def global_avg_pool(ndim: int = 2) -> nn.Module:
    """Global average pooling over the ``ndim`` spatial axes, output ``(C,)`` or ``(C, 1..)``
    (striate ``GlobalAvgPool2d``/``1d``); follow it with :func:`flatten`."""
    name = f"GlobalAvgPool{ndim}d"
    try:
        import striate.layers as layers

        found = getattr(layers, name, None) or getattr(layers, "GlobalAvgPool", None)
    except ImportError:  # pragma: no cover
        found = None
    if isinstance(found, type):
        try:
            return found()
        except TypeError:
            pass
    return _GlobalAvgPool()


def dense(cin: int, cout: int, bias: bool = True) -> nn.Linear:
    """A fully connected layer ``cin -> cout`` (striate ``Dense``, whose first argument is
    ``out_features``; torch's ``Linear`` takes ``in_features`` first)."""
    cls = _cls("Dense", nn.Linear)
    if cls is nn.Linear:
        return nn.Linear(cin, cout, bias=bias)
    return cls(out_features=cout, in_features=cin, bias=bias)


def flatten() -> nn.Flatten:
    """Flatten everything but the batch axis (striate ``Flatten``)."""
    return _cls("Flatten", nn.Flatten)()


def dropout(p: float) -> nn.Dropout:
    """Dropout with drop probability ``p`` (striate ``Dropout``)."""
    return _cls("Dropout", nn.Dropout)(p)


def batch_norm2d(c: int) -> nn.BatchNorm2d:
    """Batch normalisation over channels of images (striate ``BatchNorm2d``)."""
    return _cls("BatchNorm2d", nn.BatchNorm2d)(c)


def batch_norm1d(c: int) -> nn.BatchNorm1d:
    """Batch normalisation over channels of sequences or vectors (striate ``BatchNorm1d``)."""
    return _cls("BatchNorm1d", nn.BatchNorm1d)(c)


def lrn(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> nn.Module:
    """Local response normalisation across channels (striate ``LocalResponseNorm``).

    PyTorch, like Caffe, divides ``alpha`` by ``size`` inside the sum.
    """
    return _cls("LocalResponseNorm", nn.LocalResponseNorm)(size, alpha=alpha, beta=beta, k=k)


def relu() -> nn.ReLU:
    """Rectified linear unit (striate ``ReLU``)."""
    return _cls("ReLU", nn.ReLU)()


def tanh() -> nn.Tanh:
    """Hyperbolic tangent (striate ``Tanh``)."""
    return _cls("Tanh", nn.Tanh)()


def sigmoid() -> nn.Sigmoid:
    """Logistic sigmoid (striate ``Sigmoid``)."""
    return _cls("Sigmoid", nn.Sigmoid)()


def seq(*items: tuple[str, nn.Module]) -> nn.Sequential:
    """A Sequential with named children (``features.conv1``), for readable summaries."""
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(items))


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


def identity() -> nn.Module:
    """A layer that returns its input (striate ``Identity``)."""
    cls = _cls("Identity", nn.Identity)
    try:
        return cls()
    except TypeError:
        return nn.Identity()


class _CausalConv1d(nn.Conv1d):
    """Fallback causal convolution: ``d·(k − 1)`` zeros on the left only."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = self.dilation[0] * (self.kernel_size[0] - 1)
        return super().forward(nn.functional.pad(x, (left, 0)))


def causal_conv1d(cin: int, cout: int, kernel: int, dilation: int = 1,
                  bias: bool = True) -> nn.Conv1d:
    """A causal 1-D convolution: output ``t`` sees inputs ``≤ t`` only, same length
    (striate ``Conv1d(padding="causal")``)."""
    cls = _cls("Conv1d", nn.Conv1d)
    if cls is not nn.Conv1d:
        try:
            return cls(cin, cout, kernel, padding="causal", dilation=dilation, bias=bias)
        except (TypeError, ValueError):
            pass
    return _CausalConv1d(cin, cout, kernel, dilation=dilation, bias=bias)


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
