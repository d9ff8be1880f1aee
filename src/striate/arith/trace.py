"""Run a model's forward on PyTorch's meta device and record every module call.

The model's own weights are never copied nor touched: ``torch.func.functional_call`` swaps
in meta tensors shaped like each parameter and buffer for the duration of one forward, so
no activation memory is allocated and a 224x224 VGG-16 runs in milliseconds. Forward hooks
record each call's input and output shapes; they are removed, and the training flags
restored, in ``finally``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

from striate.arith import foreign
from striate.layers.errors import ConfigError, ShapeError, StriateError

Shape = tuple[int, ...]


@dataclass
class Call:
    """One call of one module during the meta forward."""

    index: int
    name: str
    module: nn.Module
    parent: int | None
    in_shapes: list[Shape]
    out_shapes: list[Shape] = field(default_factory=list)
    out_values: int = 0
    out_bytes: int = 0
    call_number: int = 1
    done: bool = False

    @property
    def is_leaf(self) -> bool:
        return not any(True for _ in self.module.children())

    @property
    def depth(self) -> int:
        return 0 if not self.name else self.name.count(".") + 1


@dataclass
class Trace:
    """The calls of a meta forward, and the error that stopped it if any."""

    calls: list[Call]
    error: StriateError | None = None
    failed_at: int | None = None


def parse_shape(text: str, option: str = "--input") -> Shape:
    """Parse ``3x224x224`` (or ``3,224,224``) into a shape.

    Raises:
        ConfigError: when a size is not a positive integer.
    """
    body = str(text).strip().strip("()[]").strip()
    body = body.removesuffix(",")  # the repr of a 1-tuple, "(784,)"
    parts = [p.strip() for p in re.split(r"[x×,]", body)] if body else []
    sizes = []
    for part in parts:
        if not re.fullmatch(r"[0-9]+", part) or int(part) <= 0:
            raise ConfigError(
                f"{option} {text!r}: every size must be a positive integer, got {part!r}; "
                f"write e.g. {option} 3x224x224 (channels x height x width)"
            )
        sizes.append(int(part))
    if not sizes:
        raise ConfigError(f"{option} {text!r} is empty; write e.g. {option} 3x224x224")
    return tuple(sizes)


def check_shape(shape: object, where: str = "input_shape") -> Shape:
    """Validate a per-sample shape given as a sequence of positive ints (or a string)."""
    if isinstance(shape, str):
        return parse_shape(shape, where)
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Iterable):
        raise ConfigError(f"{where} must be a shape such as (3, 224, 224). Received: {shape!r}")
    sizes = tuple(shape)
    bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, int) or s <= 0]
    if bad or not sizes:
        raise ConfigError(
            f"{where} {sizes!r}: every size must be a positive integer (per sample, channels "
            f"first, no batch dimension), e.g. (3, 224, 224)"
        )
    return sizes


def default_shape(model: nn.Module, shape: object) -> object:
    """``shape``, or the model's ``default_input_shape`` when it is None."""
    if shape is not None:
        return shape
    default = getattr(model, "default_input_shape", None)
    if default is None:
        raise ConfigError(f"{type(model).__name__} has no default_input_shape; give the "
                          "per-sample input shape, e.g. summary(model, (3, 224, 224))")
    return tuple(default)


def input_shapes(shape: object) -> list[Shape]:
    """One shape, or a list of shapes for a model with several inputs."""
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(s, (list, tuple)) for s in shape):
        return [check_shape(s, f"input_shape[{i}]") for i, s in enumerate(shape)]
    return [check_shape(shape)]


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating-point parameter (float32 if none)."""
    for tensor in model.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def meta_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Meta tensors shaped like each parameter and buffer (no data, no memory).

    Uninitialised lazy parameters are left out: their module materialises them itself.
    """
    state = {name: torch.empty_like(t, device="meta") for name, t in model.named_parameters()
             if not is_lazy(t)}
    state.update({name: torch.empty_like(t, device="meta") for name, t in model.named_buffers()
                  if not is_lazy(t)})
    return state


def _meta_copy(module: nn.Module) -> nn.Module:
    clone = copy.deepcopy(module)  # uninitialised: nothing but the structure to copy
    for sub in clone.modules():
        for key, p in list(sub._parameters.items()):
            if p is not None and is_lazy(p):
                sub._parameters[key] = UninitializedParameter(p.requires_grad, "meta", p.dtype)
        for key, b in list(sub._buffers.items()):
            if b is not None and is_lazy(b):
                sub._buffers[key] = UninitializedBuffer(False, "meta", b.dtype)
    return clone


