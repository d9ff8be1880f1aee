"""Top-k patches: a filter that detects a planted pattern finds exactly the planted patches."""

import numpy as np
import pytest
import torch
from torch import nn

from striate.interpret import RunningTopK, save_top_patches, top_patches
from striate.layers.errors import ConfigError

CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=np.float32)


def _planted(n=60, size=16, planted=(3, 8, 15, 21, 30, 33, 41, 47, 52), seed=0):
    """Dim noise images (≤ 40/255); a bright cross at a known place in the planted ones."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, size=(n, 1, size, size)).astype(np.uint8)
    where = {}
    for i in planted:
        r, c = rng.integers(0, size - 3, size=2)
        x[i, 0, r:r + 3, c:c + 3] = np.maximum(x[i, 0, r:r + 3, c:c + 3], CROSS * 255)
        where[i] = (int(r), int(c))
    return x, where


def _matched_filter():
    conv = nn.Conv2d(1, 2, 3, padding=1)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0] = torch.from_numpy(CROSS * 2 - 1)  # +1 on the cross, −1 around it
        conv.weight[1, 0] = 1.0 / 9
        conv.bias.zero_()
    return nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))


def test_top9_of_a_matched_filter_are_the_planted_patches():
    x, where = _planted()
    model = _matched_filter().eval()
    res = top_patches(model, (x, np.zeros(len(x))), "1", k=9, channels=[0], batch_size=16)
    ch = res.channels[0]
    assert sorted(ch.indices.tolist()) == sorted(where)
    for idx, box, patch, unit in zip(ch.indices, ch.boxes, ch.patches, ch.units, strict=True):
        r, c = where[int(idx)]
        # the strongest unit is centred on the cross: conv padding 1 puts it at (r+1, c+1)
        assert tuple(unit) == (r + 1, c + 1)
        assert (box[0].start, box[1].start) == (r, c)
        np.testing.assert_array_equal(patch[0] == 1.0, CROSS == 1)
    assert np.all(np.diff(ch.values) <= 0)  # strongest first
    assert res.field.size == (3, 3)


def test_top_patches_ignore_batch_size_and_keep_deconv_crops():
    x, _ = _planted()
    model = _matched_filter().eval()
    a = top_patches(model, x, "2", k=5, batch_size=7)
    b = top_patches(model, x, "2", k=5, batch_size=64)
    for ca, cb in zip(a.channels, b.channels, strict=True):
        np.testing.assert_array_equal(ca.indices, cb.indices)
        np.testing.assert_allclose(ca.values, cb.values)
    # after the 2x2 pool the field is 4x4 with stride 2: crops clip at the borders
    assert a.field.size == (4, 4)
    assert a.field.stride == (2, 2)
    ch = a.channels[0]
    assert len(ch.reconstructions) == 5
    for rec, patch in zip(ch.reconstructions, ch.patches, strict=True):
        assert rec.shape == patch.shape


def test_running_topk_equals_topk_over_everything():
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(4, 1000, generator=gen)
    tk = RunningTopK(4, 9)
    for s in range(0, 1000, 128):
        chunk = values[:, s:s + 128]
        tk.update(chunk, torch.arange(s, s + chunk.shape[1]).expand(4, -1),
                  torch.zeros_like(chunk, dtype=torch.long))
    full = torch.topk(values, 9, dim=1)
    torch.testing.assert_close(tk.values, full.values)
    torch.testing.assert_close(tk.index, full.indices)


def test_fewer_samples_than_k_and_errors(tmp_path):
    x, _ = _planted(n=4, planted=(1,))
    model = _matched_filter().eval()
    res = top_patches(model, x, "1", k=9)
    assert len(res.channels[0].indices) == 4
    save_top_patches(res, tmp_path / "t.png")
    with pytest.raises(ConfigError, match=r"1 has 2 channels \(0…1\), got \[5\]"):
        top_patches(model, x, "1", channels=[5])
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        top_patches(model, x, "1", k=0)
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        top_patches(model, x, "1", batch_size=0)


def test_a_dense_layer_gives_its_top_images_whole(small_cnn, tmp_path):
    x = torch.rand(20, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    res = top_patches(small_cnn, x, "9", k=3)
    with torch.no_grad():
        logits = small_cnn(x)
    for ch in res.channels:
        assert ch.indices.tolist() == logits[:, ch.channel].topk(3).indices.tolist()
        assert all(p.shape == (1, 16, 16) for p in ch.patches)
        assert len(ch.reconstructions) == 3
    save_top_patches(res, tmp_path / "dense.png")
