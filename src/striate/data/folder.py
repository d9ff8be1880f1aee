"""Image folders: one sub-folder per class of PNG/JPEG files (``folder:PATH``).

``PATH/<class>/*.png`` is one split ("train"). If ``PATH`` has ``train/`` and ``test/``
sub-folders (each with class sub-folders) they are the two splits, and the class list
is the union of both, so an index means the same class in each.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from striate.data.dataset import ArrayDataset
from striate.data.errors import DataError, MissingFileError
from striate.data.images import (
    MAX_IMAGES,
    list_images,
    parse_size,
    probe,
    read_image,
    same_size_or_error,
)

_SPLITS = ("train", "test")


def _class_dirs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_folder(path: str | os.PathLike[str], split: str = "train",
                resize: int | str | Sequence[int] | None = None, channels: int | None = None,
                ) -> ArrayDataset:
    """Load a folder of class sub-folders of images into memory.

    Args:
        path: the folder.
        split: "train" or "test" (see the module docstring for the layouts).
        resize: ``(H, W)``, ``"HxW"`` or an int: resize every image (bilinear). Without
            it, all images must have the same size.
        channels: 1 (grey) or 3 (RGB); default 1 if every image is greyscale, else 3.

    Shape: x uint8 ``(N, channels, H, W)``.

    Raises:
        MissingFileError: no such folder.
        DataError: no classes or images, images of different sizes, unreadable images.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise MissingFileError(f"{root}: no such folder; give folder:PATH with one "
                               "sub-folder of images per class")
    split_layout = all((root / s).is_dir() for s in _SPLITS)
    if split_layout:
        folder = root / split
        classes = sorted(set(_class_dirs(root / "train")) | set(_class_dirs(root / "test")))
    elif split == "train":
        folder, classes = root, _class_dirs(root)
    else:
        raise DataError(f"{root}: no {split}/ sub-folder; use split='train' and "
                        ".split(fraction, seed), or add train/ and test/ folders")
    if not classes:
        raise DataError(f"{folder}: no class sub-folders; put the images in "
                        f"{folder}/<class name>/*.png")
    files: list[Path] = []
    labels: list[int] = []
    for index, name in enumerate(classes):
        class_dir = folder / name
        found = list_images(class_dir) if class_dir.is_dir() else []
        files += found
        labels += [index] * len(found)
        if len(files) > MAX_IMAGES:
            raise DataError(f"{folder}: more than {MAX_IMAGES} images; too many to hold "
                            "in memory")
    if not files:
        raise DataError(f"{folder}: no images (.png, .jpg, ...) in the "
                        f"class sub-folders {classes[:3]}")
    if channels not in (None, 1, 3):
        raise DataError(f"folder: channels={channels}; use 1 (grey) or 3 (RGB)")
    size = parse_size(resize)
    header = probe(files)
    if size is None:
        size = same_size_or_error(files, [s for s, _ in header], folder)
    if channels is None:
        channels = 1 if all(mode in ("L", "1", "I", "I;16") for _, mode in header) else 3
    x = np.stack([read_image(p, channels, size) for p in files])
    return ArrayDataset(x, np.asarray(labels, dtype=np.int64), classes, f"folder:{root}",
                        {"folder": str(folder), "files": len(files), "split": split})
