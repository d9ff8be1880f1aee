"""The IDX file format of MNIST (LeCun et al.), gzipped or not.

Layout: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B short,
0x0C int, 0x0D float, 0x0E double), the number of dimensions, then each dimension as a
big-endian 32-bit integer, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from pathlib import Path
from typing import IO

import numpy as np

from striate.data.errors import DataError, MissingFileError

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# no real IDX file comes near this; a corrupt header must not make us allocate terabytes
MAX_IDX_BYTES = 2 * 1024**3


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` detected from its magic bytes) into a native-endian array.

    Raises:
        MissingFileError: no such file.
        DataError: a bad header, or a file shorter or longer than its header says.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such IDX file; check the path or the data folder")
    try:
        with _open(path) as handle:
            head = handle.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES:
                raise DataError(f"{path}: not an IDX file (header bytes {head.hex() or 'none'}, "
                                "expected 00 00 <type> <ndim>); is it the right file?")
            dtype, ndim = IDX_TYPES[head[2]], head[3]
            raw_dims = handle.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path}: truncated IDX header ({ndim} dimensions announced); "
                                "download the file again")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            expected = math.prod(dims) * dtype.itemsize
            shape = "x".join(map(str, dims))
            if expected > MAX_IDX_BYTES:
                raise DataError(f"{path}: IDX header announces {shape} values ({expected} "
                                f"bytes), over the {MAX_IDX_BYTES} byte limit; the header "
                                "is corrupt")
            data = handle.read(expected + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot read ({err}); the file is damaged, download it "
                        "again") from err
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        got = f"{len(data)}" if len(data) <= expected else f"more than {expected}"
        raise DataError(f"{path}: IDX header says {shape} {dtype.name} = {expected} bytes of "
                        f"data but the file holds {got}; the file is {what}, download it "
                        "again")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an array as an IDX file (gzipped when the name ends in ``.gz``)."""
    array = np.asarray(array)
    codes = {v.newbyteorder("=").str.lstrip("<>=|"): k for k, v in IDX_TYPES.items()}
    code = codes.get(array.dtype.str.lstrip("<>=|"))
    if code is None:
        raise DataError(f"write_idx: dtype {array.dtype} has no IDX type code; use uint8, "
                        "int8, int16, int32, float32 or float64")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(IDX_TYPES[code]).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(payload)
