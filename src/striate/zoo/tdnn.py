"""The time-delay neural network (Waibel, Hanazawa, Hinton, Shikano & Lang, "Phoneme
recognition using time-delay neural networks", IEEE Trans. ASSP 37(3), 1989; the notes cite
Waibel & Hinton 1987).

The first convolutional network: the same weights slide along time. The phoneme network
of the paper, for /b/, /d/, /g/:

- input: 16 mel-scale spectral coefficients per 10 ms frame, 15 frames (150 ms);
- hidden 1: 8 units seeing 3 consecutive frames (delays 0, 1, 2) → 13 frames;
- hidden 2: 3 units seeing 5 consecutive hidden-1 frames → 9 frames;
- output: each class integrates (sums) its hidden-2 row over the 9 frames.

Sigmoid units throughout. Parameters: 16·3·8 + 8 = 392 and 8·5·3 + 3 = 123, 515 in all
(the output sum has none). The paper's hidden-2 layer has one unit per class, so
``num_classes`` sets it. Choice where the paper is loose: the output returns the sums
(logits for a softmax loss) rather than squashing them through a final sigmoid.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from striate.zoo import _nn
from striate.zoo.registry import register


class TimeSum(nn.Module):
    """Integrate over time: ``(C, L) -> (C,)``, the TDNN's output layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(-1)


@register("tdnn", family="TDNN", year=1989,
          paper="Waibel et al., Phoneme recognition using time-delay neural networks, "
                "IEEE Trans. ASSP 1989", params=515, input_shape=(16, 15), num_classes=3,
          task="classification",
          description="time-delay network: 16 coefficients x 15 frames, delays 3 and 5, /b d g/")
def tdnn(*, num_classes: int = 3, input_shape: tuple[int, ...] = (16, 15), hidden: int = 8,
         delays1: int = 3, delays2: int = 5) -> nn.Module:
    """Waibel et al.'s TDNN (see the module docstring).

    Args:
        hidden: units of the first hidden layer (8 in the paper).
        delays1: frames seen by a hidden-1 unit (3).
        delays2: hidden-1 frames seen by a hidden-2 unit (5).

    Shape:
        (coefficients, frames) -> (num_classes,)
    """
    return _nn.seq(
        ("tdnn1", _nn.conv1d(input_shape[0], hidden, delays1)), ("sigmoid1", _nn.sigmoid()),
        ("tdnn2", _nn.conv1d(hidden, num_classes, delays2)), ("sigmoid2", _nn.sigmoid()),
        ("integrate", TimeSum()),
    )
