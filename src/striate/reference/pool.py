"""Max and average pooling in plain NumPy, forward and backward.

Pooling slides a window like a convolution but has no weights: max pooling keeps the largest
value of each window (and remembers where it was: the "switches" of DeconvNet and SegNet),
average pooling keeps the mean. The backward of max pooling routes each output gradient to
the one input that won; the backward of average pooling spreads it evenly over the window.
Arguments and results follow ``torch.nn.functional.max_pool2d`` / ``avg_pool2d``.
"""

from __future__ import annotations

import numpy as np

from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import window_fit
from striate.reference._util import Pair, as_batch, out_size, pad_hw, pair


def _geometry(x: np.ndarray, kernel_size: Pair, stride: Pair | None, padding: Pair,
              dilation: Pair, ceil_mode: bool) -> tuple:
    kernel = pair("kernel_size", kernel_size)
    stride = kernel if stride is None else pair("stride", stride)
    padding, dilation = pair("padding", padding, minimum=0), pair("dilation", dilation)
    for axis, k, p in zip(("height", "width"), kernel, padding, strict=True):
        # PyTorch's rule: otherwise a window could lie entirely in the padding.
        if p > k // 2:
            raise ConfigError(
                f"pooling padding={p} along {axis} is more than half the kernel ({k}); "
                f"use padding ≤ {k // 2}"
            )
    h, w = x.shape[-2:]
    out = tuple(out_size(size, k, s, p, d, axis, ceil_mode) for size, k, s, p, d, axis in
                zip((h, w), kernel, stride, padding, dilation, ("height", "width"), strict=True))
    for size, k, s, p, d, o, axis in zip((h, w), kernel, stride, padding, dilation, out,
                                         ("height", "width"), strict=True):
        for u in range(o):
            taps = [u * s - p + i * d for i in range(k)]
            if not any(0 <= t < size for t in taps):
                # A dilated window can step over every input and land on padding only.
                raise ShapeError(
                    f"{axis} axis: pooling window {u} covers padding only (positions {taps} "
                    f"of an input of {size}); use less padding or dilation"
                )
    # With ceil_mode the last window may stick out past the padding: pad a little more.
    extra = tuple(window_fit(size, k, s, p, d, ceil_mode).overhang for size, k, s, p, d in
                  zip((h, w), kernel, stride, padding, dilation, strict=True))
    return kernel, stride, padding, dilation, out, extra


