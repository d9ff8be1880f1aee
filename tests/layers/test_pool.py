import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from striate.layers import (
    AvgPool1d,
    AvgPool2d,
    ConfigError,
    GlobalAvgPool1d,
    GlobalAvgPool2d,
    GlobalMaxPool1d,
    GlobalMaxPool2d,
    L2Pool2d,
    MaxoutPool,
    MaxPool1d,
    MaxPool2d,
    ShapeError,
    StochasticPool2d,
)
from striate.layers.base import RFParams


@settings(max_examples=40, deadline=None)
@given(
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    kernel=st.integers(1, 4),
    stride=st.one_of(st.none(), st.integers(1, 3)),
    padding=st.integers(0, 2),
    ceil_mode=st.booleans(),
    kind=st.sampled_from(["max", "avg", "l2", "stochastic"]),
)
def test_pool2d_output_shape_matches_forward(size, kernel, stride, padding, ceil_mode, kind):
    padding = min(padding, kernel // 2)
    if kind == "max":
        pool = MaxPool2d(kernel, stride, padding, ceil_mode=ceil_mode)
    elif kind == "avg":
        pool = AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode)
    elif kind == "l2":
        pool = L2Pool2d(kernel, stride, padding, ceil_mode=ceil_mode)
    else:
        pool = StochasticPool2d(kernel, stride, padding)
    x = torch.rand(1, 2, *size)
    try:
        expected = pool.output_shape((2, *size))
    except ShapeError:
        with pytest.raises(ShapeError):
            pool(x)
        return
    assert tuple(pool(x).shape[1:]) == expected
    assert pool.macs((2, *size)) == 0
    assert pool.rf() == RFParams((kernel,) * 2, (stride or kernel,) * 2, (padding,) * 2, (1, 1))


@settings(max_examples=25, deadline=None)
@given(length=st.integers(1, 16), kernel=st.integers(1, 4), stride=st.integers(1, 3),
       dilation=st.integers(1, 2), ceil_mode=st.booleans())
def test_pool1d_output_shape_matches_forward(length, kernel, stride, dilation, ceil_mode):
    x = torch.rand(1, 3, length)
    for pool in (MaxPool1d(kernel, stride, dilation=dilation, ceil_mode=ceil_mode),
                 AvgPool1d(kernel, stride, ceil_mode=ceil_mode)):
        try:
            expected = pool.output_shape((3, length))
        except ShapeError:
            continue
        assert tuple(pool(x).shape[1:]) == expected


def test_ceil_mode_keeps_the_last_partial_window():
    # GoogLeNet/Caffe: 112 -> 3x3/2 ceil -> 56 ; floor would give 55
    assert MaxPool2d(3, 2, ceil_mode=True).output_shape((64, 112, 112)) == (64, 56, 56)
    assert MaxPool2d(3, 2).output_shape((64, 112, 112)) == (64, 55, 55)
    assert MaxPool2d(3, 2).dropped_inputs((64, 112, 112)) == (1, 1)
    with pytest.raises(ShapeError, match=r"MaxPool2d\(k=3, s=2\): \(112 − 3 \+ 2·0\)/2 \+ 1 = "
                                         r"55.50 does not fit; use stride=1 or ceil_mode=True$"):
        MaxPool2d(3, 2).output_shape((64, 112, 112), strict=True)


def test_l2_pool_is_the_root_of_the_sum_of_squares():
    x = torch.tensor([[1.0, 2, 0, 0], [2, 4, 0, 3], [1, 1, 1, 1], [1, 1, 2, 0]]).view(1, 1, 4, 4)
    out = L2Pool2d(2)(x).view(2, 2)
    expected = [[math.sqrt(1 + 4 + 4 + 16), math.sqrt(0 + 0 + 0 + 9)],
                [math.sqrt(4), math.sqrt(1 + 1 + 4 + 0)]]
    torch.testing.assert_close(out, torch.tensor(expected))
    x.requires_grad_(True)
    L2Pool2d(2)(torch.zeros(1, 1, 2, 2, requires_grad=True)).sum().backward()  # finite grads


def test_global_average_pool():
    x = torch.arange(8.0).view(1, 2, 2, 2)
    assert GlobalAvgPool2d()(x).tolist() == [[1.5, 5.5]]
    assert GlobalAvgPool2d().output_shape((2, 7, 7)) == (2,)
    assert GlobalAvgPool2d(keepdim=True).output_shape((2, 7, 7)) == (2, 1, 1)
    assert GlobalAvgPool1d()(torch.ones(3, 4, 9)).shape == (3, 4)
    assert GlobalAvgPool2d().rf() is None
    seq = torch.tensor([[[0.0, 3, 1], [2, -1, 5]]])
    assert GlobalMaxPool1d()(seq).tolist() == [[3.0, 5.0]]
    assert GlobalMaxPool2d().output_shape((4, 3, 3)) == (4,)
    assert GlobalMaxPool2d(keepdim=True)(torch.ones(1, 4, 3, 3)).shape == (1, 4, 1, 1)


def test_pool_config_errors():
    with pytest.raises(ConfigError, match=r"padding must be at most half the kernel size. "
                                          r"Received: padding=2, kernel_size=3"):
        MaxPool2d(3, padding=2)
    with pytest.raises(ConfigError, match="Received: kernel_size=0"):
        AvgPool2d(0)
    with pytest.raises(ConfigError, match="Received: pool_size=0"):
        MaxoutPool(0)
