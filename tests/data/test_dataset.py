"""ArrayDataset: validation, subsets, stratified splits, channel statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from striate.data import ArrayDataset, DataError, to_float


def _toy(n: int = 100, classes: int = 4) -> ArrayDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, 4, 5), generator=g, dtype=torch.uint8)
    y = torch.arange(n) % classes
    return ArrayDataset(x, y, [f"c{i}" for i in range(classes)], "toy")


def test_channel_stats_uint8_on_unit_scale():
    ds = _toy()
    mean, std = ds.channel_stats()
    ref = ds.x.double().div(255).permute(1, 0, 2, 3).reshape(3, -1)
    assert mean == pytest.approx(ref.mean(dim=1).tolist(), abs=1e-12)
    assert std == pytest.approx(ref.std(dim=1, unbiased=False).tolist(), abs=1e-12)


def test_channel_stats_float_sequences():
    x = torch.randn(50, 2, 30, generator=torch.Generator().manual_seed(1)) * 3 + 1
    ds = ArrayDataset(x, torch.zeros(50, dtype=torch.int64), ["a"], "seq")
    mean, std = ds.channel_stats()
    ref = x.double().permute(1, 0, 2).reshape(2, -1)
    assert mean == pytest.approx(ref.mean(dim=1).tolist(), abs=1e-9)
    assert std == pytest.approx(ref.std(dim=1, unbiased=False).tolist(), abs=1e-9)


def test_split_is_stratified_reproducible_and_disjoint():
    ds = _toy(n=103)
    a, b = ds.split(0.8, seed=3)
    a2, _ = ds.split(0.8, seed=3)
    assert torch.equal(a.x, a2.x)
    # class c has n_c = 26, 26, 26, 25 samples; each gives round(0.8 * n_c) = 21, 21, 21, 20
    assert torch.bincount(a.y).tolist() == [21, 21, 21, 20]
    assert len(a) + len(b) == 103
    rows = {bytes(r.numpy()) for r in a.x.reshape(len(a), -1)}
    assert not any(bytes(r.numpy()) in rows for r in b.x.reshape(len(b), -1))
    c, _ = ds.split(0.8, seed=4)
    assert not torch.equal(a.x, c.x)


def test_split_seed_must_be_an_integer():
    # a string seed escaped as a bare ValueError from int()
    ds = _toy(n=20)
    with pytest.raises(DataError, match=r": split seed must be an integer, got 'a'$"):
        ds.split(0.5, seed="a")
    a, _ = ds.split(0.5, seed=np.int64(3))  # NumPy integers are integers
    assert torch.equal(a.x, ds.split(0.5, seed=3)[0].x)


def test_subset_and_getitem():
    ds = _toy()
    sub = ds.subset([5, 1])
    assert len(sub) == 2
    assert torch.equal(sub.x[0], ds.x[5])
    assert torch.equal(ds.subset(ds.y == 2).x, ds.x[2::4])
    x, y = ds[7]
    assert x.shape == (3, 4, 5)
    assert int(y) == 3
    assert sub.classes == ds.classes
    assert sub.name == "toy"


def test_to_float():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8)
    assert torch.allclose(to_float(x), torch.tensor([0.0, 0.2, 1.0]))


def test_bad_labels_and_counts():
    x = torch.zeros(3, 1, 2, 2, dtype=torch.uint8)
    with pytest.raises(DataError, match=r"toy: label 5 is out of range 0\.\.1 \(2 classes\)"):
        ArrayDataset(x, torch.tensor([0, 1, 5]), ["a", "b"], "toy")
    with pytest.raises(DataError, match="toy: 3 samples but 2 labels"):
        ArrayDataset(x, torch.tensor([0, 1]), ["a", "b"], "toy")
    with pytest.raises(DataError, match=r"split fraction 1.5 must be between 0 and 1"):
        _toy().split(1.5)
