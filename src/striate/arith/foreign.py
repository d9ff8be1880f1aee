"""Arithmetic of plain ``torch.nn`` modules, by type, through the formulas of striate layers.

A striate layer knows its own multiply-adds and window (``macs``, ``rf``); a module written
for plain PyTorch does not, so this module dispatches on its type to small functions that
call :mod:`striate.layers.formulas`. Conventions (those of the ResNet paper and of
torchvision's tables): multiply-adds are counted for convolution and dense layers only;
pooling, normalisation, activations, dropout and reshapes count 0. A module of an unknown
type with parameters gets ``None`` (shown as ``?``), never a silent 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn
from torch.nn.parameter import is_lazy

from striate.layers import formulas
from striate.layers._util import channels_fix
from striate.layers._window import ceil_fix
from striate.layers.base import Layer
from striate.layers.errors import ShapeError, StriateError

Shape = tuple[int, ...]

# torch.nn module files whose layers have no multiply-adds by our convention.
_ZERO_MAC_FILES = {
    "activation", "pooling", "normalization", "batchnorm", "instancenorm", "dropout",
    "flatten", "padding", "upsampling", "pixelshuffle", "channelshuffle", "sparse", "fold",
    "distance",
}
# Modules whose output is a view of (or the same storage as) their input: no new memory.
_VIEW_TYPES = (nn.Flatten, nn.Unflatten, nn.Identity)


@dataclass(frozen=True)
class Window:
    """A sliding window along each spatial axis (one entry per axis)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad_before: tuple[int, ...]
    pad_after: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False
    approximate: bool = False

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        return tuple(formulas.effective_kernel(k, d)
                     for k, d in zip(self.kernel, self.dilation, strict=True))


