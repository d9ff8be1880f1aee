"""Normalisation: batch normalisation and AlexNet's local response normalisation."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from striate.layers._util import (
    as_shape,
    check_channels,
    check_rank,
    positive,
    rethrow_shape,
    torch_forward,
)
from striate.layers.base import Layer, Shape
from striate.layers.errors import ConfigError, ShapeError
from striate.layers.registry import register_layer


def _check_eps_momentum(eps: float, momentum: float | None) -> None:
    if not isinstance(eps, (int, float)) or eps <= 0:
        raise ConfigError(f"eps must be a positive number. Received: eps={eps!r}")
    if momentum is not None and (not isinstance(momentum, (int, float))
                                 or not 0 <= momentum <= 1):
        raise ConfigError(
            f"momentum must be between 0 and 1 (or None). Received: momentum={momentum!r}"
        )


class _BatchNormBase(Layer):
    num_features: int

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        _check_eps_momentum(eps, momentum)
        super().__init__(positive("num_features", num_features), eps, momentum, affine,
                         track_running_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return torch_forward(self, x)
        except (RuntimeError, ValueError) as err:
            # torch's "running_mean should contain 4 elements not 3" becomes a ShapeError
            rethrow_shape(self, x, err)
            raise

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats}


@register_layer("batch_norm2d")
class BatchNorm2d(_BatchNormBase, nn.BatchNorm2d):
    """Batch normalisation of each channel of ``(C, H, W)`` feature maps (Ioffe & Szegedy
    2015): ``γ·(x − μ)/sqrt(σ² + eps) + β`` with batch statistics in training and running
    averages at test time. Parameters: ``2·C`` (γ, β) plus ``2·C`` running statistics
    (buffers, not parameters). MACs counted as 0.
    """

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shape = check_rank(in_shape, 3, type(self).__name__, "(C, H, W)")
        check_channels(shape, self.num_features, f"BatchNorm2d({self.num_features})",
                       "num_features")
        return shape


@register_layer("batch_norm1d")
class BatchNorm1d(_BatchNormBase, nn.BatchNorm1d):
    """Batch normalisation of features ``(F,)`` or of sequence channels ``(C, L)``."""

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shape = as_shape(in_shape, type(self).__name__)
        if len(shape) not in (1, 2):
            raise ShapeError(
                f"BatchNorm1d({self.num_features}) expects a per-sample input (F,) or (C, L) "
                f"but received shape {shape}; use BatchNorm2d for images"
            )
        check_channels(shape, self.num_features, f"BatchNorm1d({self.num_features})",
                       "num_features")
        return shape


@register_layer("local_response_norm")
class LocalResponseNorm(Layer, nn.LocalResponseNorm):
    """Local response normalisation across channels (AlexNet, Krizhevsky et al. 2012), with
    PyTorch's formula ``b_c = a_c / (k + α/n · Σ a²)^β`` over ``n = size`` neighbouring
    channels. AlexNet used ``size=5, alpha=1e-4, beta=0.75, k=2``.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__(positive("size", size), alpha, beta, k)

    def config(self) -> dict[str, Any]:
        return {"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}
