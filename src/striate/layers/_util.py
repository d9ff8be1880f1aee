"""Argument and shape checks shared by the layers (private)."""

from __future__ import annotations

import math
import operator
from typing import Any

import torch

from striate.layers.errors import ConfigError, ShapeError
from striate.layers.formulas import check_positive

Shape = tuple[int, ...]


def ntuple(value: Any, n: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints ``>= minimum``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    bad = len(items) != n or any(
        isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in items
    )
    if bad:
        need = "positive" if minimum == 1 else "non-negative"
        raise ConfigError(
            f"{name} must be a {need} integer or {n} of them. Received: {name}={value!r}"
        )
    return items


def positive(name: str, value: Any) -> int:
    """A positive int, else a ConfigError naming the argument."""
    return check_positive(name, value)


def probability(name: str, value: Any) -> float:
    """A float in [0, 1], else a ConfigError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be between 0 and 1. Received: {name}={value!r}")
    return float(value)


def _size(value: Any) -> int:
    """One size: an int (NumPy's and torch's too) or an integral float; 8.5 is an error."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        raise TypeError("a size is not a bool")
    return operator.index(value)


def as_shape(in_shape: Any, layer: str) -> Shape:
    """The per-sample shape as a tuple of positive ints, or a ShapeError."""
    try:
        shape = tuple(_size(s) for s in in_shape)
    except (TypeError, ValueError):
        raise ShapeError(f"{layer}: a shape is a tuple of ints. Received: {in_shape!r}") from None
    if any(s <= 0 for s in shape):
        raise ShapeError(f"{layer}: sizes must be positive. Received shape {shape}")
    return shape


def check_rank(in_shape: Any, rank: int, layer: str, what: str) -> Shape:
    """Check a per-sample shape has ``rank`` axes (``what`` names them, e.g. ``(C, H, W)``)."""
    shape = as_shape(in_shape, layer)
    if len(shape) != rank:
        raise ShapeError(
            f"{layer} expects a per-sample input {what} ({rank} axes) but received shape "
            f"{shape}; shapes are per sample, without the batch axis"
        )
    return shape


def channels_fix(shape: Shape, expected: int, name: str = "in_channels",
                 verb: str = "set") -> str:
    """How to fix a channel mismatch: channels-last data (``(224, 224, 3)``), else another
    ``name``. (A shape with its batch axis fails the rank check before this.)"""
    shape = tuple(shape)
    if len(shape) > 1 and shape[-1] == expected:
        return f"the channels come first (channels-last data?): use {(shape[-1], *shape[:-1])}"
    return f"{verb} {name}={shape[0]} or fix the layer before it"


def check_channels(shape: Shape, expected: int, layer: str, name: str = "in_channels") -> None:
    """The first axis must hold ``expected`` channels."""
    if shape[0] != expected:
        raise ShapeError(
            f"{layer} expects {expected} input channels but received shape {shape} "
            f"({shape[0]} channels); {channels_fix(shape, expected, name)}"
        )


def kxs(kernel: tuple[int, ...], stride: tuple[int, ...]) -> str:
    """``k=3, s=2`` (square) or ``k=3x5, s=1x2`` for error messages."""

    def one(t: tuple[int, ...]) -> str:
        return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))

    return f"k={one(kernel)}, s={one(stride)}"


def rethrow_shape(layer: Any, x: torch.Tensor, err: RuntimeError, *others: torch.Tensor) -> None:
    """Turn PyTorch's RuntimeError for a bad input into the layer's ShapeError, if it has one."""
    try:
        if others:
            layer.output_shape(*(tuple(t.shape[1:]) for t in (x, *others)))
        else:
            layer.output_shape(tuple(x.shape[1:]))
    except ShapeError as shape_err:
        raise shape_err from err


def numel(shape: Shape) -> int:
    """Number of values in a shape."""
    return math.prod(shape)


_TORCH_FORWARD: dict[type, Any] = {}


def torch_forward(layer: Any, x: torch.Tensor) -> torch.Tensor:
    """The forward of the torch class a striate layer extends (looked up once per class)."""
    forward = _TORCH_FORWARD.get(type(layer))
    if forward is None:
        forward = next((cls.__dict__["forward"] for cls in type(layer).__mro__[1:]
                        if cls.__module__.startswith("torch.nn") and "forward" in cls.__dict__),
                       None)
        if forward is None:
            raise TypeError(f"{type(layer).__name__} extends no torch module")
        _TORCH_FORWARD[type(layer)] = forward
    return forward(layer, x)
