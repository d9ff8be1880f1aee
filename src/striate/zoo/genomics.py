"""Convolutional networks for DNA: DeepBind and DeepSEA.

Input: one-hot DNA ``(4, L)`` with channels A, C, G, T (so the complement of a base is the
channel flipped, and the reverse complement flips both axes).

**DeepBind** (Alipanahi, Delong, Weirauch & Frey, "Predicting the sequence specificities of
DNA- and RNA-binding proteins by deep learning", Nat. Biotechnol. 33, 2015; Supplementary
Notes §1): the sequence is padded with m − 1 uninformative positions (0.25 per base) on
each side; 16 motif detectors of length m = 24 scan it (a 1-D convolution); rectification
``max(0, x − b)`` with a per-motif threshold (the bias); global max pooling (``pooling=
"maxavg"`` adds global average pooling, the ChIP/SELEX setting); then either a linear
output or one hidden layer of 32 ReLU units with dropout (``hidden=0`` for none). Both
strands are scored and the larger score kept (``both_strands``). Defaults: 101 bp, one
output score; the paper calibrates dropout per model, striate uses 0.5.

**DeepSEA** (Zhou & Troyanskaya, "Predicting effects of noncoding variants with deep
learning-based sequence model", Nat. Methods 12, 2015, Methods): 1,000 bp; convolutions of
320, 480 and 960 kernels of width 8 with ReLU, 4/4 max pooling after the first two,
dropout 0.2, 0.2 and 0.5; a dense layer of 925 ReLU units; 919 outputs (chromatin
profiles). 1000 → 993 → 248 → 241 → 60 → 53, so the dense layer takes 960·53 = 50,880
inputs: 52,843,119 parameters. The 919 sigmoids are left to the loss
(``BCEWithLogitsLoss``), as softmax is for the classifiers; ``sigmoid=True`` appends them.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from striate.layers.errors import ConfigError
from striate.zoo import _nn
from striate.zoo._probe import flat_size
from striate.zoo.registry import register


class GlobalPool1d(nn.Module):
    """Global max pooling over the sequence, optionally with the average appended.

    Shape:
        (C, L) -> (C,) for ``"max"``, (2·C,) for ``"maxavg"``
    """

    def __init__(self, mode: str = "max") -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        peak = x.amax(dim=-1)
        return torch.cat([peak, x.mean(dim=-1)], dim=1) if self.mode == "maxavg" else peak


class DeepBind(nn.Module):
    """Pad with 0.25, ``motifs`` (conv + rectification), ``pool``, ``head``; the score of
    a sequence is the larger of its two strands' when ``both_strands``."""

    def __init__(self, in_channels: int, num_classes: int, motifs: int, motif_length: int,
                 pooling: str, hidden: int, dropout: float, both_strands: bool) -> None:
        super().__init__()
        self.pad, self.both_strands = motif_length - 1, both_strands
        self.motifs = _nn.conv1d(in_channels, motifs, motif_length)
        self.rectify = _nn.relu()
        self.pool = GlobalPool1d(pooling)
        width = motifs * (2 if pooling == "maxavg" else 1)
        head = ([("fc1", _nn.dense(width, hidden)), ("relu", _nn.relu()),
                 ("dropout", _nn.dropout(dropout)), ("fc2", _nn.dense(hidden, num_classes))]
                if hidden else
                [("dropout", _nn.dropout(dropout)), ("fc", _nn.dense(width, num_classes))])
        self.head = _nn.seq(*head)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Score one strand."""
        x = F.pad(x, (self.pad, self.pad), value=0.25)
        return self.head(self.pool(self.rectify(self.motifs(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.score(x)
        if self.both_strands:
            out = torch.maximum(out, self.score(x.flip(1, 2)))
        return out


@register("deepbind", family="Genomics", year=2015,
          paper="Alipanahi et al., Predicting the sequence specificities of DNA- and "
                "RNA-binding proteins by deep learning, Nat. Biotechnol. 2015",
          params=4 * 24 * 16 + 16 + 16 * 32 + 32 + 32 + 1, input_shape=(4, 101),
          num_classes=1, task="regression",
          description="DeepBind: 16 motif detectors (24 bp), max pooling, 32 hidden, 2 strands")
def deepbind(*, num_classes: int = 1, input_shape: tuple[int, ...] = (4, 101),
             motifs: int = 16, motif_length: int = 24, pooling: str = "max", hidden: int = 32,
             dropout: float = 0.5, both_strands: bool = True) -> nn.Module:
    """DeepBind (see the module docstring); ``num_classes=2`` for a bound/unbound classifier.

    Shape:
        (4, L) -> (num_classes,)
    """
    if pooling not in ("max", "maxavg"):
        raise ConfigError(f"deepbind: pooling must be 'max' or 'maxavg'. "
                          f"Received: pooling={pooling!r}")
    if both_strands and input_shape[0] != 4:
        raise ConfigError(f"deepbind: both_strands needs one-hot DNA with 4 channels (A, C, G, "
                          f"T); the input has {input_shape[0]}. Use both_strands=False")
    return DeepBind(input_shape[0], num_classes, motifs, motif_length, pooling, hidden,
                    dropout, both_strands)


@register("deepsea", family="Genomics", year=2015,
          paper="Zhou & Troyanskaya, Predicting effects of noncoding variants with deep "
                "learning-based sequence model, Nat. Methods 2015", params=52_843_119,
          input_shape=(4, 1000), num_classes=919, task="multilabel",
          description="DeepSEA: 3 convs (320/480/960 x 8) on 1000 bp, 925 hidden, 919 tracks")
def deepsea(*, num_classes: int = 919, input_shape: tuple[int, ...] = (4, 1000),
            hidden: int = 925, sigmoid: bool = False) -> nn.Module:
    """DeepSEA (see the module docstring).

    Shape:
        (4, L) -> (num_classes,) multi-label logits (probabilities with ``sigmoid``)
    """
    features = _nn.seq(
        ("conv1", _nn.conv1d(input_shape[0], 320, 8)), ("relu1", _nn.relu()),
        ("pool1", _nn.max_pool1d(4, 4)), ("drop1", _nn.dropout(0.2)),
        ("conv2", _nn.conv1d(320, 480, 8)), ("relu2", _nn.relu()),
        ("pool2", _nn.max_pool1d(4, 4)), ("drop2", _nn.dropout(0.2)),
        ("conv3", _nn.conv1d(480, 960, 8)), ("relu3", _nn.relu()), ("drop3", _nn.dropout(0.5)),
    )
    head = [("flatten", _nn.flatten()),
            ("fc1", _nn.dense(flat_size(features, input_shape), hidden)), ("relu4", _nn.relu()),
            ("fc2", _nn.dense(hidden, num_classes))]
    if sigmoid:
        head.append(("sigmoid", _nn.sigmoid()))
    return _nn.Net(features, _nn.seq(*head))
