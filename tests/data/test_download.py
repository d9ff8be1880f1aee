"""Checksummed, cached downloads, tested with local file:// URLs and a patched fetcher."""

from __future__ import annotations

import hashlib
import io
import urllib.error

import pytest

from striate.data import DataError, MissingFileError
from striate.data import download as dl


def _remote(tmp_path, payload: bytes, md5: str | None = None):
    src = tmp_path / "server" / "file.bin"
    src.parent.mkdir()
    src.write_bytes(payload)
    return dl.Remote("file.bin", (src.as_uri(),),
                     md5=md5 or hashlib.md5(payload).hexdigest())


def test_download_from_file_url_and_reuse(tmp_path, monkeypatch):
    remote = _remote(tmp_path, b"official bytes")
    folder = tmp_path / "cache"
    path = dl.fetch(remote, folder)
    assert path.read_bytes() == b"official bytes"
    assert not list(folder.glob(".*part"))  # no temporary left behind

    def no_network(url, timeout):
        raise AssertionError("the cached file must be reused")

    monkeypatch.setattr(dl, "urlopen", no_network)
    assert dl.fetch(remote, folder) == path


def test_checksum_mismatch_is_refused(tmp_path):
    remote = _remote(tmp_path, b"tampered", md5="0" * 32)
    folder = tmp_path / "cache"
    with pytest.raises(MissingFileError, match=r"could not download file.bin: .*md5 "
                                               r"[0-9a-f]{32} instead of 0{32}"):
        dl.fetch(remote, folder)
    assert not (folder / "file.bin").exists()


def test_corrupt_cached_file_is_reported(tmp_path):
    remote = _remote(tmp_path, b"good")
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "file.bin").write_bytes(b"bad")
    with pytest.raises(DataError, match=r"file.bin: md5 is [0-9a-f]{32}, expected "
                                        r"[0-9a-f]{32} .*delete it and run again"):
        dl.fetch(remote, folder)


def test_no_network_names_url_file_and_folder(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(dl, "urlopen", offline)
    remote = dl.Remote("cifar-10-python.tar.gz",
                       ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                       md5="c58f30108f718f92721af3b95e74349a")
    folder = tmp_path / "cifar10"
    with pytest.raises(MissingFileError) as info:
        dl.fetch(remote, folder)
    msg = str(info.value)
    assert "Temporary failure in name resolution" in msg
    assert ("download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz by hand and "
            f"save it as {folder / 'cifar-10-python.tar.gz'}") in msg
    assert "md5 c58f30108f718f92721af3b95e74349a" in msg


def test_mirrors_tried_in_order(tmp_path, monkeypatch):
    payload = b"x" * 1000
    calls = []

    def flaky(url, timeout):
        calls.append(url)
        if url.startswith("https://first"):
            raise urllib.error.URLError("refused")
        return io.BytesIO(payload)

    monkeypatch.setattr(dl, "urlopen", flaky)
    remote = dl.Remote("f.bin", ("https://first/f.bin", "https://second/f.bin"),
                       sha256=hashlib.sha256(payload).hexdigest())
    assert dl.fetch(remote, tmp_path).read_bytes() == payload
    assert calls == ["https://first/f.bin", "https://second/f.bin"]


def test_oversized_download_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "urlopen", lambda url, timeout: io.BytesIO(b"y" * 5000))
    remote = dl.Remote("f.bin", ("https://host/f.bin",), md5="0" * 32, max_bytes=100)
    with pytest.raises(DataError, match="more than 100 bytes"):
        dl.fetch(remote, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_mnist_download_end_to_end_with_patched_fetch(tmp_path, monkeypatch, write_mnist):
    # serve real-format IDX files from a local folder, pretending they are the official
    # ones by patching the checksum table
    server = tmp_path / "server"
    write_mnist(server, n=7)
    write_mnist(server, n=3, split="test")
    from striate.data import load_dataset, mnist

    table = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in server.iterdir()}
    monkeypatch.setattr(mnist, "MNIST_MD5", table)
    monkeypatch.setattr(mnist, "_MNIST_MIRRORS", (server.as_uri() + "/",))
    root = tmp_path / "cache"
    ds = load_dataset("mnist", "train", root=root)
    assert len(ds) == 7
    assert (root / "train-images-idx3-ubyte.gz").is_file()
