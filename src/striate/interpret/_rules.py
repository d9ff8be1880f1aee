"""Backward rules through rectifiers: plain gradient, DeconvNet and guided backpropagation.

The three differ only in what goes back through a ReLU (Springenberg et al. 2015, fig. 1):

- gradient: ``R_in = R_out · [x > 0]`` (the forward pass's mask);
- DeconvNet (Zeiler & Fergus 2013): ``R_in = max(R_out, 0)`` (the signal is rectified, the
  forward mask is ignored);
- guided backpropagation: ``R_in = max(R_out, 0) · [x > 0]`` (both).

Everything else goes back by its vector-Jacobian product: for a convolution that is the
transposed filter, for max pooling the unpooling through the recorded switches (the argmax
positions), for average pooling, batch norm (eval) and dense layers their linear transpose.
The rules are installed as forward hooks on the ``nn.ReLU``/``LeakyReLU``/``ReLU6``
modules, so a ReLU called as a function inside ``forward`` keeps its gradient rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from striate.layers.errors import ConfigError

RECTIFIERS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)

#: smooth or stochastic layers with no DeconvNet rule: the method does not apply through them
NOT_INVERTIBLE = (nn.Tanh, nn.Sigmoid, nn.Softmax, nn.LogSoftmax, nn.GELU, nn.ELU, nn.SELU,
                  nn.CELU, nn.SiLU, nn.Mish, nn.Softplus, nn.Hardtanh, nn.Hardswish,
                  nn.Hardsigmoid, nn.Tanhshrink, nn.Softsign, nn.LPPool1d, nn.LPPool2d)
NOT_INVERTIBLE_NAMES = ("L2Pool", "StochasticPool", "Tanh", "Sigmoid", "Softmax")


def not_invertible(mod: nn.Module) -> bool:
    """True for a layer DeconvNet cannot go back through (no rectifier, no linear map)."""
    if isinstance(mod, nn.ReLU6):
        return False
    return isinstance(mod, NOT_INVERTIBLE) or any(
        n in type(mod).__name__ for n in NOT_INVERTIBLE_NAMES)


class _Rule(torch.autograd.Function):
    """Identity forward (returns the rectifier's output); the chosen rule backward."""

    @staticmethod
    def forward(ctx: Any, inp: torch.Tensor, out: torch.Tensor, mode: str,
                slope: float) -> torch.Tensor:
        ctx.mode = mode
        ctx.slope = slope
        ctx.save_for_backward(inp > 0)
        return out.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        (mask,) = ctx.saved_tensors
        if ctx.mode == "deconvnet":
            g = F.leaky_relu(grad, ctx.slope) if ctx.slope else grad.clamp(min=0)
        else:  # guided
            g = grad.clamp(min=0) * torch.where(mask, 1.0, ctx.slope).to(grad.dtype)
        return g, None, None, None


@contextmanager
def backward_rule(model: nn.Module, mode: str) -> Iterator[None]:
    """Within this block, ``model``'s rectifier modules go back by ``mode``
    (``"gradient"``, ``"deconvnet"`` or ``"guided"``)."""
    if mode not in ("gradient", "deconvnet", "guided"):
        raise ConfigError(f"unknown backward rule {mode!r}; use gradient, deconvnet or guided")
    if mode == "gradient":
        yield
        return
    handles, inplace = [], []
    for mod in model.modules():
        if isinstance(mod, RECTIFIERS):
            if getattr(mod, "inplace", False):
                # an in-place ReLU overwrites its input, which the rule needs
                mod.inplace = False
                inplace.append(mod)
            slope = float(mod.negative_slope) if isinstance(mod, nn.LeakyReLU) else 0.0

            def hook(_m: nn.Module, inp: Any, out: torch.Tensor, slope: float = slope) -> Any:
                return _Rule.apply(inp[0], out, mode, slope)

            handles.append(mod.register_forward_hook(hook))
    try:
        yield
    finally:
        for h in handles:
            h.remove()
        for mod in inplace:
            mod.inplace = True


@contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (dropout off, batch norm with running statistics), restored afterwards."""
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


def leaves_before(model: nn.Module, x: torch.Tensor, layer: str) -> list[tuple[str, nn.Module]]:
    """The leaf modules that run before (and including) ``layer``, in execution order."""
    from striate.interpret._common import StopForward, find_layer, run_model

    target = find_layer(model, layer)
    order: list[tuple[str, nn.Module]] = []
    handles = []
    for name, mod in model.named_modules():
        if name and (not any(mod.children()) or mod is target):
            def hook(m: nn.Module, _i: Any, _o: Any, name: str = name) -> None:
                order.append((name, m))
                if m is target:
                    raise StopForward

            handles.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            run_model(model, x)
    except StopForward:
        pass
    finally:
        for h in handles:
            h.remove()
    return order
