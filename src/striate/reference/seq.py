"""1-D versions for sequences ``(N, C, L)``: the 2-D reference with a height of one.

A 1-D convolution is a 2-D one whose input has a single row and whose kernel is ``1 × k``,
so these wrappers add that row, call the 2-D code and drop it again; nothing is computed
twice. Arguments follow ``torch.nn.functional.conv1d`` and friends.
"""

from __future__ import annotations

import numpy as np

from striate.layers.errors import ConfigError
from striate.reference import conv as _conv
from striate.reference import pool as _pool
from striate.reference._util import as_batch


def _int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be an integer ≥ {minimum}. Received: {name}={value!r}")
    return int(value)


def _rows(x: np.ndarray, name: str = "x") -> np.ndarray:
    """``(N, C, L) -> (N, C, 1, L)``."""
    if np.ndim(x) != 3:
        raise ConfigError(f"{name} must be a batch of sequences (N, C, L); received shape "
                          f"{np.shape(x)}; add a batch axis with x[None] for one sequence")
    return as_batch(name, np.asarray(x)[:, :, None, :])


def _kernel_rows(weight: np.ndarray) -> np.ndarray:
    """``(C_out, C_in/groups, k) -> (C_out, C_in/groups, 1, k)``."""
    if np.ndim(weight) != 3:
        raise ConfigError(f"a 1-D weight must have 3 dimensions; received shape "
                          f"{np.shape(weight)}")
    return np.asarray(weight)[:, :, None, :]


def conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int = 0, dilation: int = 1, groups: int = 1) -> np.ndarray:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``.

    Shape:
        ``(N, C_in, L) -> (N, C_out, L')``, ``L' = floor((L − d·(k − 1) − 1 + 2P)/S) + 1``
    """
    s, p, d = _int("stride", stride, 1), _int("padding", padding, 0), _int("dilation",
                                                                            dilation, 1)
    out = _conv.conv2d(_rows(x), _kernel_rows(weight), bias, (1, s), (0, p), (1, d), groups)
    return out[:, :, 0, :]


def conv1d_backward(grad_output: np.ndarray, x: np.ndarray, weight: np.ndarray,
                    stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1,
                    bias: bool = True) -> _conv.ConvGrads:
    """Gradients of :func:`conv1d` (a shared weight's gradient sums over its connections)."""
    s, p, d = _int("stride", stride, 1), _int("padding", padding, 0), _int("dilation",
                                                                            dilation, 1)
    g = _conv.conv2d_backward(_rows(grad_output, "grad_output"), _rows(x),
                              _kernel_rows(weight), (1, s), (0, p), (1, d), groups, bias)
    return _conv.ConvGrads(g.grad_input[:, :, 0, :], g.grad_weight[:, :, 0, :], g.grad_bias)


def conv_transpose1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                     stride: int = 1, padding: int = 0, output_padding: int = 0,
                     groups: int = 1, dilation: int = 1) -> np.ndarray:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    Shape:
        ``L' = (L − 1)·S − 2P + d·(k − 1) + 1 + output_padding``
    """
    s, p, d = _int("stride", stride, 1), _int("padding", padding, 0), _int("dilation",
                                                                            dilation, 1)
    op = _int("output_padding", output_padding, 0)
    out = _conv.conv_transpose2d(_rows(x), _kernel_rows(weight), bias, (1, s), (0, p),
                                 (0, op), groups, (1, d))
    return out[:, :, 0, :]


def max_pool1d(x: np.ndarray, kernel_size: int, stride: int | None = None, padding: int = 0,
               dilation: int = 1, ceil_mode: bool = False, return_indices: bool = False,
               ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """1-D max pooling; the switches index positions along ``L``."""
    k = _int("kernel_size", kernel_size, 1)
    s = k if stride is None else _int("stride", stride, 1)
    out, idx = _pool.max_pool2d(_rows(x), (1, k), (1, s), (0, _int("padding", padding, 0)),
                                (1, _int("dilation", dilation, 1)), ceil_mode,
                                return_indices=True)
    # Height 1: the row-major index h·L + l is already the position l.
    return (out[:, :, 0, :], idx[:, :, 0, :]) if return_indices else out[:, :, 0, :]


def avg_pool1d(x: np.ndarray, kernel_size: int, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``."""
    k = _int("kernel_size", kernel_size, 1)
    s = k if stride is None else _int("stride", stride, 1)
    out = _pool.avg_pool2d(_rows(x), (1, k), (1, s), (0, _int("padding", padding, 0)),
                           ceil_mode, count_include_pad)
    return out[:, :, 0, :]
