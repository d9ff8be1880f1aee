"""Drawing helpers shared by the methods: matplotlib (Agg, imported lazily), image grids and
atomic PNG writing that never overwrites without ``force``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

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
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".png", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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


def image_grid_figure(images: list[np.ndarray], *, title: str = "",
                      titles: list[str] | None = None, normalise: bool = True,
                      cell: float = 0.9, cmap: str | None = None) -> Any:
    """A near-square grid of images as a new figure."""
    plt = pyplot()
    rows, cols = grid_side(len(images))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell + 0.4, rows * cell + 0.6),
                             squeeze=False)
    draw_grid(axes, images, titles=titles, normalise=normalise, cmap=cmap)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
