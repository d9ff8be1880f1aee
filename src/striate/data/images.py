"""Reading image files with Pillow into uint8 arrays, with one-line errors.

Shared by the image-folder and segmentation-folder loaders. Pillow is imported only
here, inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from striate.data.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_IMAGES = 1_000_000


def parse_size(resize: int | str | Sequence[int] | None) -> tuple[int, int] | None:
    """``32``, ``"32x48"`` (H x W), ``(32, 48)`` or None -> ``(H, W)`` or None.

    Raises:
        DataError: not one of those forms, or a size below 1.
    """
    if resize is None:
        return None
    try:
        if isinstance(resize, str):
            parts = resize.lower().replace(",", "x").split("x")
            size = tuple(int(p) for p in parts)
        elif isinstance(resize, int):
            size = (resize, resize)
        else:
            size = tuple(int(v) for v in resize)
        if len(size) == 1:
            size = (size[0], size[0])
    except (TypeError, ValueError) as err:
        raise DataError(f"resize={resize!r}: use an int, 'HxW' (e.g. 32x32) or (H, W)") from err
    if len(size) != 2 or min(size) < 1:
        raise DataError(f"resize={resize!r}: use an int, 'HxW' (e.g. 32x32) or (H, W), "
                        "sizes >= 1")
    return size[0], size[1]


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (hidden files skipped)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in IMAGE_SUFFIXES)


def probe(paths: Sequence[Path]) -> list[tuple[tuple[int, int], str]]:
    """``((H, W), mode)`` of each image, reading headers only.

    Raises:
        DataError: a file Pillow cannot identify, or a decompression bomb.
    """
    from PIL import Image, UnidentifiedImageError

    out = []
    for path in paths:
        try:
            with Image.open(path) as img:
                out.append(((img.height, img.width), img.mode))
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as err:
            raise DataError(f"{path}: not a readable image ({type(err).__name__}); remove "
                            "it or convert it to PNG/JPEG") from err
    return out


def same_size_or_error(paths: Sequence[Path], sizes: Sequence[tuple[int, int]],
                       where: Path) -> tuple[int, int]:
    """The common ``(H, W)`` of the images, else a one-line error naming two files.

    Raises:
        DataError: two images differ in size.
    """
    first = sizes[0]
    for path, size in zip(paths, sizes, strict=True):
        if size != first:
            raise DataError(f"{where}: images differ in size: {paths[0]} is "
                            f"{first[0]}x{first[1]} but {path} is {size[0]}x{size[1]} (HxW); "
                            "resize them all with resize=(H, W) in load_dataset or "
                            "--data-option resize=HxW on the command line, or resize the "
                            "files to one size")
    return first


def read_image(path: Path, channels: int, size: tuple[int, int] | None,
               nearest: bool = False) -> np.ndarray:
    """Decode one image to uint8 ``(channels, H, W)`` (``(H, W)`` when channels == 0,
    keeping the raw values, for masks), resized to ``size`` if given."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            if channels == 1:
                img = img.convert("L")
            elif channels == 3:
                img = img.convert("RGB")
            elif img.mode not in ("L", "P", "1", "I", "I;16"):
                img = img.convert("L")
            if size is not None and (img.height, img.width) != size:
                method = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
                img = img.resize((size[1], size[0]), method)
            arr = np.asarray(img)
    except (OSError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: cannot decode the image ({err}); remove or re-save it") \
            from err
    if channels == 0:
        if arr.max(initial=0) > 255:
            raise DataError(f"{path}: mask value {int(arr.max())} is over 255; store class "
                            "indices 0..255 in an 8-bit PNG")
        return arr.astype(np.uint8)
    arr = arr.astype(np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