def _window(u: int, v: int, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    (kh, kw), (dh, dw) = kernel, dilation
    h0, w0 = u * stride[0], v * stride[1]
    return (..., slice(h0, h0 + dh * (kh - 1) + 1, dh), slice(w0, w0 + dw * (kw - 1) + 1, dw))


def max_pool2d(
    x: np.ndarray,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    dilation: Pair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Max pooling; with ``return_indices`` also the switches.

    The switches are, per output value, the row-major index ``h·W + w`` of the winning input
    in its channel (PyTorch's convention; the first maximum wins a tie). Padding counts as
    ``−∞`` so it never wins.

    Shape:
        ``(N, C, H, W) -> (N, C, H', W')``, ``H' = floor((H − d·(k − 1) − 1 + 2P)/S) + 1``
        (``ceil`` with ``ceil_mode``); ``stride`` defaults to ``kernel_size``.
    """
    x = as_batch("x", x)
    kernel, stride, padding, dilation, (ho, wo), extra = _geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, _, w = x.shape
    xp = pad_hw(x, padding, (padding[0] + extra[0], padding[1] + extra[1]), value=-np.inf)
    out = np.empty((n, c, ho, wo), dtype=x.dtype)
    indices = np.empty((n, c, ho, wo), dtype=np.int64)
    for u in range(ho):
        for v in range(wo):
            patch = xp[_window(u, v, kernel, stride, dilation)].reshape(n, c, -1)
            best = patch.argmax(axis=-1)
            out[..., u, v] = np.take_along_axis(patch, best[..., None], axis=-1)[..., 0]
            i, j = np.divmod(best, kernel[1])
            row = u * stride[0] + i * dilation[0] - padding[0]
            col = v * stride[1] + j * dilation[1] - padding[1]
            indices[..., u, v] = row * w + col
    return (out, indices) if return_indices else out


def max_pool2d_backward(grad_output: np.ndarray, indices: np.ndarray,
                        input_shape: tuple[int, ...]) -> np.ndarray:
    """Route each output gradient to the input its switch points at.

    Overlapping windows (stride < kernel) can pick the same input: their gradients add up.

    Shape:
        ``grad_output`` and ``indices`` ``(N, C, H', W')`` -> ``input_shape`` ``(N, C, H, W)``.
    """
    grad_output = as_batch("grad_output", grad_output)
    if np.shape(indices) != grad_output.shape:
        raise ShapeError(f"indices {np.shape(indices)} and grad_output {grad_output.shape} "
                         "must have the same shape")
    n, c, h, w = input_shape
    grad = np.zeros((n, c, h * w), dtype=grad_output.dtype)
    flat_idx = np.asarray(indices).reshape(n, c, -1)
    samples, channels = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    # np.add.at accumulates repeated indices, unlike fancy-index assignment.
    np.add.at(grad, (samples[..., None], channels[..., None], flat_idx),
              grad_output.reshape(n, c, -1))
    return grad.reshape(n, c, h, w)


def max_unpool2d(x: np.ndarray, indices: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Put each value back where its switch says it came from, zeros elsewhere (SegNet).

    Shape:
        ``(N, C, H', W') -> (N, C, *output_size)``
    """
    x = as_batch("x", x)
    n, c = x.shape[:2]
    h, w = output_size
    out = np.zeros((n, c, h * w), dtype=x.dtype)
    flat_idx = np.asarray(indices).reshape(n, c, -1)
    if flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= h * w):
        raise ShapeError(f"switch index {flat_idx.max()} lies outside the {h}x{w} output; "
                         "pass the input size of the max pooling as output_size")
    np.put_along_axis(out, flat_idx, x.reshape(n, c, -1), axis=-1)
    return out.reshape(n, c, h, w)


def _divisors(size: int, kernel: int, stride: int, padding: int, outputs: int,
              count_include_pad: bool) -> np.ndarray:
    """Per output position along one axis: how many inputs its average divides by.

    As in PyTorch, a window is clipped to the padded input (the ceil_mode overhang never
    counts); without ``count_include_pad`` it is clipped to the input itself.
    """
    counts = np.empty(outputs, dtype=np.int64)
    for u in range(outputs):
        start = u * stride - padding
        end = min(start + kernel, size + padding)
        if not count_include_pad:
            start, end = max(start, 0), min(end, size)
        counts[u] = end - start
    return counts


def avg_pool2d(
    x: np.ndarray,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Average pooling: the mean of each window (zero padding counted by default).

    Shape:
        ``(N, C, H, W) -> (N, C, H', W')``, ``H' = floor((H − k + 2P)/S) + 1``.
    """
    x = as_batch("x", x)
    kernel, stride, padding, dilation, (ho, wo), extra = _geometry(
        x, kernel_size, stride, padding, 1, ceil_mode)
    n, c, h, w = x.shape
    xp = pad_hw(x, padding, (padding[0] + extra[0], padding[1] + extra[1]))
    div = np.outer(_divisors(h, kernel[0], stride[0], padding[0], ho, count_include_pad),
                   _divisors(w, kernel[1], stride[1], padding[1], wo, count_include_pad))
    out = np.empty((n, c, ho, wo), dtype=x.dtype)
    for u in range(ho):
        for v in range(wo):
            out[..., u, v] = xp[_window(u, v, kernel, stride, dilation)].sum(axis=(-2, -1))
    return out / div


def avg_pool2d_backward(
    grad_output: np.ndarray,
    input_shape: tuple[int, ...],
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Spread each output gradient evenly (``g / divisor``) over the inputs of its window.

    Shape:
        ``grad_output`` ``(N, C, H', W')`` -> ``input_shape`` ``(N, C, H, W)``.
    """
    grad_output = as_batch("grad_output", grad_output)
    n, c, h, w = input_shape
    probe = np.empty((1, 1, h, w))
    kernel, stride, padding, dilation, (ho, wo), extra = _geometry(
        probe, kernel_size, stride, padding, 1, ceil_mode)
    if grad_output.shape != (n, c, ho, wo):
        raise ShapeError(f"grad_output has shape {grad_output.shape}; the pooling's output "
                         f"is {(n, c, ho, wo)}")
    div = np.outer(_divisors(h, kernel[0], stride[0], padding[0], ho, count_include_pad),
                   _divisors(w, kernel[1], stride[1], padding[1], wo, count_include_pad))
    share = grad_output / div
    grad_p = np.zeros((n, c, h + 2 * padding[0] + extra[0], w + 2 * padding[1] + extra[1]),
                      dtype=grad_output.dtype)
    for u in range(ho):
        for v in range(wo):
            grad_p[_window(u, v, kernel, stride, dilation)] += share[..., u, v][..., None, None]
    return grad_p[..., padding[0]:padding[0] + h, padding[1]:padding[1] + w]
