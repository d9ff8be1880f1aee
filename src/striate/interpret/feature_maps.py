"""Feature maps: the activations of chosen layers for one input."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from striate.interpret._common import (
    Tensorish,
    capture,
    check_input,
    conv_layers,
    make_preprocess,
    model_device,
)
from striate.layers.errors import ConfigError


def feature_maps(model: nn.Module, x: Tensorish, layers: Sequence[str] | None = None, *,
                 preprocess: Any = None, normalization: Any = None) -> dict[str, np.ndarray]:
    """The activations of ``layers`` (default: every convolution) for one sample ``x``.

    Args:
        x: one raw sample ``(C, H, W)`` or ``(C, L)`` (uint8 pixels or floats).
        preprocess: see :func:`striate.interpret.make_preprocess`.

    Shape:
        each value: the layer's per-sample output, e.g. ``(C', H', W')``

    Raises:
        ConfigError: an unknown layer. ShapeError: an input the model cannot take.
    """
    sample = torch.as_tensor(np.asarray(x)) if isinstance(x, np.ndarray) else x
    prep = make_preprocess(model, preprocess, normalization, tuple(sample.shape))
    disp = prep.display(sample[None])
    check_input(model, tuple(disp.shape[1:]))
    names = list(layers) if layers else conv_layers(model)
    if not names:
        raise ConfigError("the model has no convolution; name the layers to show").at("--layer")
    model.eval()
    with torch.no_grad():
        found, _ = capture(model, prep.model_input(disp).to(model_device(model)), names)
    return {n: found[n][0].float().cpu().numpy() for n in names}


def save_feature_maps(maps: dict[str, np.ndarray], path: str | os.PathLike[str], *,
                      max_channels: int = 64, force: bool = False) -> Path:
    """Draw each layer's maps as a grid (one row block per layer) into a PNG.

    Vectors ``(F,)`` are drawn as a bar; 1-D maps ``(C, L)`` as one heat-map.
    """
    from striate.interpret._common import grid_side
    from striate.interpret._plot import pyplot, save_figure

    plt = pyplot()
    blocks = []
    for name, a in maps.items():
        n = min(a.shape[0], max_channels) if a.ndim >= 3 else 1
        blocks.append((name, a, n, grid_side(n)))
    cols = max(c for *_, (_, c) in blocks)
    rows = sum(r for *_, (r, _) in blocks)
    wide = any(a.ndim == 2 for _, a, *_ in blocks)  # (C, L) maps want width
    fig = plt.figure(figsize=(max(min(cols, 16) * 0.8 + 0.5, 7.0 if wide else 0.0),
                              rows * (1.4 if wide else 0.8) + 0.6 * len(blocks)))
    sub = fig.subfigures(len(blocks), 1, squeeze=False,
                         height_ratios=[r + 0.6 for *_, (r, _) in blocks])
    for (name, a, n, (r, c)), sf in zip(blocks, sub[:, 0], strict=True):
        sf.suptitle(f"{name} {tuple(a.shape)}", fontsize=8)
        if a.ndim >= 3:
            axes = np.atleast_1d(sf.subplots(r, cols, squeeze=False)).ravel()
            lo, hi = float(a[:n].min()), float(a[:n].max())
            for i, ax in enumerate(axes):
                ax.set_xticks([])
                ax.set_yticks([])
                row, col = divmod(i, cols)
                k = row * c + col
                if col >= c or k >= n:
                    ax.axis("off")
                    continue
                img = a[k] if a.ndim == 3 else a[k].reshape(a.shape[1], -1)
                ax.imshow(img, cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
                ax.set_title(str(k), fontsize=6)
        else:
            ax = sf.subplots(1, 1)
            if a.ndim == 2:
                ax.imshow(a, aspect="auto", cmap="viridis", interpolation="nearest")
            else:
                ax.bar(np.arange(a.size), a.ravel())
    return save_figure(fig, path, force=force)
