"""Readable NumPy reference implementations of what a CNN computes.

Convolution forward and backward (the gradient of a shared weight is the sum over its
connections), transposed convolution (zero insertion, heavy padding, flipped kernel),
max/average pooling, batch normalisation, 1-D versions for sequences, and convolution
written as a dense matrix ``C`` with shared weights (backprop and transposed convolution
multiply by ``Cᵀ``). Each is checked against ``torch.nn.functional`` in
``tests/reference``. Clarity before speed.
"""

from __future__ import annotations

from striate.reference.batchnorm import (
    BatchNormCache,
    batch_norm,
    batch_norm_backward,
    batch_norm_inference,
    update_running_stats,
)
from striate.reference.conv import (
    ConvGrads,
    TransposedAsDirect,
    conv2d,
    conv2d_backward,
    conv_transpose2d,
    flip_kernel,
    transposed_as_direct,
    zero_insert,
)
from striate.reference.matrix import connection_index, conv_matrix
from striate.reference.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_unpool2d,
)
from striate.reference.seq import (
    avg_pool1d,
    conv1d,
    conv1d_backward,
    conv_transpose1d,
    max_pool1d,
)

__all__ = [
    "BatchNormCache",
    "ConvGrads",
    "TransposedAsDirect",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_inference",
    "connection_index",
    "conv1d",
    "conv1d_backward",
    "conv2d",
    "conv2d_backward",
    "conv_matrix",
    "conv_transpose1d",
    "conv_transpose2d",
    "flip_kernel",
    "max_pool1d",
    "max_pool2d",
    "max_pool2d_backward",
    "max_unpool2d",
    "transposed_as_direct",
    "update_running_stats",
    "zero_insert",
]
