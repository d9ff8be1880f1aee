"""Shared fixtures: a tiny CNN and 8x8 digits, small enough to train in a second."""

from __future__ import annotations

import pytest
import torch
from torch import nn

TINY_SPEC = """\
name: tiny
input: [1, 8, 8]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, act: relu}
  - pool: {kind: max, kernel: 2}
  - flatten
  - dense: 10
"""


def tiny_cnn(seed: int = 0, dropout: float = 0.0, batchnorm: bool = False) -> nn.Module:
    """Conv-ReLU-pool twice and a linear classifier, for (1, 8, 8) inputs."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(8, 16, 3, padding=1)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(16))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(64, 10))
    return nn.Sequential(*layers)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits (train split) as an ArrayDataset."""
    from striate.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_test():
    """The held-out digits split."""
    from striate.data import load_dataset

    return load_dataset("digits", "test")


@pytest.fixture
def tiny_spec(tmp_path):
    """A spec file of a small CNN for (1, 8, 8) digits."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPEC)
    return path
