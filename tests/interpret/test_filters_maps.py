"""Filters and feature maps."""

import numpy as np
import pytest
import torch
from torch import nn

from striate.interpret import feature_maps, filters, saliency, save_feature_maps, save_filters
from striate.layers.errors import ConfigError, ShapeError


def test_rgb_filters_are_colour_images_scaled_each_on_its_own(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 5), nn.ReLU(), nn.Conv2d(8, 4, 3))
    res = filters(model)
    assert res.layer == "0"
    assert res.colour
    np.testing.assert_array_equal(res.weights, model[0].weight.detach().numpy())
    imgs = res.images()
    assert len(imgs) == 8
    assert imgs[0].shape == (3, 5, 5)
    assert all(i.min() == 0.0 and i.max() == 1.0 for i in imgs)
    deeper = filters(model, "2")
    assert not deeper.colour
    assert len(deeper.images(per_channel=True)) == 4 * 8
    save_filters(res, tmp_path / "f.png")
    save_filters(deeper, tmp_path / "g.png", per_channel=True)
    with pytest.raises(ConfigError, match="1 is a ReLU, not a convolution; filters exist for 0, 2"):
        filters(model, "1")


def test_feature_maps_are_the_layer_outputs(small_cnn, tmp_path):
    x = torch.rand(1, 16, 16, generator=torch.Generator().manual_seed(0))
    maps = feature_maps(small_cnn, x, ["1", "4", "7"])
    with torch.no_grad():
        np.testing.assert_allclose(maps["4"], small_cnn[:5](x[None])[0].numpy(), atol=1e-6)
        np.testing.assert_allclose(maps["7"], small_cnn[:8](x[None])[0].numpy(), atol=1e-6)
    assert list(feature_maps(small_cnn, x)) == ["0", "3"]  # every convolution by default
    path = save_feature_maps(maps, tmp_path / "fm.png")
    assert path.stat().st_size > 1000


def test_uint8_inputs_padded_and_normalised_like_the_run(small_cnn):
    small_cnn.striate_meta = {"input_shape": [1, 16, 16],
                              "normalization": {"mean": [0.5], "std": [0.25]}}
    raw = np.full((1, 12, 12), 255, np.uint8)
    maps = feature_maps(small_cnn, raw, ["0"])
    expected = np.zeros((1, 1, 16, 16), np.float32)
    expected[0, 0, 2:14, 2:14] = 1.0
    with torch.no_grad():
        want = small_cnn[0]((torch.from_numpy(expected) - 0.5) / 0.25)[0].numpy()
    np.testing.assert_allclose(maps["0"], want, atol=1e-6)
    # a larger input reaches the convolutions; the dense layer cannot take it
    assert feature_maps(small_cnn, np.zeros((1, 20, 20), np.uint8), ["3"])["3"].shape == \
        (6, 8, 8)
    with pytest.raises(ShapeError, match=r"cannot take inputs of shape \(1, 20, 20\) "
                       r"\(mat1 and mat2 .*\); resize, crop or pad the input to \(1, 16, 16\)"):
        saliency(small_cnn, np.zeros((1, 20, 20), np.uint8))


def test_unknown_layer_lists_valid_ones(small_cnn):
    with pytest.raises(ConfigError, match=r"no layer named '33'.*valid layers: 0, 1, 2, 3"):
        feature_maps(small_cnn, torch.rand(1, 16, 16), ["33"])
