"""Filters: the kernels of a convolution drawn as images.

First-layer kernels of an RGB network are drawn in colour (the Gabor-like edges and colour
blobs of AlexNet); for a grey or deeper layer each input channel is drawn on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from striate.interpret._common import CONV_TYPES, find_layer, first_conv, normalise01
from striate.layers.errors import ConfigError


@dataclass
class Filters:
    """The kernels of one convolution.

    Attributes:
        layer: the layer's qualified name.
        weights: ``(C_out, C_in/groups, *kernel)`` as float32.
        colour: True when each kernel is drawn as one RGB image (3 input channels).
    """

    layer: str
    weights: np.ndarray
    colour: bool

    def images(self, per_channel: bool = False) -> list[np.ndarray]:
        """One image per kernel (``(3, kh, kw)`` or ``(1, kh, kw)``), or per kernel and input
        channel with ``per_channel``. Each image is scaled to 0–1 on its own."""
        w = self.weights
        if w.ndim == 3:  # 1-D kernels (C_out, C_in, k): one (C_in x k) picture per filter
            return [normalise01(k)[None] for k in w]
        if self.colour and not per_channel:
            return [normalise01(k) for k in w]
        if per_channel:
            return [normalise01(k[c])[None] for k in w for c in range(k.shape[0])]
        return [normalise01(k.mean(axis=0))[None] for k in w]


def filters(model: nn.Module, layer: str | None = None) -> Filters:
    """The kernels of ``layer`` (default: the first convolution).

    Shape:
        weights: ``(C_out, C_in/groups, kh, kw)`` (2-D) or ``(C_out, C_in, k)`` (1-D)

    Raises:
        ConfigError: an unknown layer (listing the valid ones) or one that is no convolution.
    """
    if layer is None:
        layer, mod = first_conv(model)
    else:
        mod = find_layer(model, layer)
        if not isinstance(mod, CONV_TYPES):
            convs = [n for n, m in model.named_modules() if isinstance(m, CONV_TYPES)]
            raise ConfigError(f"{layer} is a {type(mod).__name__}, not a convolution; "
                              f"filters exist for {', '.join(convs) or 'no layer'}"
                              ).at("--layer")
    w = mod.weight.detach().float().cpu().numpy()
    return Filters(layer=layer, weights=w, colour=w.ndim == 4 and w.shape[1] == 3)


def save_filters(result: Filters, path: str | os.PathLike[str], *, per_channel: bool = False,
                 force: bool = False) -> Path:
    """Draw the kernels as a grid (rows of input channels with ``per_channel``) into a PNG."""
    from striate.interpret._plot import image_grid_figure, save_figure

    w = result.weights
    if per_channel and w.ndim == 4:
        rows, cols = w.shape[0], w.shape[1]
        if rows * cols > 16384:
            raise ConfigError(f"{rows}x{cols} = {rows * cols} kernels are too many to draw; "
                              "draw per_channel=False or a smaller layer")
        fig = image_grid_figure(result.images(per_channel=True), cols=cols, normalise=False,
                                cell=0.5 if cols > 16 else 0.8,
                                title=f"{result.layer}: {rows} filters (rows) x {cols} input "
                                      "channels (columns)")
    else:
        kind = "colour" if result.colour else "mean over input channels" if w.ndim == 4 and \
            w.shape[1] > 1 else ""
        title = f"{result.layer}: {w.shape[0]} filters {'x'.join(map(str, w.shape[2:]))}"
        fig = image_grid_figure(result.images(), title=title + (f" ({kind})" if kind else ""),
                                normalise=False)
    return save_figure(fig, path, force=force)
