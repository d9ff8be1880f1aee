"""t-SNE embeddings of the last hidden layer, and the demo report's figures."""

import sys

import numpy as np
import pytest
import torch
from torch import nn

from striate.interpret import demo_figures, embedding, save_embedding
from striate.interpret.embedding import features, grid_assign
from striate.layers.errors import ConfigError


class Data:
    """An ArrayDataset look-alike: uint8 images, labels, class names."""

    def __init__(self, n=40, size=28, seed=0):
        rng = np.random.default_rng(seed)
        self.y = rng.integers(0, 2, size=n)
        self.x = rng.integers(0, 60, size=(n, 1, size, size)).astype(np.uint8)
        self.x[self.y == 1, :, 8:20, 8:20] = 250  # class 1 has a bright square
        self.classes = ["dark", "square"]

    def __len__(self):
        return len(self.x)


def test_features_are_the_input_of_the_last_linear(small_cnn):
    x = torch.rand(10, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    feats, idx = features(small_cnn, x, batch_size=3)
    with torch.no_grad():
        np.testing.assert_allclose(feats, small_cnn[:9](x).numpy(), atol=1e-6)
    assert idx.tolist() == list(range(10))


def test_tsne_separates_two_obvious_classes_and_draws(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 8), nn.ReLU(), nn.Linear(8, 2))
    data = Data()
    res = embedding(model, data, layer="0", limit=40, perplexity=10, max_iter=250)
    assert res.coords.shape == (40, 2)
    # nearly every point's nearest neighbour in the embedding has its class
    d = ((res.coords[:, None] - res.coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(res.labels[d.argmin(1)] == res.labels) >= 0.9
    save_embedding(res, data, tmp_path / "s.png", kind="scatter")
    save_embedding(res, data, tmp_path / "g.png", kind="grid", side=6)
    with pytest.raises(ConfigError, match="unknown embedding drawing 'pie'"):
        save_embedding(res, data, tmp_path / "p.png", kind="pie")
    seqs = (np.zeros((40, 4, 20), np.float32), data.y)
    with pytest.raises(ConfigError, match=r"needs images .* use kind='scatter'"):
        save_embedding(res, seqs, tmp_path / "q.png", kind="grid")


def test_grid_assign_uses_each_point_once():
    coords = np.random.default_rng(0).normal(size=(30, 2))
    cells = grid_assign(coords, 4)
    used = cells[cells >= 0]
    assert len(used) == 16
    assert len(set(used.tolist())) == 16
    assert (grid_assign(coords[:5], 4) >= 0).sum() == 5


def test_missing_sklearn_names_the_extra(monkeypatch, small_cnn):
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(ConfigError, match=r"pip install 'striate\[data\]'"):
        embedding(small_cnn, torch.rand(10, 1, 16, 16))


@pytest.mark.filterwarnings("error")
def test_demo_figures_for_a_lenet5_on_padded_digits(tmp_path):
    from striate.zoo import create

    model = create("lenet5").eval()
    figs = demo_figures(model, Data(n=30), tmp_path, limit=30, tsne_iter=250,
                        normalization=([0.13], [0.31]))
    titles = [t for t, _ in figs]
    assert titles == ["First-layer filters",
                      "DeconvNet and top-9 patches: features.conv1",
                      "DeconvNet and top-9 patches: features.conv2",
                      "Occlusion sensitivity", "t-SNE of the last hidden layer"]
    for _, path in figs:
        assert path.read_bytes()[:4] == b"\x89PNG"
