"""Gradient saliency, guided backpropagation and Grad-CAM, for classes and regions."""

import numpy as np
import pytest
import torch
from torch import nn

from striate.interpret import saliency, save_saliency
from striate.layers.errors import ConfigError, ShapeError

INSIDE = (slice(4, 12), slice(18, 26))


@pytest.mark.parametrize("method", ["gradient", "guided", "gradcam"])
def test_maps_light_up_only_the_region_the_model_looks_at(region_model, method):
    image = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0)) + 0.1
    res = saliency(region_model, image, method=method, target=1)
    outside = np.ones((32, 32), bool)
    outside[INSIDE] = False
    if method == "gradcam":
        assert res.layer == "mask"  # the last layer with spatial maps
        # the layer's maps keep the input resolution, so the map is exact, not blurred
        assert np.all(res.raw[outside] == 0)
        assert np.all(res.raw[INSIDE] > 0)
    else:
        # d(8·mean)/dx = 8/64 on the 64 pixels of the region, 0 elsewhere
        np.testing.assert_allclose(res.map[INSIDE], 8 / 64, rtol=1e-6)
        assert np.all(res.map[outside] == 0)


class Segmenter(nn.Module):
    """Per-pixel logits: class k's logit at a pixel is w_k · x there (a 1x1 convolution)."""

    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(1, 3, 1, bias=False)
        with torch.no_grad():
            self.head.weight[:, 0, 0, 0] = torch.tensor([1.0, -1.0, 2.0])

    def forward(self, x):
        return self.head(x)


def test_segmentation_target_is_the_class_over_a_mask():
    image = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(1))
    mask = np.zeros((8, 8), bool)
    mask[2:5, 3:7] = True
    res = saliency(Segmenter(), image, target=2, mask=mask)
    # ∂/∂x Σ_mask 2·x = 2 inside the mask, 0 outside
    np.testing.assert_array_equal(res.map, np.where(mask, 2.0, 0.0))
    np.testing.assert_array_equal(res.mask, mask)
    # without a mask, the region is where class 2 wins: every pixel (x ≥ 0)
    res = saliency(Segmenter(), image, target=2)
    assert res.mask.all()


def test_guided_is_nonnegative_and_predicted_class_by_default(small_cnn, tmp_path):
    x = torch.rand(1, 16, 16, generator=torch.Generator().manual_seed(2))
    res = saliency(small_cnn, x, method="guided")
    assert res.target == int(small_cnn(x[None]).argmax())
    assert res.raw.min() >= 0 or np.all(res.map >= 0)
    save_saliency(res, tmp_path / "g.png")
    cam = saliency(small_cnn, x, method="gradcam")
    assert cam.layer == "5"  # the last layer with spatial maps (the 2nd max-pool)
    assert cam.map.shape == (16, 16)


def test_saliency_errors(small_cnn):
    x = torch.rand(1, 16, 16)
    with pytest.raises(ConfigError, match="unknown saliency method 'cam'; use one of gradient"):
        saliency(small_cnn, x, method="cam")
    with pytest.raises(ConfigError, match="a mask only applies to segmentation outputs"):
        saliency(small_cnn, x, mask=np.ones((16, 16), bool))
    with pytest.raises(ConfigError, match="target 3 is outside the model's 3 classes"):
        saliency(small_cnn, x, target=3)
    with pytest.raises(ShapeError, match=r"the mask has shape \(4, 4\)"):
        saliency(Segmenter(), x[:, :8, :8], target=0, mask=np.ones((4, 4), bool))
    with pytest.raises(ConfigError, match="Grad-CAM needs a layer with spatial maps"):
        saliency(small_cnn, x, method="gradcam", layer="7")


def test_gradcam_for_a_region_of_a_segmentation_output():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 1)).eval()
    mask = np.zeros((8, 8), bool)
    mask[:3, :3] = True
    res = saliency(model, torch.rand(1, 8, 8), method="gradcam", target=1, mask=mask)
    assert res.layer == "2"  # the last layer with spatial maps: the per-pixel logits
    assert res.map.shape == (8, 8)
    assert res.map.min() >= 0
    np.testing.assert_array_equal(res.mask, mask)
    res = saliency(model, torch.rand(1, 8, 8), method="gradcam", target=1, mask=mask, layer="1")
    assert res.layer == "1"


def test_sequence_saliency_draws_a_track(tmp_path):
    model = nn.Sequential(nn.Conv1d(4, 2, 5), nn.ReLU(), nn.AdaptiveMaxPool1d(1),
                          nn.Flatten(), nn.Linear(2, 2)).eval()
    seq = torch.zeros(4, 30)
    seq[torch.randint(0, 4, (30,), generator=torch.Generator().manual_seed(0)),
        torch.arange(30)] = 1
    for method in ("gradient", "gradcam"):
        res = saliency(model, seq, method=method, target=0)
        assert res.map.shape == (30,)
        assert save_saliency(res, tmp_path / f"{method}.png").stat().st_size > 1000
