"""Segmentation data: image + per-pixel class mask pairs.

- ``shapes-seg``: synthetic scenes (no download) of discs, squares and triangles in
  random colours on a noisy background; the mask holds 0 (background), 1 (disc),
  2 (square), 3 (triangle); a later shape covers an earlier one.
- ``segfolder:PATH``: ``PATH/images/*.png|jpg`` with ``PATH/masks/<same stem>.png`` whose
  pixel values are class indices (8-bit grey or palette PNG).

Masks are int64 ``(N, H, W)`` in ``ArrayDataset.y``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from striate.data.dataset import ArrayDataset
from striate.data.errors import DataError, MissingFileError
from striate.data.images import list_images, parse_size, probe, read_image, same_size_or_error

SHAPE_CLASSES = ["background", "disc", "square", "triangle"]


def make_scenes(num_samples: int = 1000, size: int = 64, max_shapes: int = 3,
                noise: float = 0.08, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw random scenes and their masks.

    Returns:
        ``(images, masks)``: uint8 ``(N, 3, size, size)`` and int64 ``(N, size, size)``.

    Raises:
        DataError: a size below 16, no shapes, a negative count.
    """
    if size < 16 or max_shapes < 1 or num_samples < 1:
        raise DataError(f"shapes-seg: size={size} (>= 16), max_shapes={max_shapes} (>= 1) "
                        f"and num_samples={num_samples} (>= 1) are required")
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    images = np.empty((num_samples, 3, size, size), dtype=np.uint8)
    masks = np.zeros((num_samples, size, size), dtype=np.int64)
    for n in range(num_samples):
        canvas = rng.uniform(0.0, 0.35, size=3)[:, None, None] + rng.normal(
            0.0, noise, size=(3, size, size))
        for _ in range(int(rng.integers(1, max_shapes + 1))):
            kind = int(rng.integers(1, 4))
            r = rng.uniform(size * 0.1, size * 0.22)
            cy, cx = rng.uniform(r, size - r, size=2)
            if kind == 1:
                inside = (rows - cy) ** 2 + (cols - cx) ** 2 <= r * r
            elif kind == 2:
                inside = (np.abs(rows - cy) <= r) & (np.abs(cols - cx) <= r)
            else:
                # apex up: below the apex, and within the widening sides
                top, base = cy - r, cy + r
                half = (rows - top) / (2 * r) * r
                inside = (rows >= top) & (rows <= base) & (np.abs(cols - cx) <= half)
            colour = rng.uniform(0.5, 1.0, size=3)
            canvas[:, inside] = colour[:, None] + rng.normal(0.0, noise,
                                                             size=(3, int(inside.sum())))
            masks[n][inside] = kind
        images[n] = np.clip(canvas * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return images, masks


def load_shapes_seg(split: str, root: str | os.PathLike[str] | None = None,
                    download: bool = True, num_samples: int = 1000, size: int = 64,
                    max_shapes: int = 3, seed: int = 0) -> ArrayDataset:
    """Synthetic segmentation scenes: the first 80% of ``num_samples`` are "train", the
    rest "test".

    Shape: x uint8 ``(N, 3, size, size)``; y int64 ``(N, size, size)``.
    """
    images, masks = make_scenes(num_samples, size, max_shapes, seed=seed)
    cut = round(num_samples * 0.8)
    part = slice(0, cut) if split == "train" else slice(cut, None)
    return ArrayDataset(images[part], masks[part], SHAPE_CLASSES, "shapes-seg",
                        {"size": size, "seed": seed, "split": split})


def load_seg_folder(path: str | os.PathLike[str], split: str = "train",
                    resize: int | str | Sequence[int] | None = None,
                    classes: Sequence[str] | None = None, channels: int = 3,
                    ) -> ArrayDataset:
    """Image + mask pairs from ``PATH/images`` and ``PATH/masks`` (or
    ``PATH/<split>/images`` and ``PATH/<split>/masks``).

    Masks are resized with nearest-neighbour sampling so that class indices stay exact.

    Raises:
        MissingFileError: no such folder, or an image without its mask.
        DataError: sizes that differ, mask values beyond the class list, a split other than
            "train" without its own folder.
    """
    root = Path(path).expanduser()
    base = root / split if (root / split / "images").is_dir() else root
    if base == root and split != "train" and (root / "images").is_dir():
        # PATH/images is the one split, "train": a "test" from it would be the same pairs
        raise DataError(f"{root}: no {split}/images sub-folder; use split='train' and "
                        f".split(fraction, seed), or add {split}/images and {split}/masks")
    image_dir, mask_dir = base / "images", base / "masks"
    for needed in (image_dir, mask_dir):
        if not needed.is_dir():
            raise MissingFileError(f"{needed}: no such folder; a segmentation folder holds "
                                   "images/ and masks/ with the same file stems")
    images = list_images(image_dir)
    if not images:
        raise DataError(f"{image_dir}: no images (.png, .jpg, ...)")
    masks_by_stem = {p.stem: p for p in list_images(mask_dir)}
    pairs = []
    for img in images:
        if img.stem not in masks_by_stem:
            raise MissingFileError(f"{img}: no mask {mask_dir / (img.stem + '.png')}; every "
                                   "image needs a mask with the same name")
        pairs.append((img, masks_by_stem[img.stem]))
    size = parse_size(resize)
    if size is None:
        size = same_size_or_error([p for p, _ in pairs], [s for s, _ in probe(
            [p for p, _ in pairs])], image_dir)
    x = np.stack([read_image(img, channels, size) for img, _ in pairs])
    y = np.stack([read_image(mask, 0, size, nearest=True) for _, mask in pairs]).astype(
        np.int64)
    names = list(classes) if classes is not None else [str(i) for i in range(int(y.max()) + 1)]
    if int(y.max()) >= len(names):
        worst = pairs[int(np.argmax(y.reshape(len(y), -1).max(axis=1)))][1]
        raise DataError(f"{worst}: mask value {int(y.max())} is beyond the {len(names)} "
                        "classes given; fix the mask or the class list")
    return ArrayDataset(x, y, names, f"segfolder:{root}", {"folder": str(base),
                                                            "split": split})
