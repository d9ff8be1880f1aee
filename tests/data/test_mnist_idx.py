"""IDX files written byte by byte per the IDX spec, and the MNIST loaders on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from striate.data import DataError, MissingFileError, load_dataset
from striate.data.idx import read_idx, write_idx


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_files(tmp_path, gz, write_mnist):
    images, labels = write_mnist(tmp_path, gz=gz)
    ds = load_dataset("mnist", "train", root=tmp_path, download=False)
    assert ds.x.shape == (12, 1, 28, 28)
    assert ds.x.dtype == torch.uint8
    assert np.array_equal(ds.x[:, 0].numpy(), images)
    assert np.array_equal(ds.y.numpy(), labels)
    assert ds.classes == [str(d) for d in range(10)]


def test_fashion_mnist_classes_and_test_split(tmp_path, write_mnist):
    write_mnist(tmp_path, n=5, split="test")
    ds = load_dataset("fashion-mnist", "test", root=tmp_path, download=False)
    assert len(ds) == 5
    assert ds.classes[9] == "Ankle boot"  # Xiao et al. 2017, label 9


def test_read_idx_round_trip_other_types(tmp_path, idx_bytes):
    arr = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(arr, 0x0C))
    assert np.array_equal(read_idx(path), arr)
    write_idx(tmp_path / "b.idx.gz", arr.astype(np.float32))
    assert np.array_equal(read_idx(tmp_path / "b.idx.gz"), arr.astype(np.float32))


def test_truncated_idx_names_file_and_sizes(tmp_path, idx_bytes):
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    # 10 * 28 * 28 = 7840 bytes announced, 7740 present
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: IDX header says 10x28x28 "
                                        r"uint8 = 7840 bytes of data but the file holds 7740; "
                                        r"the file is truncated"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(b"hello world")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_label_count_mismatch(tmp_path, write_mnist):
    write_mnist(tmp_path, n=12, labels=np.arange(11, dtype=np.uint8) % 10)
    with pytest.raises(DataError, match=r"holds 12 images but .*holds 11 labels; use the "
                                        r"image and label files of the same split"):
        load_dataset("mnist", root=tmp_path, download=False)


def test_label_out_of_range(tmp_path, write_mnist):
    labels = np.arange(12, dtype=np.uint8) % 10
    labels[3] = 42
    write_mnist(tmp_path, labels=labels)
    with pytest.raises(DataError, match=r"label 42 is out of range 0\.\.9"):
        load_dataset("mnist", root=tmp_path, download=False)


def test_missing_files_without_download_say_where(tmp_path):
    with pytest.raises(MissingFileError) as info:
        load_dataset("mnist", root=tmp_path, download=False)
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz" in msg
    assert str(tmp_path) in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in msg
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg  # the official MD5
    assert "\n" not in msg
