"""Reading samples to predict: images (PNG/JPEG via Pillow) and NumPy ``.npy`` arrays.

Nothing is unpickled (``np.load(allow_pickle=False)``) and sizes are bounded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from striate.layers.errors import StriateError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_FILE_BYTES = 256 << 20


class InputError(StriateError, ValueError):
    """A file to predict cannot be read or does not match the model's input."""


def read_samples(path: str | Path, raw_shape: tuple[int, ...], invert: bool = False
                 ) -> torch.Tensor:
    """The samples in ``path`` as a raw batch ``(N, *raw_shape)`` (uint8 or float32).

    Images are converted to the model's channels (grey or RGB) and resized to its size;
    ``.npy`` arrays must hold one sample ``raw_shape`` (or ``(H, W)`` for one channel) or a
    batch ``(N, *raw_shape)``; floats are taken to be on the training data's scale (0–1 for
    images).

    Raises:
        InputError: unknown file type, unreadable file, wrong shape.
        FileNotFoundError: no such file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path.stat().st_size} bytes is more than the {MAX_FILE_BYTES} "
                         "allowed").at(str(path))
    suffix = path.suffix.lower()
    if suffix == ".npy":
        batch = _read_npy(path, raw_shape)
    elif suffix in IMAGE_SUFFIXES:
        batch = _read_image(path, raw_shape)
    else:
        raise InputError(f"unknown file type {suffix or '(none)'!r}; give images "
                         f"({', '.join(IMAGE_SUFFIXES)}) or .npy arrays").at(str(path))
    if invert:
        batch = 255 - batch if batch.dtype == torch.uint8 else 1.0 - batch
    return batch


def _read_npy(path: Path, raw_shape: tuple[int, ...]) -> torch.Tensor:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise InputError(f"not a readable .npy array ({err})").at(str(path)) from None
    if array.dtype != np.uint8 and not np.issubdtype(array.dtype, np.floating):
        raise InputError(f"array is {array.dtype}; use uint8 (0–255) or float (0–1)"
                         ).at(str(path))
    shape = tuple(array.shape)
    if shape == tuple(raw_shape):
        array = array[None]
    elif raw_shape[0] == 1 and shape == tuple(raw_shape[1:]):
        array = array[None, None]
    elif shape[1:] == tuple(raw_shape):
        pass
    elif raw_shape[0] == 1 and shape[1:] == tuple(raw_shape[1:]):
        array = array[:, None]
    else:
        raise InputError(f"array shape {shape} fits neither one sample {tuple(raw_shape)} "
                         f"nor a batch (N, {', '.join(map(str, raw_shape))})").at(str(path))
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor if tensor.dtype == torch.uint8 else tensor.float()


def _read_image(path: Path, raw_shape: tuple[int, ...]) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    if len(raw_shape) != 3 or raw_shape[0] not in (1, 3):
        raise InputError(f"the model takes {tuple(raw_shape)} samples, not images; give a "
                         ".npy array").at(str(path))
    try:
        with Image.open(path) as img:
            img = img.convert("L" if raw_shape[0] == 1 else "RGB")
            size = (raw_shape[2], raw_shape[1])
            if img.size != size:
                img = img.resize(size, Image.BILINEAR)
            array = np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise InputError(f"not a readable image ({err})").at(str(path)) from None
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.transpose(2, 0, 1).copy())[None]
