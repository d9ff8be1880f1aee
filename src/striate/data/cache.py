"""Where downloaded and generated data live, and how files are written safely."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

import numpy as np

from striate.fileio import atomic_open


def cache_dir() -> Path:
    """The data cache folder: ``$STRIATE_CACHE`` if set, else ``~/.cache/striate``."""
    env = os.environ.get("STRIATE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "striate"


def dataset_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The folder of one data set: ``root`` if given, else ``cache_dir() / name``."""
    return Path(root).expanduser() if root is not None else cache_dir() / name


def atomic_writer(path: Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    """Write ``path`` through a temporary file in the same folder, then rename it.

    A crash or an error leaves either the old file or none, never half a file.
    """
    return atomic_open(path, suffix=".part")


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Save numeric arrays to an ``.npz`` cache file atomically (never pickled objects)."""
    with atomic_writer(path) as handle:
        np.savez(handle, **arrays)


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Read an ``.npz`` cache written by :func:`save_arrays`; ``None`` if absent or broken."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError):
        # a broken cache is rebuilt, not reported: it holds nothing the user made
        return None
