"""Convolutions: 1-D and 2-D, with "valid"/"same"/"causal" padding and an optional kernel
flip (transposed convolutions are in :mod:`striate.layers.transposed`).

Shape:
    out = floor((W − d·(k − 1) − 1 + P_before + P_after)/S) + 1 per spatial axis.
    ``padding="same"`` gives ``ceil(W/S)`` (TensorFlow's rule, strided convolutions
    included; the odd zero goes after); ``padding="causal"`` pads ``d·(k − 1)`` zeros
    before the sequence only, so output ``t`` never sees inputs after ``t``.
"""

from __future__ import annotations

import re
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from striate.layers._util import (
    check_channels,
    check_rank,
    kxs,
    ntuple,
    positive,
    rethrow_shape,
)
from striate.layers._window import compact, dropped, spatial_output
from striate.layers.base import Layer, RFParams, Shape
from striate.layers.errors import ConfigError
from striate.layers.formulas import (
    causal_padding,
    conv_macs,
    effective_kernel,
    same_padding,
)
from striate.layers.registry import register_layer

PaddingArg = int | tuple[int, ...] | list[int] | str
_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}


def _axis_pads(
    padding: str, sizes: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> list[tuple[int, int]]:
    """(before, after) zeros per spatial axis for a string padding."""
    if padding == "same":
        return [same_padding(w, k, s, d) for w, k, s, d in zip(sizes, kernel, stride, dilation,
                                                                  strict=True)]
    if padding == "causal":
        return [causal_padding(k, d) for k, d in zip(kernel, dilation, strict=True)]
    return [(0, 0)] * len(sizes)


def pad_input(x: torch.Tensor, padding: str, kernel: tuple[int, ...], stride: tuple[int, ...],
              dilation: tuple[int, ...], mode: str) -> torch.Tensor:
    """Pad ``x`` for a string padding; "same" with a stride depends on the input size."""
    dims = len(kernel)
    pads = _axis_pads(padding, tuple(x.shape[-dims:]), kernel, stride, dilation)
    flat = [p for pair in reversed(pads) for p in pair]  # F.pad wants the last axis first
    return F.pad(x, flat, mode=_PAD_MODES[mode])


# fx traces a call to pad_input as one node instead of failing on the size-dependent ints.
torch.fx.wrap("pad_input")


def _symmetric_same(kernel: tuple[int, ...], stride: tuple[int, ...],
                    dilation: tuple[int, ...]) -> bool:
    return all(s == 1 and effective_kernel(k, d) % 2 == 1
               for k, s, d in zip(kernel, stride, dilation, strict=True))


def torch_padding(padding: PaddingArg, dims: int, kernel: tuple[int, ...],
                  stride: tuple[int, ...], dilation: tuple[int, ...],
                  layer: str) -> tuple[int, ...]:
    """Check ``padding`` and return the symmetric padding the torch constructor gets."""
    if not isinstance(padding, str):
        return ntuple(padding, dims, "padding", minimum=0)
    if padding not in ("valid", "same", "causal"):
        raise ConfigError(
            f"padding must be a number, a tuple, 'valid', 'same' or 'causal'. "
            f"Received: padding={padding!r}"
        )
    if padding == "causal" and dims != 1:
        raise ConfigError(
            f"padding='causal' is for sequences (Conv1d); use padding='same' on {layer}. "
            f"Received: padding={padding!r}"
        )
    if padding == "same" and _symmetric_same(kernel, stride, dilation):
        return tuple((effective_kernel(k, d) - 1) // 2 for k, d in zip(kernel, dilation,
                                                                      strict=True))
    return (0,) * dims


