"""NumPy max/average pooling (forward, backward, unpooling) against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from striate.layers.errors import ConfigError, ShapeError
from striate.reference import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_unpool2d,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pool_case(draw, dilated=True):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    size = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        smallest = max(d * (k - 1) + 1 - 2 * p, 1)
        size.append(draw(st.integers(smallest, smallest + 5)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.normal(size=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size))
    opts = {"kernel_size": kernel, "stride": stride, "padding": padding,
            "ceil_mode": draw(st.booleans())}
    if dilated:
        opts["dilation"] = dilation
    return x, opts


@FAST
@given(pool_case())
def test_max_pool_and_switches_match_torch(case):
    x, opts = case
    tx = torch.tensor(x, requires_grad=True)
    expected, switches = F.max_pool2d(tx, return_indices=True, **opts)
    if torch.isinf(expected).any():
        # A window without any input (torch leaves its max at −∞): the reference refuses it.
        with pytest.raises(ShapeError, match="covers padding only"):
            max_pool2d(x, **opts)
        return
    out, indices = max_pool2d(x, return_indices=True, **opts)
    np.testing.assert_array_equal(out, expected.detach().numpy())
    np.testing.assert_array_equal(indices, switches.numpy())
    g = np.random.default_rng(5).normal(size=out.shape)
    (expected * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(max_pool2d_backward(g, indices, x.shape), tx.grad.numpy(),
                               atol=1e-12)


@FAST
@given(pool_case(dilated=False), st.booleans())
def test_avg_pool_matches_torch(case, count_include_pad):
    x, opts = case
    tx = torch.tensor(x, requires_grad=True)
    expected = F.avg_pool2d(tx, count_include_pad=count_include_pad, **opts)
    out = avg_pool2d(x, count_include_pad=count_include_pad, **opts)
    np.testing.assert_allclose(out, expected.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(6).normal(size=out.shape)
    (expected * torch.from_numpy(g)).sum().backward()
    back = avg_pool2d_backward(g, x.shape, count_include_pad=count_include_pad, **opts)
    np.testing.assert_allclose(back, tx.grad.numpy(), atol=1e-12)


def test_unpooling_puts_values_back_at_the_switches():
    x = np.random.default_rng(7).normal(size=(2, 3, 6, 4))
    out, idx = max_pool2d(x, 2, return_indices=True)
    expected = F.max_unpool2d(torch.from_numpy(out), torch.from_numpy(idx), 2,
                              output_size=(6, 4))
    np.testing.assert_array_equal(max_unpool2d(out, idx, (6, 4)), expected.numpy())


def test_max_pool_gradient_goes_to_the_winner_only():
    x = np.array([[1.0, 5.0], [3.0, 2.0]])[None, None]
    out, idx = max_pool2d(x, 2, return_indices=True)
    assert out[0, 0, 0, 0] == 5.0
    assert idx[0, 0, 0, 0] == 1
    np.testing.assert_array_equal(max_pool2d_backward(np.ones((1, 1, 1, 1)), idx, x.shape)[0, 0],
                                  [[0, 1], [0, 0]])


def test_padding_more_than_half_the_kernel_is_refused():
    with pytest.raises(ConfigError, match=r"padding=2 along height is more than half the "
                                          r"kernel \(3\); use padding ≤ 1"):
        max_pool2d(np.zeros((1, 1, 5, 5)), 3, padding=2)


def test_dilated_window_on_padding_only_is_refused():
    # Rows −1 and 1 of a 1-row input: the window never touches it.
    with pytest.raises(ShapeError, match=r"height axis: pooling window 0 covers padding only"):
        max_pool2d(np.zeros((1, 1, 1, 1)), (2, 1), stride=1, padding=(1, 0), dilation=(2, 1))
