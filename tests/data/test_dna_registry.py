"""FASTA + labels for real DNA, one-hot encoding, and the data set catalogue."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from striate.data import DataError, MissingFileError, info, load_dataset, names
from striate.data.dna import decode, one_hot, read_fasta


def test_one_hot_order_and_unknown_bases():
    x = one_hot("ACGTN")
    expected = torch.tensor([[1, 0, 0, 0, 0.25], [0, 1, 0, 0, 0.25],
                             [0, 0, 1, 0, 0.25], [0, 0, 0, 1, 0.25]])
    assert torch.equal(x, expected)
    assert decode(x) == "ACGTN"


def test_fasta_with_labels_in_headers(tmp_path):
    path = tmp_path / "seqs.fa"
    path.write_text(">s1 1\nACGT\nAC\n>s2 0\nacgtac\n; comment\n>s3 1\nNNNNNN\n")
    assert read_fasta(path)[0] == ("s1 1", "ACGTAC")
    ds = load_dataset(f"fasta:{path}")
    assert ds.x.shape == (3, 4, 6)
    assert ds.y.tolist() == [1, 0, 1]
    assert ds.classes == ["0", "1"]
    assert decode(ds.x[1]) == "ACGTAC"


def test_fasta_has_no_test_split(tmp_path):
    # split="test" used to return the training sequences again: test accuracy = train
    path = tmp_path / "a.fa"
    path.write_text(">s1 1\nACGTAC\n>s2 0\nTTTTTT\n")
    with pytest.raises(DataError, match=r"a.fa: a FASTA file is one split, 'train'; there is no "
                                        r"'test' split: use .split\(fraction, seed\)"):
        load_dataset(f"fasta:{path}", split="test")


def test_fasta_with_label_file_and_length(tmp_path):
    fa = tmp_path / "seqs.fa"
    fa.write_text(">a\nAAAACCCC\n>b\nGGT\n")
    labels = tmp_path / "labels.txt"
    labels.write_text("a\tbound\nb\tunbound\n")
    ds = load_dataset(f"fasta:{fa}", labels=labels, length=4)
    assert ds.classes == ["bound", "unbound"]
    assert decode(ds.x[0]) == "AACC"  # the centre 4 of 8
    assert decode(ds.x[1]) == "GGTN"  # padded with N
    labels.write_text("bound\n")
    with pytest.raises(DataError, match=r"labels.txt: 1 labels for 2 FASTA records"):
        load_dataset(f"fasta:{fa}", labels=labels, length=4)


def test_fasta_errors(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text(">a 0\nACGT\n>b 1\nACG\n")
    with pytest.raises(DataError, match=r"sequences differ in length \('b' has 3 bases, 'a' 4"
                                        r"\); pass length=N"):
        load_dataset(f"fasta:{fa}")
    fa.write_text("ACGT\n>a 0\nAC\n")
    with pytest.raises(DataError, match=r"x.fa:1: sequence before the first '>' header"):
        load_dataset(f"fasta:{fa}")
    fa.write_text(">a\nACGT\n")
    with pytest.raises(DataError, match=r"header '>a' has no label"):
        load_dataset(f"fasta:{fa}")
    with pytest.raises(MissingFileError, match="no such FASTA file"):
        load_dataset(f"fasta:{tmp_path / 'nope.fa'}")


def test_unknown_name_suggests():
    with pytest.raises(DataError, match=r"unknown data set 'cifar-10'; did you mean 'cifar10'"):
        load_dataset("cifar-10")
    with pytest.raises(DataError, match=r"mnist1d: unknown split 'val'; use one of train, test"):
        load_dataset("mnist1d", "val")
    with pytest.raises(DataError, match=r"digits: unknown option 'resize'; its options: none"):
        load_dataset("digits", resize=4)


def test_catalogue():
    listed = names()
    for name in ("mnist", "fashion-mnist", "cifar10", "cifar100", "mnist-bundled", "digits",
                 "mnist1d", "dna-motifs", "shapes-seg"):
        assert name in listed
    assert info("cifar10").download
    assert not info("mnist-bundled").download


def test_option_values_of_the_wrong_kind_are_data_errors():
    # length="101" (a quoted YAML value) used to fail deep inside with a TypeError
    with pytest.raises(DataError, match=r"^dna-motifs: option length must be an integer "
                                        r"\(default 101\); got length='101'$"):
        load_dataset("dna-motifs", length="101")
    with pytest.raises(DataError, match=r"option mutation_rate must be a number"):
        load_dataset("dna-motifs", mutation_rate="low")
    small = load_dataset("dna-motifs", num_samples=np.int64(10), positive_fraction=1)
    assert len(small) == 8  # 80% of 10; NumPy integers and an int for a float are fine


def test_dna_motif_option_errors():
    with pytest.raises(DataError, match=r"motif of 12 bases does not fit length=10"):
        load_dataset("dna-motifs", motif="ACGTACGTACGT", length=10)
