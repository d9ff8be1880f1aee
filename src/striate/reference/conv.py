"""Convolution in plain NumPy: forward, backward and transposed, written to be read.

Every function takes a batch ``x`` of shape ``(N, C, H, W)`` and a weight of PyTorch's
layout, and follows PyTorch's argument names, so that each result can be compared with
``torch.nn.functional``. Like every deep-learning library this computes the
*cross-correlation* ``y[u, v] = Σ x[u·S + d·i − P, v·S + d·j − P] · w[i, j]``; a true
convolution is the same with the kernel flipped (:func:`flip_kernel`).

The loops run over output positions (the window slides there), so that one line of the loop
body is one window's dot product. Output sizes come from :mod:`striate.layers.formulas`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import transposed_direct_padding, transposed_output, zero_inserted
from striate.reference._util import Pair, as_batch, out_size, pad_hw, pair


@dataclass(frozen=True)
class ConvGrads:
    """Gradients of a convolution's loss with respect to its input, weight and bias."""

    grad_input: np.ndarray
    grad_weight: np.ndarray
    grad_bias: np.ndarray | None


def _check_channels(c_in: int, weight: np.ndarray, groups: int, transposed: bool) -> None:
    if weight.ndim != 4:
        raise ShapeError(f"weight must have 4 dimensions. Received shape {weight.shape}")
    if groups < 1 or c_in % groups:
        raise ConfigError(
            f"groups={groups} must divide the {c_in} input channels; use a divisor of {c_in}"
        )
    if transposed:
        expected = (c_in, "C_out/groups")
        ok = weight.shape[0] == c_in
    else:
        expected = ("C_out", c_in // groups)
        ok = weight.shape[1] == c_in // groups and weight.shape[0] % groups == 0
    if not ok:
        raise ShapeError(
            f"weight of shape {weight.shape} does not match {c_in} input channels with "
            f"groups={groups}: expected (dim 0, dim 1) = {expected}"
        )


@dataclass(frozen=True)
class _ConvSetup:
    """The checked arguments of a direct convolution and its padded, grouped operands."""

    n: int
    c_in: int
    c_out: int
    out: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    weight_shape: tuple[int, ...]
    xp: np.ndarray  # (N, groups, C_in/groups, H + 2P, W + 2P)
    wg: np.ndarray  # (groups, C_out/groups, C_in/groups, kh, kw)

    @staticmethod
    def of(x: np.ndarray, weight: np.ndarray, stride: Pair, padding: Pair, dilation: Pair,
           groups: int) -> _ConvSetup:
        x = as_batch("x", x)
        weight = np.asarray(weight, dtype=x.dtype)
        stride, padding = pair("stride", stride), pair("padding", padding, minimum=0)
        dilation = pair("dilation", dilation)
        n, c_in, h, w = x.shape
        _check_channels(c_in, weight, groups, transposed=False)
        c_out, c_group, kh, kw = weight.shape
        out = (out_size(h, kh, stride[0], padding[0], dilation[0], "height"),
               out_size(w, kw, stride[1], padding[1], dilation[1], "width"))
        xp = pad_hw(x, padding, padding).reshape(n, groups, c_group, h + 2 * padding[0], -1)
        wg = weight.reshape(groups, c_out // groups, c_group, kh, kw)
        return _ConvSetup(n, c_in, c_out, out, (kh, kw), stride, padding, dilation,
                          weight.shape, xp, wg)


def flip_kernel(weight: np.ndarray) -> np.ndarray:
    """Rotate every kernel by 180° (flip both spatial axes): cross-correlation ↔ convolution."""
    return np.asarray(weight)[..., ::-1, ::-1].copy()


def _window(h0: int, w0: int, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple:
    """Index of the ``kh × kw`` inputs a window starting at ``(h0, w0)`` touches."""
    (kh, kw), (dh, dw) = kernel, dilation
    return (..., slice(h0, h0 + dh * (kh - 1) + 1, dh), slice(w0, w0 + dw * (kw - 1) + 1, dw))


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    Args:
        x: input batch ``(N, C_in, H, W)``.
        weight: ``(C_out, C_in/groups, kh, kw)``; output channel ``o`` of group ``g`` sees
            only the input channels of group ``g``.

    Shape:
        ``(N, C_out, H', W')`` with ``H' = floor((H − d·(kh − 1) − 1 + 2P)/S) + 1``.

    Raises:
        ShapeError: when the kernel is larger than the padded input or the channels disagree.
        ConfigError: for a stride/dilation < 1, negative padding or groups not dividing C_in.
    """
    c = _ConvSetup.of(x, weight, stride, padding, dilation, groups)
    n, c_out, (ho, wo), (kh, kw), xp, wg = c.n, c.c_out, c.out, c.kernel, c.xp, c.wg
    out = np.zeros((n, groups, c_out // groups, ho, wo), dtype=xp.dtype)
    for u in range(ho):
        for v in range(wo):
            patch = xp[_window(u * c.stride[0], v * c.stride[1], (kh, kw), c.dilation)]
            # One window's dot product, for every sample, group and output channel at once.
            out[..., u, v] = np.einsum("ngckl,gockl->ngo", patch, wg)
    out = out.reshape(n, c_out, ho, wo)
    if bias is not None:
        out = out + np.asarray(bias, dtype=out.dtype).reshape(1, c_out, 1, 1)
    return out


def conv2d_backward(
    grad_output: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
    groups: int = 1,
    bias: bool = True,
) -> ConvGrads:
    """Gradients of :func:`conv2d` given the gradient of the loss at its output.

    The weights are *shared*: the same ``w[o, c, i, j]`` connects every output position
    ``(u, v)`` (and every sample) to its input ``x[c, u·S + d·i − P, v·S + d·j − P]``. So
    its gradient is the **sum of the contributions of every connection that shares it**,
    ``∂L/∂w[o, c, i, j] = Σ_n Σ_(u,v) ∂L/∂y[n, o, u, v] · x[n, c, u·S + d·i − P, …]``,
    the "variant of backpropagation" of the notes. The input gradient scatters each output
    gradient back through the window it came from, which is a transposed convolution of
    ``grad_output`` (the matrix ``Cᵀ`` of :func:`striate.reference.matrix.conv_matrix`).
    The bias gradient sums ``grad_output`` over samples and positions.

    Shape:
        ``grad_output`` is :func:`conv2d`'s output shape; the gradients have the shapes of
        ``x``, ``weight`` and ``(C_out,)``.
    """
    c = _ConvSetup.of(x, weight, stride, padding, dilation, groups)
    n, c_out, (ho, wo), (kh, kw), xp, wg = c.n, c.c_out, c.out, c.kernel, c.xp, c.wg
    stride, padding = c.stride, c.padding
    grad_output = as_batch("grad_output", grad_output)
    if grad_output.shape != (n, c_out, ho, wo):
        raise ShapeError(
            f"grad_output has shape {grad_output.shape}; the convolution's output is "
            f"{(n, c_out, ho, wo)}"
        )
    gg = grad_output.reshape(n, groups, c_out // groups, ho, wo)
    grad_xp = np.zeros_like(xp)
    grad_wg = np.zeros_like(wg)
    for u in range(ho):
        for v in range(wo):
            where = _window(u * stride[0], v * stride[1], (kh, kw), c.dilation)
            g = gg[..., u, v]  # (N, groups, C_out/groups): this position's output gradients
            # Each connection adds its share; the loop over positions is the sum over them.
            grad_wg += np.einsum("ngo,ngckl->gockl", g, xp[where])
            grad_xp[where] += np.einsum("ngo,gockl->ngckl", g, wg)
    grad_x = pad_hw(grad_xp.reshape(n, c.c_in, *grad_xp.shape[-2:]),
                    (-padding[0], -padding[1]), (-padding[0], -padding[1]))
    grad_b = grad_output.sum(axis=(0, 2, 3)) if bias else None
    return ConvGrads(grad_x, grad_wg.reshape(c.weight_shape), grad_b)


def zero_insert(x: np.ndarray, stride: Pair) -> np.ndarray:
    """Put ``S − 1`` zeros between neighbouring inputs along H and W.

    Shape:
        ``(…, H, W) -> (…, (H − 1)·S_h + 1, (W − 1)·S_w + 1)``
    """
    sh, sw = pair("stride", stride)
    x = np.asarray(x)
    out = np.zeros((*x.shape[:-2], zero_inserted(x.shape[-2], sh),
                    zero_inserted(x.shape[-1], sw)), dtype=x.dtype)
    out[..., ::sh, ::sw] = x
    return out


@dataclass(frozen=True)
class TransposedAsDirect:
    """A transposed convolution rewritten as a stride-1 direct convolution.

    Attributes:
        x: the input with ``S − 1`` zeros inserted between values and padded by
            ``pad_before = k_eff − 1 − P`` (plus ``output_padding`` after); a negative
            amount crops.
        weight: the kernel flipped by 180° with input and output channels swapped,
            ``(C_out, C_in/groups, kh, kw)``.
    """

    x: np.ndarray
    weight: np.ndarray
    pad_before: tuple[int, int]
    pad_after: tuple[int, int]


def transposed_as_direct(
    x: np.ndarray,
    weight: np.ndarray,
    stride: Pair = 1,
    padding: Pair = 0,
    output_padding: Pair = 0,
    groups: int = 1,
    dilation: Pair = 1,
) -> TransposedAsDirect:
    """The direct convolution equivalent to :func:`conv_transpose2d`.

    Three steps, as in the notes and Dumoulin & Visin (2016), "A guide to convolution
    arithmetic", §4: insert zeros between the inputs when the forward had a stride; pad with
    ``k_eff − 1 − P`` zeros ("pad much" when the forward had no padding); flip the kernel.

    Raises:
        ConfigError: when ``output_padding`` is not smaller than the stride or the dilation
            (PyTorch's rule: larger values would add outputs no input reaches).
    """
    x = as_batch("x", x)
    weight = np.asarray(weight, dtype=x.dtype)
    stride, padding = pair("stride", stride), pair("padding", padding, minimum=0)
    dilation = pair("dilation", dilation)
    output_padding = pair("output_padding", output_padding, minimum=0)
    _, c_in, h, w = x.shape
    _check_channels(c_in, weight, groups, transposed=True)
    for axis, op, s, d in zip(("height", "width"), output_padding, stride, dilation,
                              strict=True):
        if op >= max(s, d):
            raise ConfigError(
                f"output_padding={op} along {axis} must be smaller than the stride ({s}) or "
                f"the dilation ({d}); use output_padding ≤ {max(s, d) - 1}"
            )
    kh, kw = weight.shape[-2:]
    sizes = [transposed_output(size, k, s, p, d, op) for size, k, s, p, d, op in
             zip((h, w), (kh, kw), stride, padding, dilation, output_padding, strict=True)]
    if min(sizes) <= 0:
        raise ShapeError(
            f"the transposed convolution's output would be {sizes[0]}x{sizes[1]}: "
            f"(W − 1)·S − 2P + d·(k − 1) + 1 ≤ 0; use less padding"
        )
    before = tuple(transposed_direct_padding(k, p, d)
                   for k, d, p in zip((kh, kw), dilation, padding, strict=True))
    after = tuple(b + op for b, op in zip(before, output_padding, strict=True))
    x_direct = pad_hw(zero_insert(x, stride), before, after)
    c_group, o_group = c_in // groups, weight.shape[1]
    w_direct = (weight.reshape(groups, c_group, o_group, kh, kw)
                .transpose(0, 2, 1, 3, 4)
                .reshape(groups * o_group, c_group, kh, kw))
    return TransposedAsDirect(x_direct, flip_kernel(w_direct), before, after)


def conv_transpose2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
    output_padding: Pair = 0,
    groups: int = 1,
    dilation: Pair = 1,
) -> np.ndarray:
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Computed the way the notes explain it: zero insertion between the inputs for a stride,
    "heavy" padding of ``k_eff − 1 − P``, and a stride-1 convolution with the flipped kernel
    (:func:`transposed_as_direct`). It equals multiplying by ``Cᵀ``, the transpose of the
    forward convolution's matrix, and the input gradient of :func:`conv2d_backward`.

    Args:
        weight: ``(C_in, C_out/groups, kh, kw)``, PyTorch's layout for transposed convolution
            (the forward convolution's weight, read the other way).

    Shape:
        ``H' = (H − 1)·S − 2P + d·(kh − 1) + 1 + output_padding``
    """
    direct = transposed_as_direct(x, weight, stride, padding, output_padding, groups, dilation)
    return conv2d(direct.x, direct.weight, bias, stride=1, padding=0, dilation=dilation,
                  groups=groups)