def _tup(value: object, n: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    values = tuple(int(v) for v in value)  # type: ignore[union-attr]
    return values * n if len(values) == 1 else values


def is_striate(module: nn.Module) -> bool:
    """True for a striate layer or block (it carries its own arithmetic)."""
    return isinstance(module, Layer)


def _conv_padding(module: nn.Module, n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    pad = module.padding
    kernel, dilation = _tup(module.kernel_size, n), _tup(module.dilation, n)
    if pad == "valid":
        return (0,) * n, (0,) * n
    if pad == "same":
        # PyTorch's "same" (stride 1 only) is TensorFlow's: the odd zero on the right/bottom.
        pads = [formulas.same_padding(1, k, 1, d) for k, d in zip(kernel, dilation, strict=True)]
        return tuple(b for b, _ in pads), tuple(a for _, a in pads)
    before = _tup(pad, n)
    return before, before


def _striate_window(module: Layer, in_spatial: Shape, out_spatial: Shape) -> Window | None:
    params = module.rf()
    if params is None:
        return None
    n = len(in_spatial)
    kernel, stride = _tup(params.kernel, n), _tup(params.stride, n)
    before, dilation = _tup(params.padding, n), _tup(params.dilation, n)
    ceil_mode = bool(getattr(module, "ceil_mode", False))
    after = []
    for i in range(n):
        k_eff = formulas.effective_kernel(kernel[i], dilation[i])
        # rf() gives the left padding only; assume symmetric unless the output says otherwise.
        sym = (in_spatial[i] + 2 * before[i] - k_eff) // stride[i] + 1
        if i < len(out_spatial) and sym != out_spatial[i]:
            after.append(max(0, (out_spatial[i] - 1) * stride[i] + k_eff
                             - in_spatial[i] - before[i]))
        else:
            after.append(before[i])
    return Window(kernel, stride, before, tuple(after), dilation, ceil_mode)


def _adaptive_window(in_spatial: Shape, out_spatial: Shape) -> Window:
    kernel, stride, approx = [], [], False
    for size, out in zip(in_spatial, out_spatial, strict=True):
        if size % out == 0:
            kernel.append(size // out)
            stride.append(size // out)
        else:
            # PyTorch's windows start at floor(i·W/O) and end at ceil((i+1)·W/O): not uniform.
            approx = True
            kernel.append(max(-(-(i + 1) * size // out) - (i * size // out) for i in range(out)))
            stride.append(max(size // out, 1))
    n = len(in_spatial)
    return Window(tuple(kernel), tuple(stride), (0,) * n, (0,) * n, (1,) * n, False, approx)


def window(module: nn.Module, in_spatial: Shape, out_spatial: Shape) -> Window | None:
    """The window ``module`` slides over its input's spatial axes, or None if it slides none.

    ``in_spatial``/``out_spatial`` are the spatial sizes (per-sample shape without channels).
    Transposed convolutions and upsampling return None (their receptive field is not a
    window of the input); the caller tells shape-preserving layers from those by the shapes.
    """
    n = len(in_spatial)
    if n == 0:
        return None
    if is_striate(module):
        return _striate_window(module, in_spatial, out_spatial)
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        before, after = _conv_padding(module, n)
        return Window(_tup(module.kernel_size, n), _tup(module.stride, n), before, after,
                      _tup(module.dilation, n))
    if isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
                           nn.modules.pooling._LPPoolNd)):
        kernel = _tup(module.kernel_size, n)
        stride = _tup(module.stride if module.stride else module.kernel_size, n)
        pad = _tup(getattr(module, "padding", 0), n)
        dilation = _tup(getattr(module, "dilation", 1), n)
        return Window(kernel, stride, pad, pad, dilation, bool(module.ceil_mode))
    if isinstance(module, (nn.modules.pooling._AdaptiveAvgPoolNd,
                           nn.modules.pooling._AdaptiveMaxPoolNd)):
        if len(out_spatial) != n:
            return None
        return _adaptive_window(in_spatial, out_spatial)
    if isinstance(module, (nn.modules.padding._ConstantPadNd, nn.modules.padding._ReflectionPadNd,
                           nn.modules.padding._ReplicationPadNd, nn.ZeroPad1d, nn.ZeroPad2d,
                           nn.ZeroPad3d, nn.modules.padding._CircularPadNd)):
        pads = _tup(module.padding, 2 * n)
        # torch lists (left, right) of the last axis first.
        before = tuple(pads[2 * (n - 1 - i)] for i in range(n))
        after = tuple(pads[2 * (n - 1 - i) + 1] for i in range(n))
        return Window((1,) * n, (1,) * n, before, after, (1,) * n)
    return None


def describe(module: nn.Module, win: Window | None = None) -> str:
    """A short label for messages, e.g. ``Conv2d k=3 s=3`` or ``MaxPool2d k=2 s=2``."""
    name = type(module).__name__
    if win is None:
        return name

    def one(values: tuple[int, ...]) -> str:
        return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))

    text = f"{name} k={one(win.kernel)} s={one(win.stride)}"
    if any(win.pad_before):
        text += f" p={one(win.pad_before)}"
    if any(d != 1 for d in win.dilation):
        text += f" d={one(win.dilation)}"
    return text


def check_input(module: nn.Module, in_shape: Shape, where: str) -> None:
    """Before a leaf runs: a located, one-line ShapeError for the common mistakes (a window
    larger than the padded input, wrong channel or feature counts) instead of the message of
    PyTorch's meta kernels."""
    name = type(module).__name__
    if isinstance(module, nn.Linear) and not is_lazy(module.weight) and in_shape and \
            in_shape[-1] != module.in_features:
        hint = (f"put a Flatten before it ({'·'.join(map(str, in_shape))} = "
                f"{math.prod(in_shape)} features)" if len(in_shape) > 1 else
                f"use in_features={in_shape[-1]}")
        raise ShapeError(f"expects {module.in_features} input features on the last axis but "
                         f"received shape {tuple(in_shape)}; {hint}").at(f"{where} ({name})")
    rank = len(module.kernel_size) + 1 if isinstance(module, nn.modules.conv._ConvNd) else 0
    if rank and len(in_shape) == rank + 1:
        # (1, 1, 28, 28) would otherwise read as three spatial axes of a one-channel input
        raise ShapeError(f"expects a per-sample input with {rank} axes (C, …) but received "
                         f"shape {tuple(in_shape)}; shapes are per sample, without the batch "
                         f"axis: use {tuple(in_shape[1:])}").at(f"{where} ({name})")
    if rank and len(in_shape) >= 2 and in_shape[0] != module.in_channels:
        raise ShapeError(f"expects {module.in_channels} input channels but received shape "
                         f"{tuple(in_shape)} ({in_shape[0]} channels); "
                         f"{channels_fix(in_shape, module.in_channels, verb='use')}"
                         ).at(f"{where} ({name})")
    ranks = {nn.BatchNorm1d: (1, 2), nn.BatchNorm2d: (3,), nn.BatchNorm3d: (4,)}
    for kind, allowed in ranks.items():
        if isinstance(module, kind) and len(in_shape) not in allowed:
            raise ShapeError(f"expects per-sample inputs with {' or '.join(map(str, allowed))} "
                             f"axes but received shape {tuple(in_shape)}; use "
                             f"BatchNorm{len(in_shape) - 1 if len(in_shape) > 1 else 1}d"
                             ).at(f"{where} ({name})")
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and in_shape and \
            in_shape[0] != module.num_features:
        raise ShapeError(f"expects {module.num_features} channels but received shape "
                         f"{tuple(in_shape)}; use num_features={in_shape[0]}"
                         ).at(f"{where} ({name})")
    if len(in_shape) >= 2:
        _check_window(module, tuple(in_shape[1:]), where)


def _check_window(module: nn.Module, in_spatial: Shape, where: str) -> None:
    if is_striate(module) and getattr(module, "padding_spec", None) in ("same", "causal"):
        # "same"/"causal" padding depends on the input size and may be asymmetric, which
        # rf() alone cannot tell; the layer checks its own input in forward.
        return
    win = window(module, in_spatial, ())
    if win is None or win.approximate:
        return
    for i, size in enumerate(in_spatial):
        try:
            formulas.window_fit(size, win.kernel[i], win.stride[i],
                                (win.pad_before[i], win.pad_after[i]), win.dilation[i],
                                win.ceil_mode)
        except ShapeError as err:
            raise err.at(f"{where} ({describe(module, win)})") from None


def dropped(module: nn.Module, in_shape: Shape, out_shape: Shape) -> tuple[int, ...]:
    """Trailing real inputs per spatial axis that no window covers (PyTorch rounds the
    output size down), or ``()`` when every input is seen. A dropped padding zero does not
    count: ResNet's 7x7/2 convolution with padding 3 on 224 inputs loses only padding.
    Shapes are per sample, channels first."""
    in_spatial, out_spatial = tuple(in_shape[1:]), tuple(out_shape[1:])
    win = window(module, in_spatial, out_spatial)
    if win is None and is_striate(module) and hasattr(module, "dropped_inputs"):
        try:
            value = tuple(module.dropped_inputs(tuple(in_shape)))
        except (StriateError, TypeError, ValueError):
            value = ()  # a layer that cannot say; its forward already succeeded
        return value if any(value) else ()
    if win is None or win.approximate:
        return ()
    result = []
    for i, size in enumerate(in_spatial):
        fit = formulas.window_fit(size, win.kernel[i], win.stride[i],
                                  (win.pad_before[i], win.pad_after[i]), win.dilation[i],
                                  win.ceil_mode)
        result.append(max(fit.dropped - win.pad_after[i], 0))
    return tuple(result) if any(result) else ()


def strict_check(module: nn.Module, in_shape: Shape, out_shape: Shape, where: str) -> None:
    """Strict mode: a located ShapeError with the formula and a fix when inputs are dropped,
    e.g. ``features.3 (Conv2d k=3 s=3): (7 − 3 + 2·0)/3 + 1 = 2.33 does not fit; use
    padding=1 or stride=2``."""
    lost = dropped(module, in_shape, out_shape)
    if not lost:
        return
    win = window(module, tuple(in_shape[1:]), tuple(out_shape[1:]))
    label = f"{where} ({describe(module, win)})"
    if win is not None:
        for i, size in enumerate(in_shape[1:]):
            if lost[i]:
                formulas.require_fit(size, win.kernel[i], win.stride[i],
                                     (win.pad_before[i], win.pad_after[i]), win.dilation[i],
                                     label, ceil_mode=win.ceil_mode, also=ceil_fix(module))
    raise ShapeError(f"{label}: the last {lost} inputs per axis are never seen; change the "
                     "padding or the stride so that the windows cover the input")


def macs(module: nn.Module, in_shapes: list[Shape], out_shapes: list[Shape]) -> int | None:
    """Multiply-adds of one sample through ``module``, or None when the type is unknown.

    Shapes are per sample (no batch dimension), channels first.
    """
    if not out_shapes:
        return 0
    out = out_shapes[0]
    if is_striate(module) and not any(True for _ in module.children()):
        if len(in_shapes) > 1:
            try:
                return int(module.macs(*in_shapes))
            except TypeError:
                pass  # merges such as Add take one shape in macs()
        return int(module.macs(in_shapes[0] if in_shapes else ()))
    if isinstance(module, nn.modules.conv._ConvNd):
        kernel = _tup(module.kernel_size, len(out) - 1)
        if module.transposed:
            # Each input value meets every weight of its group: the forward of the transpose.
            return formulas.conv_macs(module.out_channels, in_shapes[0], kernel, module.groups)
        return formulas.conv_macs(module.in_channels, out, kernel, module.groups)
    if isinstance(module, nn.Linear):
        return math.prod(out) * module.in_features
    if isinstance(module, nn.Bilinear):
        return math.prod(out) * module.in1_features * module.in2_features
    if isinstance(module, nn.MultiheadAttention):
        return None
    kind = type(module).__module__.rsplit(".", 1)[-1]
    if type(module).__module__.startswith("torch.nn.modules") and (
            kind in _ZERO_MAC_FILES or isinstance(module, _VIEW_TYPES)):
        return 0
    has_params = any(True for _ in module.parameters(recurse=False))
    return None if has_params else 0


def allocates(module: nn.Module) -> bool:
    """False when the output reuses the input's memory (in-place ops and views)."""
    return not (bool(getattr(module, "inplace", False)) or isinstance(module, _VIEW_TYPES))
