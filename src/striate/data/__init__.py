"""Data for training CNNs: loaders that return whole data sets as tensors in memory,
checksummed downloads with a cache, and batched augmentation on tensors.

>>> from striate.data import load_dataset, Augment
>>> train = load_dataset("mnist-bundled")              # 4,000 real digits, no download
>>> mean, std = train.channel_stats()                    # from the training split
>>> aug = Augment(crop_padding=2, rotate=10)

Names: ``mnist``, ``fashion-mnist``, ``cifar10``, ``cifar100`` (downloaded or placed by
hand), ``mnist-bundled``, ``digits``, ``mnist1d``, ``dna-motifs``, ``shapes-seg`` (no
download), and ``folder:PATH``, ``fasta:PATH``, ``segfolder:PATH``.
"""

from __future__ import annotations

from striate.data.augment import Augment
from striate.data.cache import cache_dir
from striate.data.dataset import ArrayDataset, to_float
from striate.data.errors import DataError, MissingFileError
from striate.data.registry import DatasetInfo, info, load_dataset, names

__all__ = [
    "ArrayDataset",
    "Augment",
    "DataError",
    "DatasetInfo",
    "MissingFileError",
    "cache_dir",
    "info",
    "load_dataset",
    "names",
    "to_float",
]
