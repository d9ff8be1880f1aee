"""The derivation behind one convolution, as text: ``striate explain conv`` prints this.

:func:`explain_conv` works out, for one input size and one kernel/stride/padding/dilation,
the output size per axis (the formula of the notes with the numbers), whether the window
fits exactly (and what would make it fit), the parameter count and multiply-adds for given
channels, and, for small inputs, the matrix ``C`` of the convolution with its shared
weights and the transposed convolution as ``Cᵀ`` and as a direct convolution (zero
insertion, heavy padding, flipped kernel). Every number comes from
:mod:`striate.layers.formulas`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import (
    conv_macs,
    conv_params,
    effective_kernel,
    fit_suggestion,
    require_fit,
    transposed_direct_padding,
    transposed_output,
    window_fit,
    zero_inserted,
)
from striate.reference.matrix import connection_index

AXES = ("height", "width")
#: Inputs (forward) or outputs (transposed) up to this many values get the matrix printed.
MATRIX_LIMIT = 36

_EXAMPLES = {"--input": "7x7", "--kernel": "3", "--stride": "2", "--padding": "1",
             "--dilation": "2", "--output-padding": "1"}
# The layers' padding words, which explain takes as numbers: what to write instead.
_PADDING_WORDS = {
    "valid": " ('valid' is --padding 0)",
    "same": " ('same' at stride 1 is --padding (K − 1)/2 for an odd kernel, e.g. 1 for 3x3)",
}
_SIZE = re.compile(r"^\s*(-?\d+)\s*(?:[x×,]\s*(-?\d+)\s*)?$")


def parse_pair(text: str | int, option: str, *, minimum: int = 1) -> tuple[int, int]:
    """Read ``"7x5"``, ``"7"`` (square) or an int as an ``(H, W)`` pair of integers.

    Raises:
        ConfigError: naming ``option`` when the text is not one or two integers ≥ ``minimum``.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        values = (text, text)
    elif isinstance(text, tuple | list) and len(text) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in text):
        values = (text[0], text[1])
    else:
        match = _SIZE.match(str(text))
        if not match:
            hint = _PADDING_WORDS.get(str(text).strip().lower(), "") \
                if option == "--padding" else ""
            raise ConfigError(
                f"{option} {text!r} is not a size; write one integer or HxW with integers "
                f"≥ {minimum}, e.g. {option} {_EXAMPLES.get(option, '3')}{hint}"
            )
        values = (int(match[1]), int(match[2] or match[1]))
    if min(values) < minimum:
        fixed = [max(v, minimum) for v in values]
        example = str(fixed[0]) if fixed[0] == fixed[1] else f"{fixed[0]}x{fixed[1]}"
        raise ConfigError(f"{option} {text!r} must be ≥ {minimum} along both axes; "
                          f"e.g. {option} {example}")
    return values


def parse_channels(text: str) -> tuple[int, int]:
    """Read ``"3:10"`` (input channels : output channels).

    Raises:
        ConfigError: when it is not two positive integers separated by a colon.
    """
    match = re.match(r"^\s*(\d+)\s*[:→]\s*(\d+)\s*$", str(text))
    if not match or min(int(match[1]), int(match[2])) < 1:
        raise ConfigError(
            f"--channels {text!r} must be IN:OUT with positive integers, e.g. --channels 3:10"
        )
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class AxisDerivation:
    """The output size along one axis, as a formula with the numbers."""

    axis: str
    formula: str
    output: int
    fits: bool = True
    dropped: int = 0
    suggestion: str = ""


