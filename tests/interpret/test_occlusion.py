"""Occlusion (Zeiler & Fergus 2013) on a model that only looks at one region."""

import numpy as np
import pytest
import torch

from striate.interpret import occlusion, save_occlusion
from striate.layers.errors import ConfigError, ShapeError


def _overlaps(r, c, size, rows=(4, 12), cols=(18, 26)):
    return r < rows[1] and r + size > rows[0] and c < cols[1] and c + size > cols[0]


def test_only_squares_over_the_region_change_the_output(region_model):
    image = torch.ones(1, 32, 32)
    res = occlusion(region_model, image, label=1, size=6, stride=3, fill=0.0, layer="relu")
    assert res.predicted == 1
    assert res.base["true_prob"] == pytest.approx(1 / (1 + np.exp(-8.0)))
    for (r, c), p, f in zip(res.positions.reshape(-1, 2), res.true_prob.ravel(),
                            res.feature.ravel(), strict=True):
        if _overlaps(r, c, 6):
            assert p < res.base["true_prob"]
        else:
            assert p == pytest.approx(res.base["true_prob"], abs=1e-7)
        # the feature map's total drops by the 36 occluded ones, wherever the square is
        assert f == pytest.approx(32 * 32 - 36)
    pix = res.pixel_map(res.true_prob)
    assert np.nanargmin(pix) in {r * 32 + c for r in range(4, 12) for c in range(18, 26)}
    # the last square reaches the border: starts 0, 3, …, 24, 26
    assert res.positions[-1, -1].tolist() == [26, 26]


def test_batched_equals_one_at_a_time(small_cnn):
    image = torch.rand(1, 16, 16, generator=torch.Generator().manual_seed(0))
    a = occlusion(small_cnn, image, label=2, size=4, stride=2, batch_size=1)
    b = occlusion(small_cnn, image, label=2, size=4, stride=2, batch_size=100)
    np.testing.assert_allclose(a.true_prob, b.true_prob, atol=1e-6)
    np.testing.assert_allclose(a.feature, b.feature, rtol=1e-5)
    assert a.layer == "3"
    # the strongest map of the last convolution, projected to pixel space (figure 7 c)
    assert a.projection.shape == (1, 16, 16)
    assert np.abs(a.projection).sum() > 0


def test_occlusion_errors_and_png(region_model, small_cnn, tmp_path):
    image = torch.ones(1, 32, 32)
    with pytest.raises(ConfigError, match=r"square \(40\) is larger than the image \(32x32\)"):
        occlusion(region_model, image, size=40)
    with pytest.raises(ConfigError, match="label 5 is outside the model's 2 classes"):
        occlusion(region_model, image, label=5)
    with pytest.raises(ShapeError, match="takes 1 input channel"):
        occlusion(small_cnn, torch.rand(3, 16, 16))
    tanh = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Tanh(), torch.nn.Conv2d(2, 2, 3),
                               torch.nn.Flatten(), torch.nn.LazyLinear(2))
    tanh(torch.zeros(1, 1, 16, 16))
    res = occlusion(tanh.eval(), torch.rand(1, 16, 16), size=4, stride=4)
    assert res.projection is None
    assert "cannot go back through 1 (Tanh)" in res.note
    res = occlusion(region_model, image, label=1, size=8, stride=8)
    path = save_occlusion(res, tmp_path / "occ.png", classes=["zero", "one"])
    assert path.stat().st_size > 1000
