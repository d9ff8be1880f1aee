"""Shared fixtures: every data test uses a private cache folder, never ~/.cache."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    old = os.environ.get("STRIATE_CACHE")
    os.environ["STRIATE_CACHE"] = str(tmp_path_factory.mktemp("striate-cache"))
    yield
    if old is None:
        os.environ.pop("STRIATE_CACHE", None)
    else:
        os.environ["STRIATE_CACHE"] = old


@pytest.fixture(scope="session")
def mnist_bundled_train():
    from striate.data import load_dataset

    return load_dataset("mnist-bundled", "train")
