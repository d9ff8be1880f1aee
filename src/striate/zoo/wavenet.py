"""A WaveNet-style stack (van den Oord et al., "WaveNet: A generative model for raw audio",
arXiv 1609.03499, 2016).

The input is one-hot µ-law audio (256 channels); a causal 2-tap convolution lifts it to the
residual channels. Then ``stacks`` repetitions of ``layers`` residual layers with dilations
1, 2, 4, …, 2^(layers − 1) (1 … 512 for the paper's 10): each layer is a causal dilated
2-tap convolution to 2·``dilation_channels``, the gated activation
``tanh(W_f∗x) ⊙ σ(W_g∗x)`` (Eq. 2), a 1x1 convolution added back to the input (residual)
and another 1x1 convolution to the skip channels (§2.4, Fig. 4). The skips are summed,
then ReLU - 1x1 - ReLU - 1x1 to 256 classes: output ``t`` is the distribution of sample
``t + 1`` and sees inputs ``≤ t`` only.

Receptive field: ``1 + 1 + stacks·Σ d = 2 + stacks·(2^layers − 1)`` samples (3,071 for
3 stacks of 10 layers).
The paper publishes no channel counts; the defaults (32 residual, 32 dilation, 256 skip
channels, 3 stacks) follow common open implementations. No conditioning inputs.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.zoo import _nn
from striate.zoo.registry import register


class ResidualLayer(nn.Module):
    """Gated causal dilated convolution with residual and skip 1x1 outputs.

    Shape:
        (R, L) -> ((R, L) residual output, (S, L) skip output)
    """

    def __init__(self, residual: int, dilation_channels: int, skip: int, dilation: int) -> None:
        super().__init__()
        self.dilated = _nn.causal_conv1d(residual, 2 * dilation_channels, 2, dilation=dilation)
        self.residual = _nn.conv1d(dilation_channels, residual, 1)
        self.skip = _nn.conv1d(dilation_channels, skip, 1)
        self.dilation_channels = dilation_channels

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        filt, gate = self.dilated(x).split(self.dilation_channels, dim=1)
        z = torch.tanh(filt) * torch.sigmoid(gate)
        return x + self.residual(z), self.skip(z)


class WaveNet(nn.Module):
    """``causal`` input convolution, ``layers`` (residual layers), ``head`` on the skip sum."""

    def __init__(self, in_channels: int, num_classes: int, residual: int, dilation: int,
                 skip: int, layers: int, stacks: int) -> None:
        super().__init__()
        self.causal = _nn.causal_conv1d(in_channels, residual, 2)
        self.layers = nn.ModuleList(
            ResidualLayer(residual, dilation, skip, 2 ** i)
            for _ in range(stacks) for i in range(layers))
        self.head = _nn.seq(("relu1", _nn.relu()), ("conv1", _nn.conv1d(skip, skip, 1)),
                            ("relu2", _nn.relu()), ("conv2", _nn.conv1d(skip, num_classes, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.causal(x)
        total = None
        for layer in self.layers:
            x, s = layer(x)
            total = s if total is None else total + s
        return self.head(total)


@register("wavenet", family="WaveNet", year=2016,
          paper="van den Oord et al., WaveNet: A generative model for raw audio, arXiv 2016",
          params=None, input_shape=(256, 4096), num_classes=256, task="sequence",
          description="WaveNet stack: causal dilated convs 1..512 x 3, gated, residual + skip")
def wavenet(*, num_classes: int = 256, input_shape: tuple[int, ...] = (256, 4096),
            residual_channels: int = 32, dilation_channels: int = 32, skip_channels: int = 256,
            layers: int = 10, stacks: int = 3) -> nn.Module:
    """A WaveNet-style causal dilated stack (see the module docstring).

    Args:
        layers: residual layers per stack (dilations 1 … 2^(layers − 1)).
        stacks: how many times the dilation cycle repeats.

    Shape:
        (C, L) -> (num_classes, L), causal
    """
    from striate.layers.errors import ConfigError

    if layers < 1 or stacks < 1:
        raise ConfigError(f"wavenet: layers and stacks must be at least 1. Received: "
                          f"layers={layers}, stacks={stacks}")
    return WaveNet(input_shape[0], num_classes, residual_channels, dilation_channels,
                   skip_channels, layers, stacks)


def receptive_field(layers: int = 10, stacks: int = 3) -> int:
    """Samples each output sees: ``2 + stacks·(2^layers − 1)`` (2 taps per convolution)."""
    return 2 + stacks * (2 ** layers - 1)
