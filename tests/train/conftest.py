"""Shared fixtures: 8x8 digits and a tiny spec, small enough to train in a second."""

from __future__ import annotations

import pytest

TINY_SPEC = """\
name: tiny
input: [1, 8, 8]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, act: relu}
  - pool: {kind: max, kernel: 2}
  - flatten
  - dense: 10
"""


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