@dataclass(frozen=True)
class ConvExplanation:
    """Everything ``striate explain conv`` prints; ``str()`` gives the text."""

    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    transposed: bool
    output_padding: tuple[int, int]
    groups: int
    axes: tuple[AxisDerivation, ...]
    output_size: tuple[int, int]
    channels: tuple[int, int] | None = None
    params: int | None = None
    params_formula: str = ""
    macs: int | None = None
    macs_formula: str = ""
    direct_steps: tuple[str, ...] = ()
    matrix: np.ndarray | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """A JSON-able view (the matrix as nested lists of weight labels, or ``None``)."""
        return {
            "input_size": list(self.input_size),
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "dilation": list(self.dilation),
            "transposed": self.transposed,
            "output_padding": list(self.output_padding),
            "groups": self.groups,
            "output_size": list(self.output_size),
            "axes": [{"axis": a.axis, "formula": a.formula, "output": a.output, "fits": a.fits,
                      "dropped": a.dropped, "suggestion": a.suggestion} for a in self.axes],
            "channels": list(self.channels) if self.channels else None,
            "params": self.params,
            "macs": self.macs,
            "direct_convolution": list(self.direct_steps),
            "matrix": None if self.matrix is None else _labels(self.matrix, self.kernel_size),
        }

    def __str__(self) -> str:
        return "\n".join(_text(self))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _fmt_pair(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


def _labels(index: np.ndarray, kernel: tuple[int, int]) -> list[list[str]]:
    kw = kernel[1]
    sep = "," if max(kernel) > 10 else ""
    return [[f"w{k // kw}{sep}{k % kw}" if k >= 0 else "0" for k in row] for row in index]


def _matrix_lines(index: np.ndarray, kernel: tuple[int, int]) -> list[str]:
    cells = _labels(index, kernel)
    width = max(len(c) for row in cells for c in row)
    return ["  [ " + " ".join(c.rjust(width) for c in row) + " ]" for row in cells]


def _forward_axis(axis: str, size: int, k: int, s: int, p: int, d: int,
                  strict: bool) -> AxisDerivation:
    try:
        if strict:
            require_fit(size, k, s, p, d)
        fit = window_fit(size, k, s, p, d)
    except ShapeError as err:
        raise err.at(f"{axis} axis") from None
    suggestion = "" if fit.fits else fit_suggestion(size, k, s, p, d)
    return AxisDerivation(axis, fit.formula, fit.output, fit.fits, fit.dropped, suggestion)


def _transposed_axis(axis: str, size: int, k: int, s: int, p: int, d: int,
                     op: int) -> tuple[AxisDerivation, str]:
    if op >= max(s, d):
        raise ConfigError(
            f"--output-padding {op} along {axis} must be smaller than the stride ({s}) or the "
            f"dilation ({d}); use --output-padding {max(s, d) - 1} or less"
        )
    k_eff = effective_kernel(k, d)
    out = transposed_output(size, k, s, p, d, op)
    k_txt = f"{k_eff}" if d == 1 else f"{k_eff} (kernel {k}, dilation {d})"
    op_txt = f" + {op}" if op else ""
    formula = f"({size} − 1)·{s} − 2·{p} + {k_txt}{op_txt} = {out}"
    if out <= 0:
        raise ShapeError(
            f"{axis} axis: the transposed convolution's output {formula} is not positive; "
            f"use less padding or a larger kernel"
        )
    inserted = zero_inserted(size, s)
    heavy = transposed_direct_padding(k, p, d)
    if heavy >= 0:
        pad_txt = f"pad with k_eff − 1 − P = {k_eff} − 1 − {p} = {heavy} zero(s) on each side"
    else:
        pad_txt = f"crop k_eff − 1 − P = {heavy}, i.e. {-heavy} value(s) from each side"
    if op:
        pad_txt += f" and {op} more after (output padding)"
    padded = inserted + 2 * heavy + op
    step = (f"{axis + ':':7} insert S − 1 = {s - 1} zero(s) between values: ({size} − 1)·{s} + 1 = "
            f"{inserted}; {pad_txt}: {padded}; slide the flipped kernel with stride 1: "
            f"{window_fit(padded, k, 1, 0, d).formula}")
    return AxisDerivation(axis, formula, out), step


def explain_conv(
    input_size: tuple[int, int] | int,
    kernel_size: tuple[int, int] | int,
    stride: tuple[int, int] | int = 1,
    padding: tuple[int, int] | int = 0,
    dilation: tuple[int, int] | int = 1,
    *,
    transposed: bool = False,
    output_padding: tuple[int, int] | int = 0,
    channels: tuple[int, int] | None = None,
    groups: int = 1,
    strict: bool = False,
) -> ConvExplanation:
    """Derive a convolution's output size, parameters, multiply-adds and matrix.

    Args:
        input_size: ``(H, W)`` of the convolution's input (for ``transposed``, of the
            transposed convolution's input, the small map).
        channels: ``(C_in, C_out)`` to count parameters and multiply-adds.
        strict: raise when the window does not fit exactly instead of explaining the
            rounding down.

    Raises:
        ShapeError: when the kernel is larger than the padded input, or (``strict``) when
            trailing inputs would be dropped; the message says which padding/stride fits.
        ConfigError: for sizes below 1, negative padding, groups not dividing the channels.
    """
    size = parse_pair(input_size, "--input")
    kernel = parse_pair(kernel_size, "--kernel")
    stride_ = parse_pair(stride, "--stride")
    padding_ = parse_pair(padding, "--padding", minimum=0)
    dilation_ = parse_pair(dilation, "--dilation")
    out_pad = parse_pair(output_padding, "--output-padding", minimum=0)
    if out_pad != (0, 0) and not transposed:
        raise ConfigError("--output-padding only applies to a transposed convolution; "
                          "add --transposed or drop --output-padding")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConfigError(f"--groups must be a positive integer. Received: {groups!r}")
    if channels is None and groups != 1:
        raise ConfigError(f"--groups {groups} splits channels, and none are given; add "
                          f"--channels IN:OUT with both divisible by {groups}, e.g. "
                          f"--channels {groups}:{2 * groups}")
    if channels is not None and (channels[0] % groups or channels[1] % groups):
        raise ConfigError(
            f"--groups {groups} must divide both channel counts {channels[0]}:{channels[1]}; "
            f"use a common divisor"
        )

    per_axis = list(zip(AXES, size, kernel, stride_, padding_, dilation_, out_pad, strict=True))
    steps: tuple[str, ...] = ()
    if transposed:
        pairs = [_transposed_axis(*args) for args in per_axis]
        axes = tuple(a for a, _ in pairs)
        steps = tuple(s for _, s in pairs)
    else:
        axes = tuple(_forward_axis(*args[:6], strict) for args in per_axis)
    out_size = (axes[0].output, axes[1].output)

    params = macs = None
    params_formula = macs_formula = ""
    if channels is not None:
        c_in, c_out = channels
        params = conv_params(c_in, c_out, kernel, groups)
        params_formula = (f"({kernel[0]}·{kernel[1]}·{c_in}{f'/{groups}' if groups > 1 else ''}"
                          f" + 1)·{c_out} = {params:,}")
        per_output = kernel[0] * kernel[1] * c_in // groups
        if transposed:
            # Every input value is multiplied by the weights of its C_out/groups kernels.
            macs = conv_macs(c_out, (c_in, *size), kernel, groups)
            macs_formula = (f"{c_in}·{size[0]}·{size[1]} inputs × "
                            f"{kernel[0]}·{kernel[1]}·{c_out}{f'/{groups}' if groups > 1 else ''}"
                            f" = {macs:,}")
        else:
            macs = conv_macs(c_in, (c_out, *out_size), kernel, groups)
            macs_formula = (f"{c_out}·{out_size[0]}·{out_size[1]} outputs × {per_output} = "
                            f"{macs:,}")

    big = out_size if transposed else size
    matrix = None
    if big[0] * big[1] <= MATRIX_LIMIT:
        matrix = connection_index(big, kernel, stride_, padding_, dilation_)
        small = size if transposed else out_size
        if matrix.shape[0] != small[0] * small[1]:
            matrix = None  # output padding beyond the stride: no exact forward counterpart
    return ConvExplanation(size, kernel, stride_, padding_, dilation_, transposed, out_pad,
                           groups, axes, out_size, channels, params, params_formula, macs,
                           macs_formula, steps, matrix)


def _text(e: ConvExplanation) -> list[str]:
    kind = "Transposed convolution" if e.transposed else "Convolution"
    head = (f"{kind}: input {e.input_size[0]}x{e.input_size[1]}, kernel "
            f"{e.kernel_size[0]}x{e.kernel_size[1]}, stride {_fmt_pair(e.stride)}, padding "
            f"{_fmt_pair(e.padding)}, dilation {_fmt_pair(e.dilation)}")
    if e.transposed and e.output_padding != (0, 0):
        head += f", output padding {_fmt_pair(e.output_padding)}"
    lines = [head, ""]
    dilated = e.dilation != (1, 1)
    if e.transposed:
        k_sym = "d·(K − 1) + 1" if dilated else "K"
        lines.append(f"Output size per axis: (W − 1)·S − 2P + {k_sym} + output_padding")
    else:
        k_sym = "(d·(K − 1) + 1)" if dilated else "K"
        lines.append(f"Output size per axis: (W − {k_sym} + 2P)/S + 1")
    for a in e.axes:
        lines.append(f"  {a.axis + ':':8}{a.formula}")
        if not a.fits:
            lines.append(f"  {'':8}does not fit: PyTorch rounds down to {a.output}, the last "
                         f"{a.dropped} padded input(s) are never seen; {a.suggestion}")
    lines.append(f"  output: {e.output_size[0]}x{e.output_size[1]}")

    if e.channels is not None:
        lines += ["", f"Parameters for {e.channels[0]} → {e.channels[1]} channels"
                  + (f" in {e.groups} groups" if e.groups > 1 else "")
                  + f": (K_h·K_w·C_in{'/groups' if e.groups > 1 else ''} + 1)·C_out = "
                  + e.params_formula,
                  f"Multiply-adds per sample: {e.macs_formula}"]

    if e.transposed:
        lines += ["", "As a direct convolution (zero insertion, heavy padding, flipped kernel):"]
        lines += [f"  {s}" for s in e.direct_steps]
    big = e.output_size if e.transposed else e.input_size
    if e.matrix is not None:
        lines += ["", *_matrix_text(e, e.matrix)]
    elif big[0] * big[1] > MATRIX_LIMIT:
        lines += ["", f"(The matrix C is printed for up to {MATRIX_LIMIT} "
                      f"{'outputs' if e.transposed else 'inputs'}, e.g. --input "
                      f"{'2x2' if e.transposed else '4x4'}.)"]
    return lines


def _matrix_text(e: ConvExplanation, matrix: np.ndarray) -> list[str]:
    rows, cols = matrix.shape
    big = e.output_size if e.transposed else e.input_size
    small = e.input_size if e.transposed else e.output_size
    which = "the forward convolution it transposes" if e.transposed else "the convolution"
    lines = [
        f"As a matrix (one input and one output channel): flatten the {big[0]}x{big[1]} "
        f"map row by row into x ({_plural(cols, 'value')}) and the {small[0]}x{small[1]} "
        f"map into y ({_plural(rows, 'value')}); {which} is y = C·x with C ({rows}x{cols}) "
        f"sharing the {e.kernel_size[0] * e.kernel_size[1]} weights w_ij in every row:",
    ]
    lines += _matrix_lines(matrix, e.kernel_size)
    lines.append(f"Backpropagation: ∂L/∂x = Cᵀ·∂L/∂y ({cols}x{rows}); the gradient of each "
                 f"w_ij sums the contributions of every entry of C that holds it.")
    if e.transposed:
        lines.append(f"The transposed convolution maps the {small[0]}x{small[1]} input y to "
                     f"{big[0]}x{big[1]} as Cᵀ·y ({cols}x{rows}): the backward pass of that "
                     f"forward convolution.")
    else:
        back = [a.dropped for a in e.axes]
        hint = f" --output-padding {back[0]}x{back[1]}" if any(back) else ""
        lines.append(f"The transposed convolution with the same kernel maps {small[0]}x"
                     f"{small[1]} back to {big[0]}x{big[1]} as Cᵀ·y (try the same options "
                     f"with --transposed --input {small[0]}x{small[1]}{hint}).")
    if e.channels is not None and e.channels != (1, 1):
        lines.append(f"With {e.channels[0]} → {e.channels[1]} channels the full matrix holds "
                     f"one such block per pair of input and output channels in the same group "
                     f"({e.channels[0] * e.channels[1] // e.groups} blocks, the rest zeros).")
    return lines
