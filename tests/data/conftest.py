"""Shared fixtures: every data test uses a private cache folder, never ~/.cache."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    old = os.environ.get("STRIATE_CACHE")
    os.environ["STRIATE_CACHE"] = str(tmp_path_factory.mktemp("striate-cache"))
    yield
    if old is None:
        os.environ.pop("STRIATE_CACHE", None)
    else:
        os.environ["STRIATE_CACHE"] = old


@pytest.fixture(scope="session")
def mnist_bundled_train():
    from striate.data import load_dataset

    return load_dataset("mnist-bundled", "train")


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    # the IDX spec: 2 zero bytes, the type code, ndim, big-endian uint32 dims, the data
    header = b"\x00\x00" + bytes([type_code, array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(">u1" if type_code == 0x08 else ">i4").tobytes()


def write_mnist_files(folder: Path, n: int = 12, gz: bool = True, split: str = "train",
                 labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else labels
    stem = "train" if split == "train" else "t10k"
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in ((f"{stem}-images-idx3-ubyte", images),
                      (f"{stem}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


@pytest.fixture
def write_mnist():
    """The function writing MNIST-named IDX files into a folder."""
    return write_mnist_files


@pytest.fixture(name="idx_bytes")
def _idx_bytes_fixture():
    """The function encoding an array as IDX bytes."""
    return idx_bytes
