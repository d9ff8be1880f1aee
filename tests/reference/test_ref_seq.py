"""The 1-D (sequence) reference functions against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from striate.layers.errors import ConfigError
from striate.reference import (
    avg_pool1d,
    conv1d,
    conv1d_backward,
    conv_transpose1d,
    max_pool1d,
)

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(groups=st.integers(1, 2), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), extra=st.integers(0, 6), seed=st.integers(0, 2**16))
def test_conv1d_forward_backward_transposed(groups, k, s, p, d, extra, seed):
    rng = np.random.default_rng(seed)
    length = max(d * (k - 1) + 1 - 2 * p, 1) + extra
    x = rng.normal(size=(2, 2 * groups, length))
    w = rng.normal(size=(3 * groups, 2, k))
    b = rng.normal(size=3 * groups)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv1d(tx, tw, tb, stride=s, padding=p, dilation=d, groups=groups)
    np.testing.assert_allclose(conv1d(x, w, b, s, p, d, groups), y.detach().numpy(), atol=1e-12)
    g = rng.normal(size=tuple(y.shape))
    (y * torch.from_numpy(g)).sum().backward()
    grads = conv1d_backward(g, x, w, s, p, d, groups)
    np.testing.assert_allclose(grads.grad_input, tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads.grad_weight, tw.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads.grad_bias, tb.grad.numpy(), atol=1e-12)
    # Transposed: the weight read as (C_in, C_out/groups, k) for a map of y's channels.
    op = (length + 2 * p - d * (k - 1) - 1) % s
    expected = F.conv_transpose1d(torch.from_numpy(g), torch.from_numpy(w), None, s, p, op,
                                  groups, d)
    np.testing.assert_allclose(conv_transpose1d(g, w, None, s, p, op, groups, d),
                               expected.numpy(), atol=1e-12)


@FAST
@given(k=st.integers(1, 4), s=st.integers(1, 3), ceil=st.booleans(), extra=st.integers(0, 6),
       seed=st.integers(0, 2**16), data=st.data())
def test_pool1d(k, s, ceil, extra, seed, data):
    p = data.draw(st.integers(0, k // 2))
    x = np.random.default_rng(seed).normal(size=(2, 3, max(k - 2 * p, 1) + extra))
    out, idx = max_pool1d(x, k, s, p, ceil_mode=ceil, return_indices=True)
    t_out, t_idx = F.max_pool1d(torch.from_numpy(x), k, s, p, ceil_mode=ceil,
                                return_indices=True)
    np.testing.assert_array_equal(out, t_out.numpy())
    np.testing.assert_array_equal(idx, t_idx.numpy())
    np.testing.assert_allclose(avg_pool1d(x, k, s, p, ceil_mode=ceil),
                               F.avg_pool1d(torch.from_numpy(x), k, s, p, ceil_mode=ceil).numpy(),
                               atol=1e-12)


def test_1d_errors():
    with pytest.raises(ConfigError, match=r"batch of sequences \(N, C, L\)"):
        conv1d(np.zeros((3, 10)), np.zeros((2, 3, 3)))
    with pytest.raises(ConfigError, match="stride must be an integer ≥ 1"):
        conv1d(np.zeros((1, 3, 10)), np.zeros((2, 3, 3)), stride=0)
