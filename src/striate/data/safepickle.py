"""Read the pickled CIFAR batches without unpickling arbitrary objects.

``pickle.load`` runs any callable a file names, so a downloaded ``.pkl`` can run
``os.system``. This reader resolves only the globals the CIFAR files use (NumPy array
reconstruction, ``numpy.dtype`` and ``_codecs.encode`` for bytes under protocol 2) and maps
each to a harmless stand-in of ours; anything else is refused before it can be called.
The stand-ins accept numeric dtypes only (no ``object`` arrays), and the result holds
plain dicts, lists, tuples, numbers, bytes, strings and NumPy arrays.
"""

from __future__ import annotations

import io
import math
import pickle
from typing import Any

import numpy as np

from striate.data.errors import DataError

MAX_PICKLE_BYTES = 512 * 1024 * 1024


class RefusedPickleError(DataError):
    """A pickle asked for a global outside the CIFAR allow-list."""


class _NdarrayType:
    """Stands for ``numpy.ndarray`` as the first argument of ``_reconstruct``."""


class _DType:
    """Stands for ``numpy.dtype(name, align, copy)`` followed by ``__setstate__``."""

    def __init__(self, name: Any, align: Any = False, copy: Any = True) -> None:
        text = name.decode("ascii") if isinstance(name, bytes) else name
        if not isinstance(text, str):
            raise DataError(f"pickled dtype name {name!r} is not a string")
        try:
            base = np.dtype(text)
        except TypeError as err:
            raise DataError(f"pickled dtype {text!r} is not a NumPy type name") from err
        if base.kind not in "biuf" or base.fields is not None:
            raise DataError(f"pickled dtype {text!r} is not numeric; only numeric arrays are "
                            "read from pickles")
        self.dtype = base

    def __setstate__(self, state: Any) -> None:
        order = state[1] if isinstance(state, tuple) and len(state) > 1 else "|"
        order = order.decode("ascii") if isinstance(order, bytes) else order
        if order in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(order)


class _ArrayStub:
    """Collects the state of a pickled ndarray; turned into a real array after loading."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise DataError("pickled array has an unexpected state layout")
        shape, dtype, fortran, raw = state[-4:]
        if not isinstance(dtype, _DType):
            raise DataError("pickled array has no plain dtype")
        if isinstance(raw, str):
            raw = raw.encode("latin-1")
        if not isinstance(raw, bytes | bytearray):
            raise DataError("pickled array holds objects, not raw numbers; refusing it")
        dims = tuple(int(d) for d in shape)
        if math.prod(dims) * dtype.dtype.itemsize != len(raw):
            raise DataError(f"pickled array of shape {dims} and dtype {dtype.dtype} should "
                            f"hold {math.prod(dims) * dtype.dtype.itemsize} bytes, not "
                            f"{len(raw)}; the file is truncated")
        flat = np.frombuffer(bytes(raw), dtype=dtype.dtype)
        self.array = flat.reshape(dims, order="F" if fortran else "C").astype(
            dtype.dtype.newbyteorder("="))


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> _ArrayStub:
    if cls is not _NdarrayType:
        raise DataError("pickled array reconstruction names a class other than ndarray")
    return _ArrayStub()


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # protocol 2 stores Python 3 bytes as _codecs.encode(str, "latin1")
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DataError("pickled _codecs.encode call is not a latin-1 bytes literal")
    return text.encode("latin-1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NdarrayType,
    ("numpy", "dtype"): _DType,
    ("_codecs", "encode"): _encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(io.BytesIO(data), encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED.get((module, name))
        if target is None:
            raise RefusedPickleError(
                f"{self.source}: refusing to unpickle {module}.{name} (only NumPy arrays, "
                "lists and dicts are read from pickles); the file is not a genuine CIFAR "
                "batch, download it again from the official site")
        return target

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedPickleError(f"{self.source}: refusing a pickle with persistent ids")


def _materialise(value: Any) -> Any:
    if isinstance(value, _ArrayStub):
        if value.array is None:
            raise DataError("pickled array was never filled in")
        return value.array
    if isinstance(value, dict):
        return {_materialise(k): _materialise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialise(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_materialise(v) for v in value)
    if isinstance(value, _DType | _NdarrayType) or value is _NdarrayType:
        raise DataError("pickle holds a bare dtype or type object")
    return value


def safe_unpickle(data: bytes, source: str = "pickle") -> Any:
    """Unpickle CIFAR-style data (dicts, lists, numbers, bytes, numeric arrays) only.

    Args:
        data: the pickle bytes.
        source: the file name used in messages.

    Raises:
        RefusedPickleError: the pickle names any other global (``os.system``, ``eval`` ...).
        DataError: a damaged pickle or a malformed array.
    """
    if len(data) > MAX_PICKLE_BYTES:
        raise DataError(f"{source}: {len(data)} bytes is over the {MAX_PICKLE_BYTES} byte "
                        "limit for pickled batches")
    try:
        value = _RestrictedUnpickler(data, source).load()
    except DataError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError,
            KeyError, AttributeError, UnicodeDecodeError) as err:
        raise DataError(f"{source}: damaged pickle ({type(err).__name__}: {err}); download "
                        "the file again") from err
    return _materialise(value)
