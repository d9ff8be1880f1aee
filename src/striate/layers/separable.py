"""Depthwise-separable convolution (Xception, MobileNet): a depthwise k×k convolution per
channel, then a 1×1 pointwise convolution that mixes the channels."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from striate.layers._util import positive
from striate.layers.activation import ReLU
from striate.layers.base import Layer, RFParams, Shape
from striate.layers.container import chain_macs, chain_shape
from striate.layers.conv import Conv2d, PaddingArg
from striate.layers.errors import ConfigError
from striate.layers.norm import BatchNorm2d
from striate.layers.registry import register_layer


@register_layer("separable_conv2d")
class SeparableConv2d(Layer, nn.Module):
    """Depthwise ``k×k`` convolution (``groups=in_channels``, ``depth_multiplier`` filters
    per channel, no bias) followed by a pointwise ``1×1`` convolution.

    Args:
        mid_norm: put a BatchNorm2d between the two convolutions (MobileNet).
        mid_activation: ``"relu"`` to put a ReLU between them, or None (Xception).

    Shape:
        (C_in, H, W) -> (C_out, H', W') with H' of the depthwise convolution.
        Weights k·k·C_in·m + C_in·m·C_out (+ C_out biases), against k·k·C_in·C_out for a
        full convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: PaddingArg = 0,
                 dilation: int | tuple[int, int] = 1, bias: bool = True,
                 depth_multiplier: int = 1, mid_norm: bool = False,
                 mid_activation: str | None = None) -> None:
        super().__init__()
        positive("in_channels", in_channels)
        positive("depth_multiplier", depth_multiplier)
        if mid_activation not in (None, "relu"):
            raise ConfigError(
                f"mid_activation must be None or 'relu'. Received: mid_activation="
                f"{mid_activation!r}"
            )
        mid = in_channels * depth_multiplier
        self._options = {"in_channels": in_channels, "out_channels": out_channels,
                         "kernel_size": kernel_size, "stride": stride, "padding": padding,
                         "dilation": dilation, "bias": bias,
                         "depth_multiplier": depth_multiplier, "mid_norm": mid_norm,
                         "mid_activation": mid_activation}
        self.depthwise = Conv2d(in_channels, mid, kernel_size, stride, padding, dilation,
                                groups=in_channels, bias=False)
        self.norm = BatchNorm2d(mid) if mid_norm else None
        self.act = ReLU() if mid_activation == "relu" else None
        self.pointwise = Conv2d(mid, out_channels, 1, bias=bias)

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        return chain_shape(self, in_shape, strict=strict)

    def dropped_inputs(self, in_shape: Shape) -> tuple[int, ...]:
        return self.depthwise.dropped_inputs(in_shape)

    def macs(self, in_shape: Shape) -> int:
        return chain_macs(self, in_shape)

    def rf(self, in_shape: Shape | None = None) -> RFParams:
        """The depthwise window (the pointwise 1×1 does not widen it)."""
        return self.depthwise.rf(in_shape)

    def describe(self) -> str:
        return f"SeparableConv2d(k={self._options['kernel_size']}, s={self._options['stride']})"

    def config(self) -> dict[str, Any]:
        cfg = dict(self._options)
        for key in ("kernel_size", "stride", "dilation", "padding"):
            if isinstance(cfg[key], tuple):
                cfg[key] = list(cfg[key])
        return cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.depthwise(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.act is not None:
            x = self.act(x)
        return self.pointwise(x)
