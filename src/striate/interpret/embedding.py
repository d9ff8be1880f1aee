"""Embedding: t-SNE of the last hidden layer over a data set (Karpathy's "t-SNE
visualization of CNN codes"), drawn as a scatter coloured by class and as a grid of the
images themselves, each cell holding the image whose embedding lies nearest to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from striate.interpret._common import (
    capture,
    check_input,
    data_arrays,
    iter_batches,
    make_preprocess,
    model_device,
    take,
)
from striate.interpret._rules import evaluating
from striate.layers.errors import ConfigError


@dataclass
class Embedding:
    """A 2-D embedding of samples.

    Attributes:
        layer: the layer whose outputs were embedded (None: the input of the last Linear).
        coords: ``(N, 2)`` t-SNE coordinates. indices: ``(N,)`` the samples' indices.
        labels: ``(N,)`` their classes (or None). features: ``(N, D)`` what was embedded.
    """

    layer: str | None
    coords: np.ndarray
    indices: np.ndarray
    labels: np.ndarray | None
    features: np.ndarray
    classes: list[str] | None = None


def last_hidden(model: nn.Module) -> tuple[str, nn.Module]:
    """The last ``nn.Linear`` of the model, whose *input* is the last hidden layer.

    Raises:
        ConfigError: when the model has no Linear layer (name a layer instead).
    """
    last = None
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear):
            last = (name, mod)
    if last is None:
        raise ConfigError(f"{type(model).__name__} has no Linear layer; name the hidden layer "
                          "to embed").at("--layer")
    return last


def features(model: nn.Module, data: Any, layer: str | None = None, *, limit: int = 2000,
             batch_size: int = 256, preprocess: Any = None, normalization: Any = None,
             ) -> tuple[np.ndarray, np.ndarray]:
    """The flattened outputs of ``layer`` (default: the input of the last Linear) for the
    first ``limit`` samples, ``batch_size`` at a time; returns ``(features, indices)``."""
    x, _, _ = data_arrays(data)
    n = min(len(x), limit)
    if n < 5:
        raise ConfigError(f"t-SNE needs at least 5 samples, got {n}").at("--limit")
    prep = make_preprocess(model, preprocess, normalization, tuple(x.shape[1:]))
    check_input(model, tuple(prep.display(take(x, slice(0, 1))).shape[1:]))
    device = model_device(model)
    out: np.ndarray | None = None
    with evaluating(model), torch.no_grad():
        for start, raw in iter_batches(x, batch_size, n):
            inp = prep(raw).to(device)
            if layer is None:
                name, lin = last_hidden(model)
                got: list[torch.Tensor] = []

                def grab(_m: nn.Module, a: Any, got: list[torch.Tensor] = got) -> None:
                    got.append(a[0].detach())

                handle = lin.register_forward_pre_hook(grab)
                try:
                    capture(model, inp, [name])
                finally:
                    handle.remove()
                feats = got[0]
            else:
                feats = capture(model, inp, [layer])[0][layer]
            feats = feats.reshape(feats.shape[0], -1).float().cpu().numpy()
            if out is None:  # only the per-sample features are kept, never activations
                out = np.empty((n, feats.shape[1]), dtype=np.float32)
            out[start:start + len(feats)] = feats
    if out is None:
        raise ConfigError("no samples to embed").at("--limit")
    return out, np.arange(n)


def embedding(model: nn.Module, data: Any, layer: str | None = None, *, limit: int = 2000,
              batch_size: int = 256, perplexity: float = 30.0, seed: int = 0,
              max_iter: int = 1000, preprocess: Any = None, normalization: Any = None,
              ) -> Embedding:
    """t-SNE (scikit-learn) of the last hidden layer over the first ``limit`` samples.

    Raises:
        ConfigError: scikit-learn missing (the ``striate[data]`` extra), too few samples.
    """
    try:
        from sklearn.manifold import TSNE
    except ImportError as err:
        raise ConfigError("t-SNE needs scikit-learn: pip install 'striate[data]'") from err
    feats, idx = features(model, data, layer, limit=limit, batch_size=batch_size,
                          preprocess=preprocess, normalization=normalization)
    _, y, classes = data_arrays(data)
    perp = min(float(perplexity), (len(feats) - 1) / 3.0)
    coords = TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed,
                  learning_rate="auto", max_iter=max(250, max_iter)
                  ).fit_transform(feats.astype(np.float64))
    return Embedding(layer=layer, coords=coords.astype(np.float32), indices=idx,
                     labels=None if y is None else y[idx], features=feats, classes=classes)


def grid_assign(coords: np.ndarray, side: int) -> np.ndarray:
    """For each cell of a ``side x side`` grid over the embedding, the index of the nearest
    not yet used point (-1 where none is left); cells are filled nearest-pair first."""
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    unit = (coords - lo) / np.maximum(hi - lo, 1e-12)
    centres = (np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1)
               .reshape(-1, 2) + 0.5) / side
    dist = ((centres[:, None, :] - unit[None, :, :]) ** 2).sum(-1)
    order = np.argsort(dist, axis=None)
    cell_of = np.full(len(centres), -1)
    used = np.zeros(len(coords), dtype=bool)
    filled = 0
    for flat in order:
        cell, point = divmod(int(flat), len(coords))
        if cell_of[cell] >= 0 or used[point]:
            continue
        cell_of[cell] = point
        used[point] = True
        filled += 1
        if filled == min(len(centres), len(coords)):
            break
    return cell_of.reshape(side, side)


def save_embedding(result: Embedding, data: Any, path: str | os.PathLike[str], *,
                   kind: str = "grid", side: int = 20, preprocess: Any = None,
                   force: bool = False) -> Path:
    """Draw the embedding: ``kind="scatter"`` (points coloured by class) or ``"grid"``
    (a ``side x side`` mosaic of the images placed by their embedding)."""
    from striate.interpret._plot import pyplot, save_figure

    plt = pyplot()
    if kind == "scatter":
        fig, ax = plt.subplots(figsize=(6, 5.5))
        labels = result.labels if result.labels is not None else np.zeros(len(result.coords))
        for c in np.unique(labels):
            pts = result.coords[labels == c]
            name = result.classes[int(c)] if result.classes else str(int(c))
            ax.scatter(pts[:, 0], pts[:, 1], s=6, label=name, alpha=0.8)
        ax.legend(markerscale=2, fontsize=7, loc="best", ncol=2)
        ax.set_title(f"t-SNE of {result.layer or 'the last hidden layer'} "
                     f"({len(result.coords)} samples)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        return save_figure(fig, path, force=force)
    if kind != "grid":
        raise ConfigError(f"unknown embedding drawing {kind!r}; use scatter or grid").at("--kind")
    x, _, _ = data_arrays(data)
    cells = grid_assign(result.coords, side)
    prep = preprocess if preprocess is not None else make_preprocess(nn.Identity())
    picked = result.indices[cells[cells >= 0]]
    imgs = prep.display(take(x, picked)).numpy()
    if imgs.ndim != 4 or imgs.shape[1] not in (1, 3):
        raise ConfigError(f"an image grid needs images (1 or 3, H, W); the samples have shape "
                          f"{tuple(imgs.shape[1:])}; use kind='scatter'").at("--kind")
    c, h, w = imgs.shape[1:]
    mosaic = np.ones((side * h, side * w, 3 if c == 3 else 1), dtype=np.float32)
    for (r, q), img in zip(np.argwhere(cells >= 0), imgs, strict=True):
        mosaic[r * h:(r + 1) * h, q * w:(q + 1) * w] = np.transpose(np.clip(img, 0, 1),
                                                                    (1, 2, 0))
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(mosaic if c == 3 else mosaic[..., 0], cmap=None if c == 3 else "gray",
              vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(f"t-SNE grid of {result.layer or 'the last hidden layer'}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return save_figure(fig, path, force=force, dpi=120)
