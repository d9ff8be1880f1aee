"""Drawing helpers shared by the methods: matplotlib (Agg, imported lazily), image grids and
atomic PNG writing that never overwrites without ``force``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from striate.fileio import atomic_open
from striate.interpret._common import grid_side, normalise01


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed), imported on first use."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def target_path(path: str | os.PathLike[str], force: bool) -> Path:
    """Check that ``path`` may be written: a ``.png`` whose folder exists, not overwritten
    unless ``force``."""
    out = Path(path)
    if out.suffix.lower() != ".png":
        out = out.with_suffix(out.suffix + ".png") if out.suffix else out.with_suffix(".png")
    if out.exists() and not force:
        raise FileExistsError(17, "already exists; pass --force (force=True) to overwrite",
                              str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def save_figure(fig: Any, path: str | os.PathLike[str], *, force: bool = False,
                dpi: int = 100) -> Path:
    """Write a figure as PNG atomically (temp file, fsync, rename) and close it."""
    plt = pyplot()
    out = target_path(path, force)
    try:
        with atomic_open(out, suffix=".png") as fh:
            fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return out


def as_image(a: np.ndarray, *, normalise: bool = True) -> tuple[np.ndarray, str | None]:
    """An array ``(C, H, W)`` (or ``(H, W)``) as something ``imshow`` draws: RGB for 3
    channels, grey otherwise; returns ``(image, cmap)``."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] == 3:
        img = np.transpose(a, (1, 2, 0))
        return (normalise01(img) if normalise else np.clip(img, 0, 1)), None
    if a.ndim == 3:
        a = a.mean(axis=0) if a.shape[0] > 1 else a[0]
    return (normalise01(a) if normalise else np.clip(a, 0, 1)), "gray"


def draw_grid(ax_grid: Any, images: list[np.ndarray], *, titles: list[str] | None = None,
              normalise: bool = True, cmap: str | None = None) -> None:
    """Fill an array of axes with images (empty cells are blanked)."""
    axes = np.asarray(ax_grid).ravel()
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= len(images):
            ax.axis("off")
            continue
        img, default_cmap = as_image(images[i], normalise=normalise)
        ax.imshow(img, cmap=cmap or default_cmap, interpolation="nearest",
                  vmin=None if img.ndim == 3 else 0, vmax=None if img.ndim == 3 else 1)
        if titles:
            ax.set_title(titles[i], fontsize=7)


def mosaic(images: list[np.ndarray], cols: int, *, gap: int = 1,
           background: float = 1.0) -> np.ndarray:
    """Tile images ``(C, h, w)`` (C = 1 or 3, values 0–1, sizes may differ) row by row into
    one ``(H, W, C)`` array with ``gap`` pixels of ``background`` between them; one
    ``imshow`` of it is far faster than one axes per image."""
    chans = 3 if any(i.shape[0] == 3 for i in images) else 1
    h = max(i.shape[1] for i in images)
    w = max(i.shape[2] for i in images)
    rows = -(-len(images) // cols)
    out = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap, chans), background,
                  dtype=np.float32)
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        top, left = gap + r * (h + gap), gap + c * (w + gap)
        out[top:top + img.shape[1], left:left + img.shape[2]] = np.transpose(img, (1, 2, 0))
    return out


def show_mosaic(ax: Any, tiles: np.ndarray) -> None:
    """Draw a :func:`mosaic` on ``ax`` without ticks (grey scale for one channel)."""
    if tiles.shape[2] == 1:
        ax.imshow(tiles[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.clip(tiles, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid_figure(images: list[np.ndarray], *, title: str = "", normalise: bool = True,
                      cell: float = 0.9, cols: int | None = None) -> Any:
    """A near-square grid of images ``(C, h, w)`` as a new figure (one mosaic)."""
    plt = pyplot()
    if normalise:
        images = [normalise01(i) for i in images]
    rows, auto_cols = grid_side(len(images))
    cols = cols or auto_cols
    rows = -(-len(images) // cols)
    cell = max(cell, 4.0 / cols)  # a few big kernels rather than a thumbnail
    fig, ax = plt.subplots(figsize=(min(cols * cell + 0.4, 14), min(rows * cell + 0.6, 14)))
    show_mosaic(ax, mosaic(images, cols))
    if title:
        ax.set_title(title, fontsize=9)
    return fig
