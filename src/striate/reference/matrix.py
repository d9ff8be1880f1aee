"""Convolution written as a dense matrix with shared weights.

Flatten the input row by row into a vector ``x`` (16 values for a 4x4 image) and the
output likewise (4 values for the 2x2 output of a 3x3 kernel): the convolution is then
``y = C·x`` with a 4x16 matrix ``C`` whose rows all hold the same nine weights, shifted,
and zeros elsewhere — the matrix of the notes ("Can write convolution as dense
multiplication with shared weights"). Backpropagation multiplies the output gradient by
``Cᵀ``, and a transposed convolution is exactly ``Cᵀ·y``.
"""

from __future__ import annotations

import numpy as np

from striate.layers.errors import ConfigError, ShapeError
from striate.reference._util import Pair, out_size, pair


def connection_index(
    input_shape: tuple[int, int],
    kernel_size: Pair,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
) -> np.ndarray:
    """Which kernel weight connects each output position to each input position.

    ``index[r, c] = i·kw + j`` when weight ``w[i, j]`` links output ``r`` (row-major
    position ``u·W' + v``) to input ``c`` (row-major ``h·W + w``), and ``-1`` where they
    are not connected. Positions in the zero padding have no column: they contribute 0.

    Shape:
        ``(H'·W', H·W)``
    """
    h, w = pair("input size", tuple(input_shape))
    (kh, kw), (sh, sw) = pair("kernel_size", kernel_size), pair("stride", stride)
    (ph, pw), (dh, dw) = pair("padding", padding, minimum=0), pair("dilation", dilation)
    ho = out_size(h, kh, sh, ph, dh, "height")
    wo = out_size(w, kw, sw, pw, dw, "width")
    index = np.full((ho * wo, h * w), -1, dtype=np.int64)
    for u in range(ho):
        for v in range(wo):
            for i in range(kh):
                for j in range(kw):
                    row, col = u * sh + i * dh - ph, v * sw + j * dw - pw
                    if 0 <= row < h and 0 <= col < w:
                        index[u * wo + v, row * w + col] = i * kw + j
    return index


def conv_matrix(
    input_shape: tuple[int, ...],
    weight: np.ndarray,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
    groups: int = 1,
) -> np.ndarray:
    """The dense matrix ``C`` with ``conv2d(x, weight).ravel() == C @ x.ravel()``.

    Args:
        input_shape: ``(H, W)`` or ``(C_in, H, W)`` of one sample.
        weight: a single kernel ``(kh, kw)``, or PyTorch's ``(C_out, C_in/groups, kh, kw)``.

    Shape:
        ``(C_out·H'·W', C_in·H·W)``: block ``(o, c)`` is the single-channel matrix of kernel
        ``weight[o, c]`` when input channel ``c`` is in output channel ``o``'s group, else 0.

    Raises:
        ShapeError: when the kernel does not fit or the channels disagree.
    """
    weight = np.asarray(weight)
    if weight.ndim == 2:
        weight = weight[None, None]
    if weight.ndim != 4:
        raise ShapeError(f"weight must be (kh, kw) or (C_out, C_in/groups, kh, kw); "
                         f"received shape {weight.shape}")
    shape = tuple(input_shape)
    if len(shape) == 2:
        shape = (weight.shape[1] * groups, *shape)
    if len(shape) != 3:
        raise ShapeError(f"input_shape must be (H, W) or (C, H, W); received {input_shape}")
    c_in, h, w = shape
    c_out, c_group, kh, kw = weight.shape
    if groups < 1 or c_in != c_group * groups or c_out % groups:
        raise ConfigError(
            f"weight {weight.shape} with groups={groups} does not fit {c_in} input channels; "
            f"expected weight.shape[1]·groups = {c_in} and C_out divisible by groups"
        )
    index = connection_index((h, w), (kh, kw), stride, padding, dilation)
    rows, cols = index.shape
    matrix = np.zeros((c_out * rows, c_in * cols), dtype=np.result_type(weight, np.float64))
    linked = index >= 0
    per_group = c_out // groups
    for o in range(c_out):
        g = o // per_group
        for c in range(c_group):
            block = np.where(linked, weight[o, c].ravel()[np.maximum(index, 0)], 0.0)
            col = (g * c_group + c) * cols
            matrix[o * rows:(o + 1) * rows, col:col + cols] = block
    return matrix
