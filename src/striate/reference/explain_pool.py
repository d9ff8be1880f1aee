"""The derivation behind one pooling layer, as text: ``striate explain pool`` prints this.

Pooling slides a window like a convolution, so its output size is the same formula,
``(W − K + 2P)/S + 1``; but where it is not an integer PyTorch rounds down by default and
Caffe (and ``ceil_mode=True``) rounds up, which changes the shapes of every later layer —
a classic trap when porting a Caffe model. This module shows both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import require_fit, window_fit
from striate.reference.explain import AXES, AxisDerivation, parse_pair
from striate.reference.pool import _geometry

KINDS = ("max", "avg")


@dataclass(frozen=True)
class PoolExplanation:
    """Everything ``striate explain pool`` prints; ``str()`` gives the text."""

    kind: str
    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    ceil_mode: bool
    axes: tuple[AxisDerivation, ...]
    output_size: tuple[int, int]
    floor_size: tuple[int, int]
    ceil_size: tuple[int, int]
    channels: int | None = None

    def to_dict(self) -> dict:
        """A JSON-able view."""
        return {
            "kind": self.kind,
            "input_size": list(self.input_size),
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "dilation": list(self.dilation),
            "ceil_mode": self.ceil_mode,
            "output_size": list(self.output_size),
            "floor_size": list(self.floor_size),
            "ceil_size": list(self.ceil_size),
            "axes": [{"axis": a.axis, "formula": a.formula, "output": a.output, "fits": a.fits,
                      "dropped": a.dropped, "suggestion": a.suggestion} for a in self.axes],
            "params": 0,
            "activations": None if self.channels is None
            else self.channels * self.output_size[0] * self.output_size[1],
        }

    def __str__(self) -> str:
        return "\n".join(_text(self))


def explain_pool(
    input_size: tuple[int, int] | int | str,
    kernel_size: tuple[int, int] | int | str,
    stride: tuple[int, int] | int | str | None = None,
    padding: tuple[int, int] | int | str = 0,
    dilation: tuple[int, int] | int | str = 1,
    *,
    kind: str = "max",
    ceil_mode: bool = False,
    channels: int | None = None,
    strict: bool = False,
) -> PoolExplanation:
    """Derive a pooling layer's output size, rounded down (PyTorch) and up (Caffe).

    Args:
        stride: defaults to the kernel size, as in PyTorch.
        strict: raise when the window does not fit exactly.

    Raises:
        ShapeError: when the window is larger than the padded input, lies on padding only,
            or (``strict``) does not fit exactly.
        ConfigError: for sizes below 1, padding over half the kernel, an unknown ``kind``,
            or dilation with average pooling (PyTorch has none).
    """
    if kind not in KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)}. Received: {kind!r}")
    size = parse_pair(input_size, "--input")
    kernel = parse_pair(kernel_size, "--kernel")
    stride_ = kernel if stride is None else parse_pair(stride, "--stride")
    padding_ = parse_pair(padding, "--padding", minimum=0)
    dilation_ = parse_pair(dilation, "--dilation")
    if kind == "avg" and dilation_ != (1, 1):
        raise ConfigError("average pooling has no dilation in PyTorch; drop --dilation or "
                          "use --kind max")
    if channels is not None and (isinstance(channels, bool) or channels < 1):
        raise ConfigError(f"--channels must be a positive integer. Received: {channels!r}")

    axes = []
    floor, ceil = [], []
    for axis, n, k, s, p, d in zip(AXES, size, kernel, stride_, padding_, dilation_,
                                   strict=True):
        try:
            if strict:
                require_fit(n, k, s, p, d, ceil_mode=ceil_mode,
                            also="" if ceil_mode else "ceil_mode=True (--ceil-mode)")
            down = window_fit(n, k, s, p, d)
            up = window_fit(n, k, s, p, d, ceil_mode=True)
        except ShapeError as err:
            raise err.at(f"{axis} axis") from None
        floor.append(down.output)
        ceil.append(up.output)
        chosen = up if ceil_mode else down
        suggestion = "" if down.fits else f"rounding up gives {up.output}"
        axes.append(AxisDerivation(axis, down.formula, chosen.output, down.fits, down.dropped,
                                   suggestion))
    # The window rules of PyTorch (padding ≤ K/2, no window on padding only), via the
    # reference implementation so that explanation and computation cannot disagree.
    try:
        _geometry(np.empty((1, 1, *size)), kernel, stride_, padding_, dilation_, ceil_mode)
    except ConfigError as err:
        raise ConfigError(err.message.replace("pooling padding=", "--padding ")) from None
    output = tuple(ceil if ceil_mode else floor)
    return PoolExplanation(kind, size, kernel, stride_, padding_, dilation_, ceil_mode,
                           tuple(axes), output, tuple(floor), tuple(ceil), channels)


def _pair_text(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


def _text(e: PoolExplanation) -> list[str]:
    name = "Max pooling" if e.kind == "max" else "Average pooling"
    head = (f"{name}: input {e.input_size[0]}x{e.input_size[1]}, kernel {e.kernel_size[0]}x"
            f"{e.kernel_size[1]}, stride {_pair_text(e.stride)}, padding "
            f"{_pair_text(e.padding)}")
    if e.dilation != (1, 1):
        head += f", dilation {_pair_text(e.dilation)}"
    rounding = ("rounded up (ceil_mode=True, as Caffe)" if e.ceil_mode
                else "rounded down (PyTorch's default; Caffe rounds up)")
    k_sym = "(d·(K − 1) + 1)" if e.dilation != (1, 1) else "K"
    lines = [head, "", f"Output size per axis: (W − {k_sym} + 2P)/S + 1, {rounding}"]
    for a, down, up in zip(e.axes, e.floor_size, e.ceil_size, strict=True):
        lines.append(f"  {a.axis + ':':8}{a.formula}")
        if not a.fits:
            lines.append(f"  {'':8}not an integer: PyTorch gives {down}, Caffe and "
                         f"ceil_mode=True give {up}")
    lines.append(f"  output: {e.output_size[0]}x{e.output_size[1]}")
    if e.floor_size != e.ceil_size:
        other = e.floor_size if e.ceil_mode else e.ceil_size
        lines.append(f"  ({'without' if e.ceil_mode else 'with'} ceil_mode: "
                     f"{other[0]}x{other[1]}; a model ported from Caffe needs ceil_mode=True)")
    window = e.kernel_size[0] * e.kernel_size[1]
    lines += ["", "Parameters: 0 (pooling has no weights)"]
    if e.channels is not None:
        lines.append(f"Activations: {e.channels}·{e.output_size[0]}·{e.output_size[1]} = "
                     f"{e.channels * e.output_size[0] * e.output_size[1]:,} per sample "
                     f"(each channel is pooled on its own)")
    if e.kind == "max":
        lines += [f"Forward: each output is the largest of its {window} inputs; the position "
                  f"of the winner is kept (the switch, used by unpooling in SegNet/DeconvNet).",
                  "Backward: each output's gradient goes to the input that won, the others "
                  "get 0; overlapping windows add up."]
    else:
        lines += [f"Forward: each output is the mean of its {window} inputs (zero padding "
                  f"counts unless count_include_pad=False; a window sticking out past the "
                  f"padding with ceil_mode divides by the cells it covers).",
                  f"Backward: each input of a window gets 1/{window} of that output's "
                  f"gradient; overlapping windows add up."]
    return lines
