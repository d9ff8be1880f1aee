"""The reference engine agrees with striate's own layers (not only with torch.functional)."""

import numpy as np
import torch

from striate.layers import BatchNorm2d, Conv2d, ConvTranspose2d, MaxPool2d
from striate.reference import (
    batch_norm,
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    flip_kernel,
    max_pool2d,
)


def _layer_out(layer, x):
    layer.double()
    return layer(torch.from_numpy(x)).detach().numpy()


def test_conv2d_layer_and_its_true_convolution_switch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 9, 8))
    for flip in (False, True):
        torch.manual_seed(0)
        layer = Conv2d(4, 6, 3, stride=2, padding=1, dilation=(1, 2), groups=2,
                       flip_kernel=flip)
        w = layer.weight.detach().double().numpy()
        b = layer.bias.detach().double().numpy()
        expected = conv2d(x, flip_kernel(w) if flip else w, b, stride=2, padding=1,
                          dilation=(1, 2), groups=2)
        np.testing.assert_allclose(_layer_out(layer, x), expected, atol=1e-12)


def test_conv2d_layer_weight_gradient_is_the_reference_sum():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2, 6, 6))
    layer = Conv2d(2, 3, 3, padding=1).double()
    y = layer(torch.from_numpy(x))
    g = rng.normal(size=tuple(y.shape))
    (y * torch.from_numpy(g)).sum().backward()
    grads = conv2d_backward(g, x, layer.weight.detach().numpy(), padding=1)
    np.testing.assert_allclose(layer.weight.grad.numpy(), grads.grad_weight, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), grads.grad_bias, atol=1e-12)


def test_conv_transpose2d_layer():
    x = np.random.default_rng(2).normal(size=(1, 4, 3, 3))
    layer = ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    w = layer.weight.detach().double().numpy()
    b = layer.bias.detach().double().numpy()
    expected = conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
    assert expected.shape == (1, 2, 6, 6)  # (3 − 1)·2 − 2·1 + 3 + 1 = 6
    np.testing.assert_allclose(_layer_out(layer, x), expected, atol=1e-12)


def test_max_pool_layer_switches():
    x = np.random.default_rng(3).normal(size=(2, 3, 7, 7))
    layer = MaxPool2d(3, stride=2, ceil_mode=True, return_indices=True)
    out, idx = layer(torch.from_numpy(x))
    ref_out, ref_idx = max_pool2d(x, 3, stride=2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref_out)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)


def test_batch_norm_layer_in_training_mode():
    x = np.random.default_rng(4).normal(3.0, 2.0, size=(4, 3, 5, 5))
    layer = BatchNorm2d(3).double().train()
    expected, _ = batch_norm(x, layer.weight.detach().numpy(), layer.bias.detach().numpy(),
                             eps=layer.eps)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(), expected,
                               atol=1e-12)
