"""CIFAR-10 and CIFAR-100 (Krizhevsky, 2009) from the official files.

Accepted, in this order, in the data set folder: the extracted python batches
(``cifar-10-batches-py/``, ``cifar-100-python/``), the extracted binary batches
(``cifar-10-batches-bin/``, ``cifar-100-binary/``), or the official archives themselves
(read in place, never extracted to disk). Missing everything, the python archive is
downloaded and checked against its official MD5. Pickled batches go through
:mod:`striate.data.safepickle`, never through ``pickle.load``.

Binary records: CIFAR-10 ``<1 label byte><3072 pixel bytes>``, CIFAR-100
``<coarse label><fine label><3072 pixel bytes>``; pixels are the red plane, then green,
then blue, each 32x32 row by row.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from striate.data.cache import dataset_dir
from striate.data.dataset import ArrayDataset
from striate.data.download import Remote, fetch
from striate.data.errors import DataError, MissingFileError
from striate.data.safepickle import safe_unpickle

PIXELS = 3 * 32 * 32
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]
_MAX_MEMBER_BYTES = 512 * 1024 * 1024

CIFAR10_PY = Remote("cifar-10-python.tar.gz",
                    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                    md5="c58f30108f718f92721af3b95e74349a")
CIFAR100_PY = Remote("cifar-100-python.tar.gz",
                     ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
                     md5="eb9058c3a382ffc7106e4002c42a8d85")

_LAYOUT = {
    # name: (python dir, binary dir, python archive, binary archive, python files, binary files)
    "cifar10": ("cifar-10-batches-py", "cifar-10-batches-bin", CIFAR10_PY,
                "cifar-10-binary.tar.gz",
                {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"],
                 "meta": "batches.meta"},
                {"train": [f"data_batch_{i}.bin" for i in range(1, 6)],
                 "test": ["test_batch.bin"], "meta": "batches.meta.txt"}),
    "cifar100": ("cifar-100-python", "cifar-100-binary", CIFAR100_PY,
                 "cifar-100-binary.tar.gz",
                 {"train": ["train"], "test": ["test"], "meta": "meta"},
                 {"train": ["train.bin"], "test": ["test.bin"],
                  "meta": "fine_label_names.txt", "coarse_meta": "coarse_label_names.txt"}),
}

Reader = Callable[[str], tuple[bytes, str]]  # member name -> (bytes, where, for messages)


def _dir_reader(folder: Path) -> Reader:
    def read(member: str) -> tuple[bytes, str]:
        path = folder / member
        if not path.is_file():
            raise MissingFileError(f"{path}: missing from the extracted CIFAR folder; extract "
                                   "the official archive again (or delete the folder to "
                                   "download it)")
        if path.stat().st_size > _MAX_MEMBER_BYTES:
            raise DataError(f"{path}: too large to be a CIFAR batch")
        return path.read_bytes(), str(path)
    return read


def _tar_reader(archive: Path, inner: str) -> Reader:
    def read(member: str) -> tuple[bytes, str]:
        where = f"{archive}:{inner}/{member}"
        try:
            with tarfile.open(archive, "r:*") as tar:
                try:
                    info = tar.getmember(f"{inner}/{member}")
                except KeyError as err:
                    raise MissingFileError(f"{where}: not in the archive; is it the official "
                                           f"{archive.name}?") from err
                handle = tar.extractfile(info) if info.isfile() else None
                if handle is None or info.size > _MAX_MEMBER_BYTES:
                    raise DataError(f"{where}: not a regular file of sensible size")
                return handle.read(), where
        except (tarfile.TarError, OSError, EOFError) as err:
            if isinstance(err, DataError):
                raise
            raise DataError(f"{archive}: cannot read the archive ({err}); delete it and "
                            "download it again") from err
    return read


def _parse_python_batch(data: bytes, where: str, label_key: bytes) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    batch = safe_unpickle(data, where)
    if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
        keys = sorted(k.decode("latin-1") if isinstance(k, bytes) else str(k)
                      for k in (batch if isinstance(batch, dict) else {}))
        raise DataError(f"{where}: not a CIFAR batch (keys {keys}, expected 'data' and "
                        f"'{label_key.decode()}'); is it the right file?")
    x = np.asarray(batch[b"data"])
    y = np.asarray(batch[label_key], dtype=np.int64)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != PIXELS:
        raise DataError(f"{where}: 'data' is {x.dtype} {x.shape}, expected uint8 (N, {PIXELS}) "
                        "as in the official batches")
    if len(y) != len(x):
        raise DataError(f"{where}: {len(x)} images but {len(y)} labels; the batch is damaged, "
                        "download it again")
    return x.reshape(-1, 3, 32, 32), y


def _parse_binary(data: bytes, where: str, label_bytes: int, label_index: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    record = label_bytes + PIXELS
    if len(data) % record:
        raise DataError(f"{where}: {len(data)} bytes is not a whole number of {record}-byte "
                        f"records ({label_bytes} label byte(s) + {PIXELS} pixels); the file is "
                        "truncated, download it again")
    table = np.frombuffer(data, dtype=np.uint8).reshape(-1, record)
    return (table[:, label_bytes:].reshape(-1, 3, 32, 32).copy(),
            table[:, label_index].astype(np.int64))


def _names_from_text(data: bytes) -> list[str]:
    return [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]


def _source(name: str, folder: Path, download: bool) -> tuple[str, Reader]:
    pydir, bindir, remote, binarch, _, _ = _LAYOUT[name]
    if (folder / pydir).is_dir():
        return "python", _dir_reader(folder / pydir)
    if (folder / bindir).is_dir():
        return "binary", _dir_reader(folder / bindir)
    if (folder / remote.filename).is_file() or not (folder / binarch).is_file():
        archive = fetch(remote, folder, download)
        return "python", _tar_reader(archive, pydir)
    return "binary", _tar_reader(folder / binarch, bindir)


def _load(name: str, split: str, root: str | os.PathLike[str] | None, download: bool,
          label_mode: str = "fine") -> ArrayDataset:
    folder = dataset_dir(name, root)
    kind, read = _source(name, folder, download)
    _, _, _, _, py_files, bin_files = _LAYOUT[name]
    coarse = label_mode == "coarse"
    xs, ys = [], []
    if kind == "python":
        key = b"labels" if name == "cifar10" else (b"coarse_labels" if coarse
                                                   else b"fine_labels")
        for member in py_files[split]:
            x, y = _parse_python_batch(*read(member), key)
            xs.append(x)
            ys.append(y)
        classes = _python_classes(name, read, py_files["meta"], coarse)
    else:
        label_bytes = 1 if name == "cifar10" else 2
        label_index = 0 if name == "cifar10" or coarse else 1
        for member in bin_files[split]:
            x, y = _parse_binary(*read(member), label_bytes, label_index)
            xs.append(x)
            ys.append(y)
        meta = bin_files["coarse_meta"] if coarse else bin_files["meta"]
        classes = _optional(lambda: _names_from_text(read(meta)[0]))
    x, y = np.concatenate(xs), np.concatenate(ys)
    count = 20 if coarse else (10 if name == "cifar10" else 100)
    if not classes:
        classes = CIFAR10_CLASSES if name == "cifar10" else [str(i) for i in range(count)]
    return ArrayDataset(x, y, classes, name, {"format": kind, "folder": str(folder),
                                              "label_mode": label_mode})


def _optional(get: Callable[[], list[str]]) -> list[str]:
    # the class names are a nicety: a batch folder without its meta file still loads
    try:
        return get()
    except MissingFileError:
        return []


def _python_classes(name: str, read: Reader, meta: str, coarse: bool) -> list[str]:
    def get() -> list[str]:
        table = safe_unpickle(*read(meta))
        key = b"label_names" if name == "cifar10" else (b"coarse_label_names" if coarse
                                                        else b"fine_label_names")
        values: Any = table.get(key, []) if isinstance(table, dict) else []
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                for v in values]
    return _optional(get)


def load_cifar10(split: str, root: str | os.PathLike[str] | None = None,
                 download: bool = True) -> ArrayDataset:
    """CIFAR-10: 50,000 train / 10,000 test colour images in 10 classes.

    Shape: x uint8 ``(N, 3, 32, 32)``.
    """
    return _load("cifar10", split, root, download)


def load_cifar100(split: str, root: str | os.PathLike[str] | None = None,
                  download: bool = True, label_mode: str = "fine") -> ArrayDataset:
    """CIFAR-100: 50,000 / 10,000 images, 100 fine classes or (``label_mode="coarse"``)
    20 superclasses.

    Shape: x uint8 ``(N, 3, 32, 32)``.
    """
    if label_mode not in ("fine", "coarse"):
        raise DataError(f"cifar100: label_mode={label_mode!r}; use 'fine' (100 classes) or "
                        "'coarse' (20 superclasses)")
    return _load("cifar100", split, root, download, label_mode)