@contextmanager
def lazy_on_meta(model: nn.Module) -> Iterator[nn.Module]:
    """The model with each uninitialised lazy module (``Dense()`` without ``in_features``)
    swapped for a copy that materialises its weights on the meta device; the originals are
    put back on exit, still uninitialised."""
    lazy: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params() and not any(
                name.startswith(f"{done}.") for done in lazy):
            lazy.append(name)
    if not lazy:
        yield model
        return
    if "" in lazy:
        yield _meta_copy(model)
        return
    swaps = []
    try:
        for name in lazy:
            parent_name, _, attr = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            original = getattr(parent, attr)
            setattr(parent, attr, _meta_copy(original))
            swaps.append((parent, attr, original))
        yield model
    finally:
        for parent, attr, original in swaps:
            setattr(parent, attr, original)


def tensors(value: Any) -> list[torch.Tensor]:
    """The tensors inside nested tuples, lists and dicts, in order."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors(v)]
    return []


def _per_sample(t: torch.Tensor, batch: int) -> Shape:
    shape = tuple(t.shape)
    return shape[1:] if shape and shape[0] == batch else shape


def label(call: Call) -> str:
    """``features.3 (Conv2d)``: where an error happened."""
    return f"{call.name or type(call.module).__name__} ({type(call.module).__name__})"


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (torch's can run over several)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def run(model: nn.Module, shapes: Sequence[Shape], *, batch_size: int = 1,
        dtype: torch.dtype | None = None) -> Trace:
    """Run ``model`` on meta inputs of ``(batch_size, *shape)`` and record every module call.

    The forward runs in eval mode (batch statistics of one sample would fail, and auxiliary
    heads stay off); an error in the forward is returned in ``Trace.error``, located at the
    innermost module running at that moment.
    """
    dtype = dtype or model_dtype(model)
    names: dict[int, str] = {}
    for name, module in model.named_modules():
        names.setdefault(id(module), name)
    calls: list[Call] = []
    stack: list[int] = []
    seen: dict[int, int] = {}

    def pre_hook(module: nn.Module, args: tuple, kwargs: dict) -> None:
        ins = [_per_sample(t, batch_size) for t in tensors(args) + tensors(kwargs)]
        number = seen.get(id(module), 0) + 1
        seen[id(module)] = number
        call = Call(len(calls), names[id(module)], module, stack[-1] if stack else None, ins,
                    call_number=number)
        calls.append(call)
        stack.append(call.index)
        if call.is_leaf and ins:
            foreign.check_input(module, ins[0], call.name or type(module).__name__)

    def post_hook(module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        call = calls[stack.pop()]
        outs = tensors(output)
        call.out_shapes = [_per_sample(t, batch_size) for t in outs]
        call.out_values = sum(math.prod(s) for s in call.out_shapes)
        call.out_bytes = sum(math.prod(s) * t.element_size()
                             for s, t in zip(call.out_shapes, outs, strict=True))
        call.done = True

    modes = {id(m): (m, m.training) for m in model.modules()}
    handles = []
    shortcuts = []
    trace = Trace(calls)
    try:
        for module in model.modules():
            if isinstance(module, _SHAPE_PRESERVING) and "forward" not in vars(module):
                # These keep the shape (batch norm in eval mode), and their meta kernels are
                # Python decompositions: slow, and the first one imports torch._dynamo
                # (seconds). An empty copy of the input has the right shape; batch norm's
                # channel count is checked before (foreign.check_input).
                module.forward = _same_shape
                shortcuts.append(module)
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
            handles.append(module.register_forward_hook(post_hook, with_kwargs=True))
        model.eval()
        inputs = tuple(torch.empty((batch_size, *s), dtype=dtype, device="meta")
                       for s in shapes)
        try:
            with torch.no_grad():
                torch.func.functional_call(model, meta_state(model), inputs)
        except StriateError as err:
            trace.error, trace.failed_at = _locate(err, calls, stack)
        except Exception as err:  # a forward may raise anything; report it on one line
            trace.error, trace.failed_at = _locate(err, calls, stack)
    finally:
        for handle in handles:
            handle.remove()
        for module in shortcuts:
            del module.forward
        for module, mode in modes.values():
            module.train(mode)
    return trace


_SHAPE_PRESERVING = (
    nn.modules.batchnorm._BatchNorm, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU,
    nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh,
    nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign, nn.LogSigmoid, nn.Softmax,
    nn.LogSoftmax, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.LocalResponseNorm,
)


def _same_shape(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return torch.empty_like(x)


def _locate(err: BaseException, calls: list[Call], stack: list[int]
            ) -> tuple[StriateError, int | None]:
    at = stack[-1] if stack else None
    where = label(calls[at]) if at is not None else "forward"
    if isinstance(err, StriateError):
        return err.at(where), at
    text = first_line(err)
    if "meta" in text.lower():
        text += " (striate runs the forward on the meta device, without data; " \
                "data-dependent code cannot be summarised)"
    return ShapeError(text).at(where), at