class _ConvBase(Layer):
    """The arithmetic shared by Conv1d and Conv2d."""

    _dims: int
    _axes: str
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    in_channels: int
    out_channels: int
    groups: int
    padding_mode: str

    def _init_checked(self, torch_cls: type, in_channels: int, out_channels: int,
                      kernel_size: Any, stride: Any, padding: PaddingArg, dilation: Any,
                      groups: int, bias: bool, padding_mode: str, flip_kernel: bool) -> None:
        """Check the arguments, run torch's constructor and remember the padding as given."""
        check_conv_args(in_channels, out_channels, groups, padding_mode)
        k, s, d = (ntuple(v, self._dims, n) for v, n in ((kernel_size, "kernel_size"),
                                                         (stride, "stride"),
                                                         (dilation, "dilation")))
        tp = torch_padding(padding, self._dims, k, s, d, type(self).__name__)
        torch_cls.__init__(self, in_channels, out_channels, k, s, tp, d, groups, bias,
                           padding_mode)
        self.padding_spec = padding
        self.flip_kernel = bool(flip_kernel)
        # "causal" and asymmetric "same" pad in forward; symmetric "same" is torch's padding.
        self._prepad = isinstance(padding, str) and padding != "valid" and not (
            padding == "same" and _symmetric_same(self.kernel_size, self.stride, self.dilation))

    def _pads(self, sizes: tuple[int, ...]) -> list[tuple[int, int]]:
        if isinstance(self.padding_spec, str):
            return _axis_pads(self.padding_spec, sizes, self.kernel_size, self.stride,
                              self.dilation)
        return [(p, p) for p in ntuple(self.padding_spec, self._dims, "padding", minimum=0)]

    def describe(self) -> str:
        return f"{type(self).__name__}({kxs(self.kernel_size, self.stride)})"

    def _check(self, in_shape: Shape) -> Shape:
        shape = check_rank(in_shape, self._dims + 1, self.describe(), self._axes)
        check_channels(shape, self.in_channels, self.describe())
        return shape

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        """``(C_in, *spatial) -> (C_out, *spatial')``; see the module docstring."""
        shape = self._check(in_shape)
        sizes = shape[1:]
        out = spatial_output(self.describe(), sizes, self.kernel_size, self.stride,
                             self._pads(sizes), self.dilation, strict=strict)
        return (self.out_channels, *out)

    def dropped_inputs(self, in_shape: Shape) -> tuple[int, ...]:
        sizes = self._check(in_shape)[1:]
        return dropped(self.describe(), sizes, self.kernel_size, self.stride, self._pads(sizes),
                       self.dilation)

    def macs(self, in_shape: Shape) -> int:
        return conv_macs(self.in_channels, self.output_shape(in_shape), self.kernel_size,
                         self.groups)

    def rf(self, in_shape: Shape | None = None) -> RFParams:
        """The window. A strided "same" padding depends on the input size: give ``in_shape``,
        or the left padding is the one for sizes divisible by the stride."""
        spec = self.padding_spec
        if spec == "same" and in_shape is not None:
            left = tuple(before for before, _ in self._pads(self._check(in_shape)[1:]))
        elif spec == "same":
            left = tuple(max(effective_kernel(k, d) - s, 0) // 2 for k, s, d in
                         zip(self.kernel_size, self.stride, self.dilation, strict=True))
        elif isinstance(spec, str):
            left = tuple(before for before, _ in self._pads((1,) * self._dims))
        else:
            left = ntuple(spec, self._dims, "padding", minimum=0)
        return RFParams(tuple(self.kernel_size), tuple(self.stride), left, tuple(self.dilation))

    def config(self) -> dict[str, Any]:
        spec = self.padding_spec
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": compact(tuple(self.kernel_size)),
            "stride": compact(tuple(self.stride)),
            "padding": spec if isinstance(spec, (str, int)) else list(spec),
            "dilation": compact(tuple(self.dilation)),
            "groups": self.groups,
            "bias": self.bias is not None,
            "padding_mode": self.padding_mode,
            "flip_kernel": self.flip_kernel,
        }

    def _repr(self, torch_repr: str) -> str:
        """PyTorch's repr, with the padding as given and the kernel flip."""
        if isinstance(self.padding_spec, str):
            torch_repr = re.sub(r", padding=\([\d, ]*\)", "", torch_repr)
            torch_repr += f", padding={self.padding_spec!r}"
        return torch_repr + (", flip_kernel=True" if self.flip_kernel else "")

    def _weight(self) -> torch.Tensor:
        if self.flip_kernel:
            # Flipping the kernel turns cross-correlation into true convolution.
            return self.weight.flip(list(range(2, 2 + self._dims)))
        return self.weight

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        inp = x
        if self._prepad:
            x = pad_input(x, self.padding_spec, self.kernel_size, self.stride, self.dilation,
                          self.padding_mode)
        try:
            return self._conv_forward(x, self._weight(), self.bias)  # type: ignore[attr-defined]
        except RuntimeError as err:
            rethrow_shape(self, inp, err)
            raise


def check_conv_args(in_channels: int, out_channels: int, groups: int, padding_mode: str) -> None:
    positive("in_channels", in_channels)
    positive("out_channels", out_channels)
    positive("groups", groups)
    if in_channels % groups or out_channels % groups:
        raise ConfigError(
            f"groups must divide in_channels and out_channels. Received: groups={groups}, "
            f"in_channels={in_channels}, out_channels={out_channels}"
        )
    if padding_mode not in _PAD_MODES:
        raise ConfigError(
            f"padding_mode must be one of {sorted(_PAD_MODES)}. "
            f"Received: padding_mode={padding_mode!r}"
        )


@register_layer("conv2d")
class Conv2d(nn.Conv2d, _ConvBase):
    """2-D convolution (cross-correlation, as in every framework; ``flip_kernel=True`` for
    true convolution) on ``(C, H, W)`` inputs.

    Args:
        padding: zeros on each side (int or ``(ph, pw)``), ``"valid"`` (none) or ``"same"``
            (output ``ceil(W/S)``, also with a stride, which PyTorch refuses).
        flip_kernel: flip the kernel before sliding it (true convolution).

    Shape:
        (C_in, H, W) -> (C_out, H', W'), H' = floor((H − d·(k − 1) − 1 + 2P)/S) + 1

    Raises:
        ConfigError: a non-positive size, groups that do not divide the channels.
        ShapeError: the input has other channels, or the window is larger than the input.
    """

    _dims = 2
    _axes = "(C, H, W)"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: PaddingArg = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", flip_kernel: bool = False) -> None:
        self._init_checked(nn.Conv2d, in_channels, out_channels, kernel_size, stride, padding,
                           dilation, groups, bias, padding_mode, flip_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)

    def extra_repr(self) -> str:
        return self._repr(nn.Conv2d.extra_repr(self))


@register_layer("conv1d")
class Conv1d(nn.Conv1d, _ConvBase):
    """1-D convolution on ``(C, L)`` sequences (DNA, audio, sensors).

    Args:
        padding: an int, ``"valid"``, ``"same"`` (output ``ceil(L/S)``) or ``"causal"``
            (``d·(k − 1)`` zeros before the sequence: output ``t`` sees inputs ``≤ t``).
        flip_kernel: flip the kernel before sliding it (true convolution).

    Shape:
        (C_in, L) -> (C_out, L'), L' = floor((L − d·(k − 1) − 1 + P_before + P_after)/S) + 1
    """

    _dims = 1
    _axes = "(C, L)"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: PaddingArg = 0,
                 dilation: int | tuple[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", flip_kernel: bool = False) -> None:
        self._init_checked(nn.Conv1d, in_channels, out_channels, kernel_size, stride, padding,
                           dilation, groups, bias, padding_mode, flip_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)

    def extra_repr(self) -> str:
        return self._repr(nn.Conv1d.extra_repr(self))
