"""The shape arithmetic of sliding windows, each formula once, as pure functions on ints.

A window of size ``k`` with dilation ``d`` covers ``d·(k − 1) + 1`` inputs. On an input of
size ``W`` padded with ``P`` zeros on each side and moved with stride ``S`` it fits
``(W − k_eff + 2P)/S + 1`` times (the formula of the notes). When that is not an integer
PyTorch rounds down and the trailing inputs are never seen; Caffe's pooling rounds up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from striate.layers.errors import ConfigError, ShapeError


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Inputs covered by one window: ``d·(k − 1) + 1``."""
    return dilation * (kernel - 1) + 1


@dataclass(frozen=True)
class WindowFit:
    """How a window slides along one axis.

    Attributes:
        output: number of window positions (the output size).
        exact: ``(W − k_eff + P_before + P_after)/S + 1`` before rounding.
        dropped: trailing padded inputs that no window covers (0 when it fits exactly).
        overhang: cells the last window reaches past the padded input (``ceil_mode`` only).
        formula: the formula with the numbers, e.g. ``(7 − 3 + 2·0)/3 + 1 = 2.33``.
    """

    output: int
    exact: float
    dropped: int
    formula: str
    overhang: int = 0

    @property
    def fits(self) -> bool:
        return self.dropped == 0


def check_positive(name: str, value: object) -> int:
    """Return ``value`` if it is a positive int, else raise a ConfigError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return value


def window_fit(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] | int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> WindowFit:
    """Slide a window along one axis of ``size`` inputs.

    Shape:
        output = floor((W − d·(k−1) − 1 + P_before + P_after)/S) + 1   (ceil with ceil_mode;
        as in PyTorch and Caffe a last window must start inside the input or left padding)

    Raises:
        ShapeError: when the window is larger than the padded input (with the formula).
    """
    before, after = (padding, padding) if isinstance(padding, int) else padding
    if size <= 0:
        raise ShapeError(f"input size must be positive. Received: {size}")
    k_eff = effective_kernel(kernel, dilation)
    span = size + before + after - k_eff
    pad_txt = f"2·{before}" if before == after else f"{before} + {after}"
    k_txt = f"{k_eff}" if dilation == 1 else f"{k_eff} (kernel {kernel}, dilation {dilation})"
    exact = span / stride + 1
    formula = f"({size} − {k_txt} + {pad_txt})/{stride} + 1 = {_fmt(exact)}"
    if span < 0:
        raise ShapeError(
            f"the window ({k_eff}) is larger than the padded input ({size + before + after}): "
            f"{formula}; use a smaller kernel or more padding"
        )
    if ceil_mode:
        output = -(-span // stride) + 1
        # The last window must start inside the input or the left padding (PyTorch's rule).
        if (output - 1) * stride >= size + before:
            output -= 1
    else:
        output = span // stride + 1
    covered = (output - 1) * stride + k_eff
    dropped = max(size + before + after - covered, 0)
    overhang = max(covered - (size + before + after), 0)
    return WindowFit(output, exact, dropped, formula, overhang)


def fit_suggestion(
    size: int, kernel: int, stride: int, padding: int, dilation: int = 1, also: str = ""
) -> str:
    """Say which padding or stride would make the window fit exactly, e.g.
    ``use padding=1 or stride=2`` (``also`` is one more fix, e.g. ``ceil_mode=True``)."""
    k_eff = effective_kernel(kernel, dilation)
    options = []
    for p in range(padding + 1, padding + stride + 1):
        if (size - k_eff + 2 * p) % stride == 0:
            options.append(f"padding={p}")
            break
    span = size - k_eff + 2 * padding
    strides = [s for s in range(stride - 1, 0, -1) if span % s == 0]
    if strides:
        options.append(f"stride={strides[0]}")
    if also:
        options.append(also)
    return "use " + " or ".join(options) if options else "change the kernel size"


def require_fit(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: tuple[int, int] | int = 0,
    dilation: int = 1,
    describe: str = "",
    *,
    ceil_mode: bool = False,
    also: str = "",
) -> int:
    """Strict mode: the output size, or a ShapeError if trailing inputs would be dropped.

    The message reads ``(7 − 3 + 2·0)/3 + 1 = 2.33 does not fit; use padding=1 or stride=2``
    (``also`` is one more fix to suggest, e.g. ``ceil_mode=True`` for a pool).
    """
    fit = window_fit(size, kernel, stride, padding, dilation, ceil_mode)
    if not fit.fits:
        prefix = f"{describe}: " if describe else ""
        before = padding if isinstance(padding, int) else padding[0]
        raise ShapeError(
            f"{prefix}{fit.formula} does not fit; "
            f"{fit_suggestion(size, kernel, stride, before, dilation, also)}"
        )
    return fit.output


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's "same" padding: output ``ceil(W/S)``, the extra zero on the right/bottom.

    Works for strided convolutions too, which PyTorch's ``padding="same"`` refuses.
    """
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def causal_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """Left-only padding so that output ``t`` sees inputs ``≤ t`` only: ``(d·(k−1), 0)``."""
    return effective_kernel(kernel, dilation) - 1, 0


def transposed_output(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
    output_padding: int = 0,
) -> int:
    """Output size of a transposed convolution.

    Shape:
        output = (W − 1)·S − 2P + d·(k − 1) + 1 + output_padding
    """
    return (size - 1) * stride - 2 * padding + effective_kernel(kernel, dilation) + output_padding


def zero_inserted(size: int, stride: int) -> int:
    """Length after putting ``S − 1`` zeros between neighbouring inputs: ``(W − 1)·S + 1``
    (the first step of a transposed convolution written as a direct one)."""
    return (size - 1) * stride + 1


def transposed_direct_padding(kernel: int, padding: int = 0, dilation: int = 1) -> int:
    """Zeros on each side of the zero-inserted input, ``k_eff − 1 − P`` ("pad much" when the
    forward had no padding; negative means crop), so that a stride-1 window with the flipped
    kernel gives the transposed convolution."""
    return effective_kernel(kernel, dilation) - 1 - padding


def conv_params(in_channels: int, out_channels: int, kernel: tuple[int, ...], groups: int = 1,
                bias: bool = True) -> int:
    """Weights of a convolution, ``(prod(k)·C_in/groups)·C_out``, plus ``C_out`` biases."""
    weights = math.prod(kernel) * (in_channels // groups) * out_channels
    return weights + (out_channels if bias else 0)


def conv_macs(in_channels: int, out_shape: tuple[int, ...], kernel: tuple[int, ...],
              groups: int = 1) -> int:
    """Multiply-adds of a convolution: every output value is a dot product of
    ``prod(k)·C_in/groups`` terms. ``out_shape`` is ``(C_out, *spatial)``."""
    return math.prod(out_shape) * math.prod(kernel) * (in_channels // groups)


def transposed_conv_macs(in_shape: tuple[int, ...], out_channels: int, kernel: tuple[int, ...],
                         groups: int = 1) -> int:
    """Multiply-adds of a transposed convolution: every input value ``(C_in, *spatial)`` is
    multiplied by ``prod(k)·C_out/groups`` weights and scattered into the output."""
    return math.prod(in_shape) * math.prod(kernel) * (out_channels // groups)
