"""Convolution as a dense matrix C: forward is C·x, backprop is Cᵀ·g, transposed is Cᵀ·y."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from striate.layers.errors import ConfigError, ShapeError
from striate.reference import (
    connection_index,
    conv2d,
    conv2d_backward,
    conv_matrix,
    conv_transpose2d,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_4x16_matrix_of_the_notes():
    # Course notes, "Backpropagating on Convolution": 4x4 input, 3x3 kernel, 2x2 output.
    # Row u·2 + v holds w[i, j] in column (u + i)·4 + (v + j); the notes' layout, row 1:
    # w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0 0.
    w = np.arange(9.0).reshape(3, 3)
    index = connection_index((4, 4), 3)
    assert index.shape == (4, 16)
    expected = np.full((4, 16), -1)
    for u in range(2):
        for v in range(2):
            for i in range(3):
                for j in range(3):
                    expected[u * 2 + v, (u + i) * 4 + (v + j)] = i * 3 + j
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(index[0], [0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, -1, -1, -1,
                                             -1])
    c = conv_matrix((4, 4), w)
    np.testing.assert_array_equal(c[3], [0, 0, 0, 0, 0, 0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8])
    # Every row shares the same nine weights.
    assert all(sorted(row[row != 0]) == list(range(1, 9)) for row in c)


@st.composite
def matrix_case(draw):
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        smallest = max(d * (k - 1) + 1 - 2 * p, 1)
        size.append(draw(st.integers(smallest, smallest + 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.normal(size=(1, c_in, *size))
    w = rng.normal(size=(c_out, c_in // groups, *kernel))
    return x, w, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@FAST
@given(matrix_case())
def test_forward_is_c_times_x_and_backprop_is_c_transpose(case):
    x, w, opts = case
    c = conv_matrix(x.shape[1:], w, **opts)
    y = conv2d(x, w, **opts)
    np.testing.assert_allclose(c @ x.ravel(), y.ravel(), atol=1e-12)
    g = np.random.default_rng(3).normal(size=y.shape)
    grad_x = conv2d_backward(g, x, w, **opts).grad_input
    np.testing.assert_allclose(c.T @ g.ravel(), grad_x.ravel(), atol=1e-12)


@FAST
@given(matrix_case())
def test_transposed_convolution_is_c_transpose_times_y(case):
    x, w, opts = case
    c = conv_matrix(x.shape[1:], w, **opts)
    y = np.random.default_rng(4).normal(size=conv2d(x, w, **opts).shape)
    # output_padding restores the inputs the forward's last window did not reach.
    dropped = tuple((n + 2 * p - d * (k - 1) - 1) % s for n, k, s, p, d in zip(
        x.shape[2:], w.shape[2:], opts["stride"], opts["padding"], opts["dilation"],
        strict=True))
    t = conv_transpose2d(y, w, output_padding=dropped, **opts)
    assert t.shape == x.shape
    np.testing.assert_allclose(t.ravel(), c.T @ y.ravel(), atol=1e-12)


def test_padding_positions_have_no_column():
    # 3x3 input, 3x3 kernel, padding 1: 9 outputs; the corner output sees only 4 inputs.
    index = connection_index((3, 3), 3, padding=1)
    assert index.shape == (9, 9)
    assert (index[0] >= 0).sum() == 4
    assert (index[4] >= 0).sum() == 9


def test_errors():
    with pytest.raises(ShapeError, match="larger than the padded input"):
        conv_matrix((2, 2), np.ones((3, 3)))
    with pytest.raises(ConfigError, match="does not fit 3 input channels"):
        conv_matrix((3, 4, 4), np.ones((2, 2, 3, 3)))
