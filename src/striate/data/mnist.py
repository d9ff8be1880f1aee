"""MNIST and Fashion-MNIST from their IDX files (gzipped or not), downloaded with
checksums or placed by hand in the data set folder.

MNIST: LeCun, Bottou, Bengio & Haffner (1998). Fashion-MNIST: Xiao, Rasul & Vollgraf
(2017). The MD5s are the official ones (also listed by torchvision's ``mnist.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from striate.data.cache import dataset_dir
from striate.data.dataset import ArrayDataset
from striate.data.download import Remote, fetch
from striate.data.errors import DataError
from striate.data.idx import read_idx

_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                  "http://yann.lecun.com/exdb/mnist/")
_FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                    "data/fashion/")

_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


def _locate(folder: Path, stem: str, mirrors: tuple[str, ...], md5: dict[str, str],
            download: bool) -> Path:
    """The file ``stem`` as placed by hand (plain or ``.gz``), else the checksummed
    download of ``stem.gz``."""
    for name in (stem, f"{stem}.gz"):
        if (folder / name).is_file():
            return folder / name
    gz = f"{stem}.gz"
    return fetch(Remote(gz, tuple(m + gz for m in mirrors), md5=md5[gz]), folder, download)


def load_idx_pair(images: Path, labels: Path, classes: list[str], name: str) -> ArrayDataset:
    """Images ``(N, H, W)`` uint8 and labels ``(N,)`` from two IDX files.

    Raises:
        DataError: wrong ranks or types, counts that differ, labels out of range.
    """
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise DataError(f"{images}: expected uint8 images N x H x W, got {x.dtype} with shape "
                        f"{x.shape}; is this an image file (…-images-idx3-ubyte)?")
    if y.ndim != 1:
        raise DataError(f"{labels}: expected a vector of labels, got shape {y.shape}; is this a "
                        "label file (…-labels-idx1-ubyte)?")
    if len(x) != len(y):
        raise DataError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels; "
                        "use the image and label files of the same split")
    if y.size and int(y.max()) >= len(classes):
        raise DataError(f"{labels}: label {int(y.max())} is out of range 0..{len(classes) - 1}; "
                        "the label file is corrupt or from another data set")
    return ArrayDataset(x[:, None], y.astype(np.int64), classes, name,
                        {"images": str(images), "labels": str(labels)})


def _load(name: str, split: str, root: str | os.PathLike[str] | None, download: bool,
          mirrors: tuple[str, ...], md5: dict[str, str], classes: list[str]) -> ArrayDataset:
    folder = dataset_dir(name, root)
    image_stem, label_stem = _FILES[split]
    images = _locate(folder, image_stem, mirrors, md5, download)
    labels = _locate(folder, label_stem, mirrors, md5, download)
    return load_idx_pair(images, labels, classes, name)


def load_mnist(split: str, root: str | os.PathLike[str] | None = None,
               download: bool = True) -> ArrayDataset:
    """MNIST: 60,000 train / 10,000 test digits.

    Shape: x uint8 ``(N, 1, 28, 28)``.
    """
    return _load("mnist", split, root, download, _MNIST_MIRRORS, MNIST_MD5,
                 [str(d) for d in range(10)])


def load_fashion_mnist(split: str, root: str | os.PathLike[str] | None = None,
                       download: bool = True) -> ArrayDataset:
    """Fashion-MNIST: 60,000 train / 10,000 test clothing images in 10 classes.

    Shape: x uint8 ``(N, 1, 28, 28)``.
    """
    return _load("fashion-mnist", split, root, download, _FASHION_MIRRORS, FASHION_MD5,
                 FASHION_CLASSES)
