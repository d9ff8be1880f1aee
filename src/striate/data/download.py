"""Checksummed downloads into the cache.

A file is fetched from its mirrors in order, streamed to a temporary file beside the
target while its digest is computed, and renamed into place only when the digest matches
the official one. A file already in place is checked the same way and reused. Without a
network the error names the URL, the file name and the folder to put it in.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from striate.data.errors import DataError, MissingFileError

_CHUNK = 1 << 20
_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Remote:
    """A published file: its name, its mirrors and its official checksum.

    Attributes:
        filename: the name it is stored under in the data set's folder.
        urls: full URLs to try in order.
        md5: the official MD5 (hex), or None.
        sha256: the official SHA-256 (hex), or None.
        max_bytes: refuse to download more than this (a wrong URL must not fill the disk).
    """

    filename: str
    urls: tuple[str, ...]
    md5: str | None = None
    sha256: str | None = None
    max_bytes: int = 512 * 1024 * 1024

    def checksum(self) -> tuple[str, str]:
        """``(algorithm, hex digest)``: SHA-256 if known, else MD5."""
        if self.sha256:
            return "sha256", self.sha256.lower()
        if self.md5:
            return "md5", self.md5.lower()
        raise ValueError(f"{self.filename}: no checksum")  # a programming error in a table


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def urlopen(url: str, timeout: float) -> IO[bytes]:
    """Open a URL for reading (a seam the tests replace to simulate the network)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _manual_hint(remote: Remote, folder: Path) -> str:
    algo, want = remote.checksum()
    return (f"download {remote.urls[0]} by hand and save it as {folder / remote.filename} "
            f"({algo} {want})")


def verify(path: Path, remote: Remote) -> None:
    """Check a file against its official checksum.

    Raises:
        DataError: the digest differs (a truncated download, another version).
    """
    algo, want = remote.checksum()
    got = file_digest(path, algo)
    if got != want:
        raise DataError(f"{path}: {algo} is {got}, expected {want} (corrupt, truncated or "
                        f"another version); delete it and run again, or "
                        f"{_manual_hint(remote, path.parent)}")


def fetch(remote: Remote, folder: Path, download: bool = True) -> Path:
    """Return the verified local copy of ``remote`` in ``folder``, downloading it if needed.

    Raises:
        MissingFileError: the file is absent and ``download`` is False, or every mirror
            failed (no network); the message says which file to put where.
        DataError: a checksum mismatch, or a file larger than ``remote.max_bytes``.
    """
    path = folder / remote.filename
    if path.is_file():
        verify(path, remote)
        return path
    if not download:
        raise MissingFileError(f"{path}: missing and download=False; "
                               f"{_manual_hint(remote, folder)}")
    algo, want = remote.checksum()
    failures = []
    for url in remote.urls:
        try:
            got = _stream(url, path, remote, algo, want)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            reason = getattr(err, "reason", None) or err
            failures.append(f"{url} ({reason})")
            continue
        if got == want:
            return path
        failures.append(f"{url} ({algo} {got} instead of {want})")
    raise MissingFileError(f"could not download {remote.filename}: {'; '.join(failures)}; "
                           f"{_manual_hint(remote, folder)} and run again")


def _stream(url: str, path: Path, remote: Remote, algo: str, want: str) -> str:
    """Download ``url`` beside ``path`` and rename it into place only if its digest is
    ``want``; returns the digest either way."""
    digest = hashlib.new(algo, usedforsecurity=False)
    size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with urlopen(url, _TIMEOUT_S) as response, os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                size += len(chunk)
                if size > remote.max_bytes:
                    raise DataError(f"{url}: more than {remote.max_bytes} bytes, larger than "
                                    f"{remote.filename} can be; "
                                    f"{_manual_hint(remote, path.parent)}")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() == want:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return digest.hexdigest()
