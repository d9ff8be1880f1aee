"""Image folders (one sub-folder per class) and segmentation folders, written with
Pillow."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from striate.data import DataError, MissingFileError, load_dataset


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


def _rgb(h, w, value):
    return np.full((h, w, 3), value, dtype=np.uint8)


def test_folder_classes_labels_and_pixels(tmp_path):
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    _save(tmp_path / "cat" / "a.png", img)
    _save(tmp_path / "cat" / "b.png", _rgb(4, 5, 10))
    _save(tmp_path / "dog" / "c.png", _rgb(4, 5, 200))
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.classes == ["cat", "dog"]
    assert ds.y.tolist() == [0, 0, 1]
    assert ds.x.shape == (3, 3, 4, 5)
    assert np.array_equal(ds.x[0].numpy(), img.transpose(2, 0, 1))  # PNG is lossless


def test_greyscale_folder_has_one_channel(tmp_path):
    _save(tmp_path / "a" / "1.png", np.zeros((6, 6), np.uint8))
    _save(tmp_path / "b" / "2.png", np.full((6, 6), 255, np.uint8))
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.input_shape == (1, 6, 6)
    assert ds.channel_stats() == ((0.5,), (0.5,))


def test_jpeg_and_train_test_layout(tmp_path):
    _save(tmp_path / "train" / "x" / "1.jpg", _rgb(8, 8, 128))
    _save(tmp_path / "train" / "y" / "2.jpg", _rgb(8, 8, 30))
    _save(tmp_path / "test" / "y" / "3.jpg", _rgb(8, 8, 30))
    test = load_dataset(f"folder:{tmp_path}", "test")
    # classes are the union of both splits: "y" keeps index 1 in the test split
    assert test.classes == ["x", "y"]
    assert test.y.tolist() == [1]
    assert abs(int(test.x.float().mean()) - 30) <= 2  # JPEG is lossy


def test_mixed_sizes_error_names_two_files(tmp_path):
    _save(tmp_path / "a" / "1.png", _rgb(32, 32, 0))
    _save(tmp_path / "b" / "2.png", _rgb(28, 40, 0))
    with pytest.raises(DataError) as info:
        load_dataset(f"folder:{tmp_path}")
    msg = str(info.value)
    assert f"{tmp_path / 'a' / '1.png'} is 32x32 but {tmp_path / 'b' / '2.png'} is 28x40" in msg
    # the fix in both places a user may be: Python and the command line
    assert msg.endswith("resize them all with resize=(H, W) in load_dataset or "
                        "--data-option resize=HxW on the command line, or resize the files "
                        "to one size")
    assert "\n" not in msg


def test_resize_option(tmp_path):
    _save(tmp_path / "a" / "1.png", _rgb(32, 32, 50))
    _save(tmp_path / "b" / "2.png", _rgb(28, 40, 50))
    ds = load_dataset(f"folder:{tmp_path}", resize="16x20")
    assert ds.input_shape == (3, 16, 20)
    assert torch.all(ds.x == 50)  # a flat image stays flat through bilinear resizing
    with pytest.raises(DataError, match=r"resize='big': use an int, 'HxW'"):
        load_dataset(f"folder:{tmp_path}", resize="big")


def test_folder_errors(tmp_path):
    with pytest.raises(MissingFileError, match="no such folder"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    (tmp_path / "bad" / "a").mkdir(parents=True)
    (tmp_path / "bad" / "a" / "x.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"x.png: not a readable image"):
        load_dataset(f"folder:{tmp_path / 'bad'}")
    with pytest.raises(DataError, match=r"no test/ sub-folder"):
        load_dataset(f"folder:{tmp_path / 'bad'}", "test")


def test_segmentation_folder_pairs(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 3:6] = 2
    _save(tmp_path / "images" / "s1.png", _rgb(8, 8, 90))
    _save(tmp_path / "masks" / "s1.png", mask)
    _save(tmp_path / "images" / "s2.jpg", _rgb(8, 8, 10))
    _save(tmp_path / "masks" / "s2.png", np.ones((8, 8), np.uint8))
    ds = load_dataset(f"segfolder:{tmp_path}", classes=["bg", "road", "car"])
    assert ds.y.shape == (2, 8, 8)
    assert np.array_equal(ds.y[0].numpy(), mask)
    small = load_dataset(f"segfolder:{tmp_path}", resize=4)
    assert set(small.y.unique().tolist()) <= {0, 1, 2}  # nearest keeps class indices
    # PATH/images is the one split: "test" used to return the same pairs again
    with pytest.raises(DataError, match=r"no test/images sub-folder; use split='train' and "
                                        r"\.split\(fraction, seed\)"):
        load_dataset(f"segfolder:{tmp_path}", "test")
    (tmp_path / "images" / "s3.png").write_bytes((tmp_path / "images" / "s1.png").read_bytes())
    with pytest.raises(MissingFileError, match=r"s3.png: no mask .*s3.png"):
        load_dataset(f"segfolder:{tmp_path}")


def test_shapes_seg_scenes():
    ds = load_dataset("shapes-seg", num_samples=20, size=32, seed=1)
    assert len(ds) == 16
    assert ds.x.shape == (16, 3, 32, 32)
    assert ds.y.shape == (16, 32, 32)
    assert ds.classes == ["background", "disc", "square", "triangle"]
    # shapes are bright (0.5–1.0 colours) on a dark (0–0.35) background
    x = ds.x.float() / 255
    inside = x.mean(dim=1)[ds.y > 0].mean()
    outside = x.mean(dim=1)[ds.y == 0].mean()
    assert float(inside) > float(outside) + 0.3
    again = load_dataset("shapes-seg", num_samples=20, size=32, seed=1)
    assert torch.equal(again.y, ds.y)
