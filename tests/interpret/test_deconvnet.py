"""DeconvNet (Zeiler & Fergus 2013) on models whose reconstruction is known by construction."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from striate.interpret import deconvnet, receptive_field, save_deconvnet
from striate.layers.errors import ConfigError, ShapeError


def test_single_conv_unit_is_its_filter_at_its_receptive_field():
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    x = torch.randn(3, 11, 11)
    c, (i, j) = 4, (2, 3)
    rec = deconvnet(nn.Sequential(conv), x, "0", channel=c, unit=(i, j))
    a = conv(x[None])[0, c, i, j].item()
    # unit (i, j) sees padded rows 2i…2i+2 (stride 2), i.e. input rows 2i−1…2i+1 (padding 1)
    padded = np.zeros((3, 13, 13), np.float32)
    padded[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3] = a * conv.weight[c].detach().numpy()
    np.testing.assert_allclose(rec.images[0], padded[:, 1:12, 1:12], atol=1e-6)
    assert rec.activations[0] == pytest.approx(a)
    assert (tuple(rec.units[0]), rec.channels[0]) == ((i, j), c)


def test_single_conv1d_unit_and_strongest_unit_default():
    torch.manual_seed(2)
    conv = nn.Conv1d(4, 3, 5)
    x = torch.randn(4, 20)
    out = conv(x[None])[0].detach()
    c = int(out.amax(dim=1).argmax())
    u = int(out[c].argmax())
    rec = deconvnet(nn.Sequential(conv), x, "0")
    expected = np.zeros((4, 20), np.float32)
    expected[:, u:u + 5] = out[c, u].item() * conv.weight[c].detach().numpy()
    np.testing.assert_allclose(rec.images[0], expected, atol=1e-6)
    assert (rec.channels[0], tuple(rec.units[0])) == (c, (u,))


def test_through_relu_and_switches_matches_hand_written_deconvnet(small_cnn):
    torch.manual_seed(3)
    x = torch.randn(2, 1, 16, 16)
    conv1, conv2 = small_cnn[0], small_cnn[3]
    rec = deconvnet(small_cnn, x, "4", channel=2, unit=[(1, 2), (4, 0)])
    assert rec.field.size == (8, 8)  # the box drawn around each unit
    # by hand: forward recording the switches, then unpool / rectify / transposed filters
    with torch.no_grad():
        a1 = F.relu(conv1(x))
        p1, switches = F.max_pool2d(a1, 2, return_indices=True)
        a2 = F.relu(conv2(p1))
        for n, (i, j) in enumerate([(1, 2), (4, 0)]):
            sig = torch.zeros_like(a2[n:n + 1])
            sig[0, 2, i, j] = a2[n, 2, i, j]
            r = F.conv_transpose2d(F.relu(sig), conv2.weight)
            r = F.max_unpool2d(F.relu(r), switches[n:n + 1], 2, output_size=a1.shape[2:])
            r = F.conv_transpose2d(F.relu(r), conv1.weight, padding=1)
            np.testing.assert_allclose(rec.images[n], r[0].numpy(), atol=1e-5)


def test_deconvnet_differs_from_gradient_by_rectifying_the_signal(small_cnn):
    torch.manual_seed(4)
    x = torch.randn(1, 16, 16)
    rec = deconvnet(small_cnn, x, "4", channel=0, unit=(2, 2))
    inp = x[None].clone().requires_grad_(True)
    out = small_cnn[:5](inp)
    (grad,) = torch.autograd.grad(out[0, 0, 2, 2] * out[0, 0, 2, 2].detach(), inp)
    assert not np.allclose(rec.images[0], grad[0].numpy())
    assert small_cnn[1].inplace  # the in-place ReLU was restored


def test_keep_map_sums_the_units_of_a_single_conv():
    torch.manual_seed(5)
    conv = nn.Conv2d(1, 2, 3, bias=False)
    x = torch.randn(1, 8, 8)
    rec = deconvnet(nn.Sequential(conv), x, "0", channel=1, keep="map")
    a = conv(x[None]).detach()
    expected = F.conv_transpose2d(a[:, 1:2], conv.weight[1:2].detach())
    np.testing.assert_allclose(rec.images[0], expected[0].numpy(), atol=1e-5)


def test_receptive_field_of_a_chain(small_cnn):
    rf = receptive_field(small_cnn, (1, 16, 16), "4")
    # conv3 p1: size 3; pool2: 3 + 1 = 4, jump 2; conv3: 4 + 2·2 = 8, padding 1
    assert (rf.size, rf.stride, rf.padding) == ((8, 8), (2, 2), (1, 1))


def test_not_invertible_layer_is_named():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Conv2d(2, 2, 3))
    with pytest.raises(ConfigError, match=r"cannot go back through 1 \(Tanh\)"):
        deconvnet(model, torch.randn(1, 9, 9), "2")
    rec = deconvnet(model, torch.randn(1, 9, 9), "0")  # below the tanh it works
    assert rec.images.shape == (1, 1, 9, 9)


def test_bad_layer_channel_and_input(small_cnn):
    x = torch.randn(1, 16, 16)
    with pytest.raises(ConfigError, match=r"no layer named 'conv9'.*valid layers: 0, 1, 2"):
        deconvnet(small_cnn, x, "conv9")
    with pytest.raises(ConfigError, match=r"4 has 6 channels \(0…5\), got channel 7"):
        deconvnet(small_cnn, x, "4", channel=7)
    with pytest.raises(ShapeError, match=r"takes 1 input channel\(s\), the input has 3"):
        deconvnet(small_cnn, torch.randn(3, 16, 16), "4")
    with pytest.raises(ConfigError, match=r"maps are \(6, 6\); unit \(6, 0\) is outside"):
        deconvnet(small_cnn, x, "4", channel=0, unit=(6, 0))
    # a 2-D map given one coordinate (--unit 5) says how many it needs, not "outside"
    with pytest.raises(ConfigError, match=r"2 axes \(6, 6\); unit \(5,\) gives 1 coordinate"):
        deconvnet(small_cnn, x, "4", channel=0, unit=(5,))


def test_save_deconvnet_writes_png_and_refuses_overwrite(small_cnn, tmp_path):
    rec = deconvnet(small_cnn, torch.rand(2, 1, 16, 16), "3")
    path = save_deconvnet(rec, tmp_path / "d.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(FileExistsError):
        save_deconvnet(rec, tmp_path / "d.png")
    save_deconvnet(rec, tmp_path / "d.png", force=True)


def test_smooth_derivative_goes_through_tanh_by_its_derivative():
    torch.manual_seed(6)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Conv2d(2, 3, 3)).eval()
    x = torch.randn(1, 9, 9)
    rec = deconvnet(model, x, "2", channel=1, unit=(2, 3), smooth="derivative")
    inp = x[None].clone().requires_grad_(True)
    out = model(inp)[0, 1, 2, 3]
    (grad,) = torch.autograd.grad(out, inp)
    # no rectifier on the way: the reconstruction is activation × ∂unit/∂input
    np.testing.assert_allclose(rec.images[0], out.item() * grad[0].numpy(), atol=1e-6)
    with pytest.raises(ConfigError, match="smooth must be 'error' or 'derivative'"):
        deconvnet(model, x, "2", smooth="linear")


def test_deconvnet_through_residual_blocks_of_a_zoo_resnet():
    from striate.interpret._common import conv_layers
    from striate.zoo import create

    model = create("resnet20").eval()
    last = conv_layers(model)[-1]
    rec = deconvnet(model, torch.rand(3, 32, 32), last)
    assert rec.images.shape == (1, 3, 32, 32)
    assert np.abs(rec.images).sum() > 0
