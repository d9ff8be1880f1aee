"""CIFAR-10/100 from files in the official formats: python pickles (protocol 2, bytes
keys), binary records, and the tar.gz archives; the restricted unpickler refuses
anything but arrays."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest
import torch

from striate.data import DataError, cifar, load_dataset
from striate.data.safepickle import RefusedPickleError, safe_unpickle

RNG = np.random.default_rng(0)


def _py_batch(n: int, labels_key: bytes = b"labels", extra: dict | None = None) -> bytes:
    data = RNG.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    batch = {b"batch_label": b"training batch 1 of 5", labels_key: [i % 10 for i in range(n)],
             b"data": data, b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    batch.update(extra or {})
    return pickle.dumps(batch, protocol=2)


def _write_cifar10_py(folder, n=4):
    d = folder / "cifar-10-batches-py"
    d.mkdir(parents=True)
    for i in range(1, 6):
        (d / f"data_batch_{i}").write_bytes(_py_batch(n))
    (d / "test_batch").write_bytes(_py_batch(3))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]
    (d / "batches.meta").write_bytes(pickle.dumps({b"label_names": names,
                                                   b"num_cases_per_batch": 10000},
                                                  protocol=2))
    return d


def test_cifar10_python_batches(tmp_path):
    d = _write_cifar10_py(tmp_path)
    train = load_dataset("cifar10", "train", root=tmp_path, download=False)
    test = load_dataset("cifar10", "test", root=tmp_path, download=False)
    assert len(train) == 5 * 4
    assert len(test) == 3
    assert train.x.shape == (20, 3, 32, 32)
    assert train.x.dtype == torch.uint8
    assert train.classes[0] == "airplane"
    raw = pickle.loads((d / "data_batch_1").read_bytes(), encoding="bytes")  # our own file
    # rows are the red plane, then green, then blue, each 32x32 row-major
    assert np.array_equal(train.x[0].numpy(), raw[b"data"][0].reshape(3, 32, 32))
    assert train.y[:4].tolist() == [0, 1, 2, 3]


def test_cifar10_binary_records(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    d.mkdir()
    records = []
    for i in range(1, 6):
        labels = RNG.integers(0, 10, size=2, dtype=np.uint8)
        pixels = RNG.integers(0, 256, size=(2, 3072), dtype=np.uint8)
        records.append((labels, pixels))
        # <1 label byte><3072 pixel bytes> per record
        (d / f"data_batch_{i}.bin").write_bytes(
            b"".join(bytes([lab]) + px.tobytes() for lab, px in zip(labels, pixels,
                                                                    strict=True)))
    (d / "test_batch.bin").write_bytes(bytes([7]) + bytes(3072))
    (d / "batches.meta.txt").write_text("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\n"
                                        "horse\nship\ntruck\n\n")
    train = load_dataset("cifar10", root=tmp_path, download=False)
    assert len(train) == 10
    assert train.y[:2].tolist() == records[0][0].tolist()
    assert np.array_equal(train.x[1].numpy().reshape(-1), records[0][1][1])
    assert train.classes[-1] == "truck"
    test = load_dataset("cifar10", "test", root=tmp_path, download=False)
    assert test.y.tolist() == [7]


def test_cifar_binary_truncated(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    d.mkdir()
    (d / "test_batch.bin").write_bytes(bytes(3073 * 2 - 10))
    with pytest.raises(DataError, match=r"test_batch.bin: 6136 bytes is not a whole number of "
                                        r"3073-byte records"):
        load_dataset("cifar10", "test", root=tmp_path, download=False)


def test_cifar100_binary_coarse_and_fine(tmp_path):
    d = tmp_path / "cifar-100-binary"
    d.mkdir()
    # <coarse label><fine label><3072 pixel bytes>
    (d / "train.bin").write_bytes(bytes([3, 42]) + bytes(3072) + bytes([19, 99]) + bytes(3072))
    (d / "fine_label_names.txt").write_text("\n".join(f"fine{i}" for i in range(100)))
    (d / "coarse_label_names.txt").write_text("\n".join(f"coarse{i}" for i in range(20)))
    fine = load_dataset("cifar100", root=tmp_path, download=False)
    coarse = load_dataset("cifar100", root=tmp_path, download=False, label_mode="coarse")
    assert fine.y.tolist() == [42, 99]
    assert coarse.y.tolist() == [3, 19]
    assert len(fine.classes) == 100
    assert coarse.classes[3] == "coarse3"


def test_cifar100_python_from_tar_archive(tmp_path, monkeypatch):
    n = 5
    train = _py_batch(n, b"fine_labels", {b"coarse_labels": [1] * n})
    meta = pickle.dumps({b"fine_label_names": [f"f{i}".encode() for i in range(100)],
                         b"coarse_label_names": [f"c{i}".encode() for i in range(20)]},
                        protocol=2)
    archive = tmp_path / "cifar-100-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (("train", train), ("test", train), ("meta", meta)):
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    # the archive is read in place (never extracted); its MD5 is not the official one, so
    # the checksum table is what a genuine download would be checked against


    genuine = cifar.Remote(archive.name, cifar.CIFAR100_PY.urls,
                           md5=hashlib.md5(archive.read_bytes()).hexdigest())
    cifar._LAYOUT["cifar100"] = (*cifar._LAYOUT["cifar100"][:2], genuine,
                                 *cifar._LAYOUT["cifar100"][3:])
    try:
        ds = load_dataset("cifar100", root=tmp_path, download=False)
    finally:
        cifar._LAYOUT["cifar100"] = (*cifar._LAYOUT["cifar100"][:2], cifar.CIFAR100_PY,
                                     *cifar._LAYOUT["cifar100"][3:])
    assert len(ds) == n
    assert ds.classes[4] == "f4"
    assert not (tmp_path / "cifar-100-python").exists()


def test_official_archive_with_wrong_checksum_is_refused(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"not the real archive")
    with pytest.raises(DataError, match=r"cifar-10-python.tar.gz: md5 is [0-9a-f]{32}, "
                                        r"expected c58f30108f718f92721af3b95e74349a"):
        load_dataset("cifar10", root=tmp_path, download=False)


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_refused_without_executing(tmp_path):
    marker = tmp_path / "pwned"
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    evil = pickle.dumps({b"data": _Evil(str(marker)), b"labels": [0]}, protocol=2)
    (d / "test_batch").write_bytes(evil)
    with pytest.raises(RefusedPickleError, match=r"test_batch: refusing to unpickle "
                                                 r"(posix|nt)\.system"):
        load_dataset("cifar10", "test", root=tmp_path, download=False)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    pickle.dumps(eval, protocol=2),  # a bare builtin
    b"cbuiltins\nexec\n(Vprint(1)\ntR.",  # protocol 0 REDUCE of exec
    pickle.dumps(np.array([object()], dtype=object), protocol=2),
])
def test_restricted_unpickler_refuses_other_globals(payload):
    with pytest.raises(DataError, match=r"refusing|not numeric|objects"):
        safe_unpickle(payload, "bad.pkl")


def test_restricted_unpickler_reads_arrays_exactly():
    arrays = {b"u8": np.arange(6, dtype=np.uint8).reshape(2, 3),
              b"f32": np.linspace(0, 1, 5, dtype=np.float32),
              b"big": np.arange(4, dtype=">i4"),
              b"fortran": np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3))}
    for protocol in (2, 4):
        out = safe_unpickle(pickle.dumps(arrays, protocol=protocol))
        for key, value in arrays.items():
            assert np.array_equal(out[key], value)


def _py2_style_batch() -> bytes:
    """A protocol-2 pickle as Python 2's cPickle wrote the official batches: str values
    as SHORT_BINSTRING (read back as bytes with encoding='bytes'), numpy.core paths."""

    def s(raw: bytes) -> bytes:
        return b"U" + bytes([len(raw)]) + raw

    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85"
             + s(b"b") + b"\x87R"
             + b"(K\x01K\x02K\x03\x86"  # state: version 1, shape (2, 3)
             + b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + s(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
             + b"\x89" + s(bytes([0, 1, 2, 250, 251, 255])) + b"tb")
    return (b"\x80\x02}(" + s(b"data") + array + s(b"labels") + b"](K\x01K\x02eu.")


def test_python2_style_pickle_reads_like_pickle_load():
    data = _py2_style_batch()
    reference = pickle.loads(data, encoding="bytes")  # our own crafted bytes: safe here
    ours = safe_unpickle(data, "py2.pkl")
    assert np.array_equal(ours[b"data"], reference[b"data"])
    assert ours[b"data"].tolist() == [[0, 1, 2], [250, 251, 255]]
    assert ours[b"labels"] == [1, 2]
