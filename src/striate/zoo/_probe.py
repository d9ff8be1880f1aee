"""Shape probes on the meta device: output shapes, input checks and MAC counts of any model.

The probe swaps every parameter and buffer for a meta tensor of the same shape
(``torch.func.functional_call``), so it allocates nothing and works the same whether the
model lives on the CPU, a GPU or the meta device. A window that does not fit is reported
with the layer's qualified name and the formula of the notes, ``(W − K + 2P)/S + 1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn as nn
from torch.func import functional_call

from striate.layers.errors import ShapeError, StriateError
from striate.layers.formulas import causal_padding, window_fit

# Shape-preserving modules: on the meta device PyTorch runs their Python decompositions
# (batch norm alone is most of a DenseNet probe), so the probe passes their input through.
_PASS_THROUGH = (nn.modules.batchnorm._BatchNorm, nn.ReLU, nn.ReLU6, nn.Tanh, nn.Sigmoid,
                 nn.LeakyReLU, nn.ELU, nn.GELU, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                 nn.LocalResponseNorm, nn.Identity)

_WINDOWED = (nn.modules.conv._ConvNd, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
             nn.LPPool1d, nn.LPPool2d)


def _axes(value: int | tuple[int, ...], n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def _describe(module: nn.Module) -> str:
    k = _axes(module.kernel_size, 1)
    s = _axes(module.stride, 1) if module.stride is not None else k
    kt = "x".join(map(str, k)) if len(set(k)) > 1 else str(k[0])
    st = "x".join(map(str, s)) if len(set(s)) > 1 else str(s[0])
    return f"{type(module).__name__} k={kt} s={st}"


def _check_window(name: str, module: nn.Module, in_shape: tuple[int, ...]) -> None:
    """Raise a located ShapeError if ``module``'s window is larger than its padded input."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return  # transposed convolutions grow their input; any size fits
    spatial = in_shape[1:]
    n = len(spatial)
    kernel = _axes(module.kernel_size, n)
    stride = _axes(module.stride if module.stride is not None else kernel, n)
    # striate convolutions keep the padding as given ("causal", "same") in padding_spec;
    # their torch ``padding`` is then 0 and the zeros are added in forward
    padding = getattr(module, "padding_spec", getattr(module, "padding", 0))
    dilation = _axes(getattr(module, "dilation", 1), n)
    if padding == "same":
        return
    if padding == "causal":  # striate's Conv1d: d·(k − 1) zeros on the left only
        padding = tuple(causal_padding(k, d) for k, d in zip(kernel, dilation, strict=False))
    elif isinstance(padding, str):  # "valid"
        padding = 0
    padding = _axes(padding, n)
    ceil = bool(getattr(module, "ceil_mode", False))
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=False):
        try:
            window_fit(size, k, s, p, d, ceil)
        except StriateError as err:
            raise err.at(f"{name} ({_describe(module)})") from None


def _identity(x: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
    return x


@contextmanager
def _hooks(model: nn.Module, record: list[str], prefix: str = "") -> Iterator[None]:
    handles = []

    def make(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            record.append(name)
            if args and isinstance(args[0], torch.Tensor) and isinstance(module, _WINDOWED):
                _check_window(name, module, tuple(args[0].shape[1:]))
        return hook

    passed = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_pre_hook(
                make(f"{prefix}.{name}" if prefix else name)))
        if isinstance(module, _PASS_THROUGH) and "forward" not in module.__dict__:
            module.forward = _identity
            passed.append(module)
    try:
        yield
    finally:
        for h in handles:
            h.remove()
        for module in passed:
            del module.forward


def _meta_state(model: nn.Module) -> dict[str, torch.Tensor]:
    named = itertools.chain(model.named_parameters(remove_duplicate=False),
                            model.named_buffers(remove_duplicate=False))
    return {k: torch.empty_like(v, device="meta") for k, v in named}


def meta_forward(model: nn.Module, in_shape: tuple[int, ...], batch: int = 2,
                 prefix: str = "") -> object:
    """Run ``model`` on a meta input of per-sample shape ``in_shape``; returns its output.

    Raises:
        ShapeError: located at the first layer whose window does not fit (or whose forward
            fails on that shape).
    """
    record: list[str] = []
    x = torch.empty((batch, *in_shape), device="meta")
    with _hooks(model, record, prefix):
        try:
            return functional_call(model, _meta_state(model), (x,))
        except StriateError:
            raise
        except (RuntimeError, ValueError) as err:
            where = record[-1] if record else type(model).__name__
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ShapeError(f"input {tuple(in_shape)} does not fit: {first}").at(where) from None


def _first_tensor(out: object) -> torch.Tensor:
    while isinstance(out, tuple | list):
        out = out[0]
    if isinstance(out, dict):
        out = next(iter(out.values()))
    return out  # type: ignore[return-value]


def output_shape(model: nn.Module, in_shape: tuple[int, ...], prefix: str = ""
                 ) -> tuple[int, ...]:
    """Per-sample output shape of ``model`` (its main output) for ``in_shape``; errors name
    layers as ``prefix.<name>`` (the sub-module's place in the whole model)."""
    return tuple(_first_tensor(meta_forward(model, in_shape, prefix=prefix)).shape[1:])


def check_model_input(model: nn.Module, in_shape: tuple[int, ...], name: str) -> None:
    """Raise a one-line ShapeError naming ``name``, the input and the layer if ``in_shape``
    does not fit ``model`` (checked in training mode, so auxiliary heads are included)."""
    try:
        meta_forward(model, in_shape)
    except StriateError as err:
        raise located(err, name, in_shape) from None


def located(err: StriateError, name: str, in_shape: tuple[int, ...]) -> StriateError:
    """``err`` prefixed with the model name and its input, kept a one-liner."""
    text = str(err)
    if text.startswith(f"{name}, input "):
        return err
    clone = type(err).__new__(type(err))
    StriateError.__init__(clone, f"{name}, input {tuple(in_shape)}: {text}")
    return clone


def count(model: nn.Module, in_shape: tuple[int, ...]) -> tuple[int, int]:
    """Parameters and multiply-adds of one sample's forward pass (eval mode).

    MACs follow the convention of the foundation issue (and the ResNet paper): every
    convolution, transposed convolution and dense layer, nothing else, each counted by the
    layer's own formula (``striate.arith.foreign.macs``, as in ``striate summary``).
    """
    from striate.arith.foreign import macs

    total = [0]

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        total[0] += macs(module, [tuple(args[0].shape[1:])], [tuple(out.shape[1:])]) or 0

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, nn.modules.conv._ConvNd | nn.Linear)]
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        meta_forward(model, in_shape, batch=1)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    params = sum(p.numel() for p in model.parameters())
    return params, total[0]


def flat_size(features: nn.Module, in_shape: tuple[int, ...], prefix: str = "features"
              ) -> int:
    """Number of values ``features`` outputs per sample (the input size of a dense head)."""
    return math.prod(output_shape(features, in_shape, prefix))
