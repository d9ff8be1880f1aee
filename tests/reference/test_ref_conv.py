"""The NumPy convolution (forward, backward, transposed) against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from striate.layers.errors import ConfigError, ShapeError
from striate.reference import (
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    flip_kernel,
    transposed_as_direct,
    zero_insert,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_case(draw):
    """A random small convolution whose kernel fits the padded input."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        smallest = max(d * (k - 1) + 1 - 2 * p, 1)
        size.append(draw(st.integers(smallest, smallest + 5)))
    n = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, c_in, *size))
    w = rng.normal(size=(c_out, c_in // groups, *kernel))
    b = rng.normal(size=c_out)
    return x, w, b, {"stride": stride, "padding": padding, "dilation": dilation,
                     "groups": groups}


def test_worked_example_of_the_notes():
    # Dive into Deep Learning §6.2, Fig. 6.1: 0·0 + 1·1 + 3·2 + 4·3 = 19, ...
    x = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]], dtype=float)[None, None]
    k = np.array([[0, 1], [2, 3]], dtype=float)[None, None]
    np.testing.assert_array_equal(conv2d(x, k)[0, 0], [[19, 25], [37, 43]])


def test_true_convolution_is_cross_correlation_with_the_flipped_kernel():
    # Convolution flips the kernel: y[0,0] = 0·3 + 1·2 + 3·1 + 4·0 = 5 for the example above.
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    k = np.arange(4.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(conv2d(x, flip_kernel(k))[0, 0], [[5, 11], [23, 29]])


@FAST
@given(conv_case())
def test_forward_matches_torch(case):
    x, w, b, opts = case
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **opts)
    np.testing.assert_allclose(conv2d(x, w, b, **opts), expected.numpy(), atol=1e-12)


@FAST
@given(conv_case())
def test_backward_matches_autograd(case):
    x, w, b, opts = case
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(tx, tw, tb, **opts)
    g = torch.from_numpy(np.random.default_rng(1).normal(size=tuple(y.shape)))
    (y * g).sum().backward()
    grads = conv2d_backward(g.numpy(), x, w, **opts)
    np.testing.assert_allclose(grads.grad_input, tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads.grad_weight, tw.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads.grad_bias, tb.grad.numpy(), atol=1e-12)


def test_shared_weight_gradient_is_the_sum_over_its_connections():
    # 1x1 kernel on a 3x3 input: the single weight connects all 9 positions, so its gradient
    # is Σ_(u,v) g[u,v]·x[u,v], written out here without the reference's loop.
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(1, 1, 3, 3)), rng.normal(size=(1, 1, 3, 3))
    grads = conv2d_backward(g, x, np.ones((1, 1, 1, 1)))
    assert grads.grad_weight[0, 0, 0, 0] == pytest.approx(sum(
        g[0, 0, u, v] * x[0, 0, u, v] for u in range(3) for v in range(3)))


@st.composite
def transposed_case(draw):
    groups = draw(st.integers(1, 2))
    c_in = groups * draw(st.integers(1, 2))
    c_out_group = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(stride, dilation, strict=True))
    size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    for n_in, k, s, p, d, op in zip(size, kernel, stride, padding, dilation, output_padding,
                                    strict=True):
        assume((n_in - 1) * s - 2 * p + d * (k - 1) + 1 + op > 0)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.normal(size=(draw(st.integers(1, 2)), c_in, *size))
    w = rng.normal(size=(c_in, c_out_group, *kernel))
    b = rng.normal(size=c_out_group * groups)
    return x, w, b, {"stride": stride, "padding": padding, "output_padding": output_padding,
                     "groups": groups, "dilation": dilation}


@FAST
@given(transposed_case())
def test_transposed_matches_torch(case):
    x, w, b, opts = case
    expected = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                  torch.from_numpy(b), **opts)
    np.testing.assert_allclose(conv_transpose2d(x, w, b, **opts), expected.numpy(), atol=1e-12)


@FAST
@given(conv_case())
def test_input_gradient_is_a_transposed_convolution(case):
    x, w, _, opts = case
    y = conv2d(x, w, **opts)
    g = np.random.default_rng(2).normal(size=y.shape)
    # The inputs the last window never reached make the transposed output that much shorter.
    dropped = tuple(
        (size + 2 * p - d * (k - 1) - 1) % s for size, k, s, p, d in zip(
            x.shape[2:], w.shape[2:], opts["stride"], opts["padding"], opts["dilation"],
            strict=True))
    back = conv_transpose2d(g, w, stride=opts["stride"], padding=opts["padding"],
                            output_padding=dropped, groups=opts["groups"],
                            dilation=opts["dilation"])
    np.testing.assert_allclose(back, conv2d_backward(g, x, w, **opts).grad_input, atol=1e-12)


def test_transposed_steps_of_the_notes():
    # K=3, S=2, P=0 on a 2x2 map: 1 zero inserted between values (3x3), padded "much" by
    # k − 1 − p = 2 on each side (7x7), then a 3x3 stride-1 convolution gives 5x5
    # = (2 − 1)·2 − 0 + 3 (Dumoulin & Visin 2016, relationship 10).
    x = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(zero_insert(x, 2)[0, 0], [[1, 0, 2], [0, 0, 0], [3, 0, 4]])
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    direct = transposed_as_direct(x, w, stride=2)
    assert direct.pad_before == (2, 2)
    assert direct.x.shape == (1, 1, 7, 7)
    np.testing.assert_array_equal(direct.weight[0, 0], w[0, 0, ::-1, ::-1])
    assert conv_transpose2d(x, w, stride=2).shape == (1, 1, 5, 5)
    # Padding larger than k_eff − 1 crops instead: k=1, p=1 removes a border.
    x4 = np.arange(16.0).reshape(1, 1, 4, 4)
    cropped = transposed_as_direct(x4, np.ones((1, 1, 1, 1)), padding=1)
    assert cropped.pad_before == (-1, -1)
    np.testing.assert_array_equal(cropped.x[0, 0], x4[0, 0, 1:3, 1:3])


def test_kernel_larger_than_padded_input_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"height axis: the window \(5\) is larger than the "
                                         r"padded input \(4\)"):
        conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 5, 5)))


def test_bad_options_are_config_errors():
    x = np.zeros((1, 4, 5, 5))
    with pytest.raises(ConfigError, match="stride must be an integer ≥ 1"):
        conv2d(x, np.zeros((2, 4, 3, 3)), stride=0)
    with pytest.raises(ConfigError, match="groups=3 must divide the 4 input channels"):
        conv2d(x, np.zeros((3, 1, 3, 3)), groups=3)
    with pytest.raises(ShapeError, match=r"does not match 4 input channels with groups=2"):
        conv2d(x, np.zeros((2, 4, 3, 3)), groups=2)
    with pytest.raises(ConfigError, match="output_padding=2 along height must be smaller"):
        conv_transpose2d(x, np.zeros((4, 1, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(ShapeError, match="add a batch axis"):
        conv2d(np.zeros((4, 5, 5)), np.zeros((2, 4, 3, 3)))
