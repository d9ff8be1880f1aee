"""Fully connected layers and their helpers: Dense (input size inferred), Flatten, Dropout."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from striate.layers._util import as_shape, positive, probability, rethrow_shape
from striate.layers.base import Layer, Shape
from striate.layers.errors import ConfigError, ShapeError
from striate.layers.registry import register_layer


@register_layer("dense")
class Dense(LazyModuleMixin, nn.Linear, Layer):
    """Fully connected layer ``y = W·x + b`` on the last axis.

    With ``in_features=None`` the input size is taken from the first forward (like
    ``nn.LazyLinear``); ``output_shape`` and ``macs`` work before that. The module stays a
    ``Dense`` after it is initialised.

    Shape:
        (*, F_in) -> (*, out_features); parameters F_in·F_out + F_out; MACs F_in·F_out.

    Raises:
        ShapeError: the input's last axis differs from ``in_features`` (the message says
            which shape arrived and suggests a Flatten).
    """

    cls_to_become = None  # stay a Dense (nn.LazyLinear turns itself into nn.Linear)

    def __init__(self, out_features: int, in_features: int | None = None,
                 bias: bool = True) -> None:
        positive("out_features", out_features)
        if in_features is None:
            super().__init__(0, 0, False)
            self.weight = UninitializedParameter()
            self.out_features = out_features
            if bias:
                self.bias = UninitializedParameter()
        else:
            super().__init__(positive("in_features", in_features), out_features, bias)

    def reset_parameters(self) -> None:
        if not self.lazy:
            super().reset_parameters()

    def initialize_parameters(self, x: torch.Tensor, *args: Any) -> None:
        """Set ``in_features`` from the first input (lazy mode only)."""
        if not self.lazy:
            return
        # New parameters rather than materialize(): after .to("meta") PyTorch has already
        # replaced the uninitialised parameters by empty ordinary ones.
        factory = {"device": self.weight.device, "dtype": self.weight.dtype}
        self.in_features = int(x.shape[-1])
        self.weight = nn.Parameter(torch.empty(self.out_features, self.in_features, **factory))
        if self.bias is not None:
            self.bias = nn.Parameter(torch.empty(self.out_features, **factory))
        self.reset_parameters()

    @property
    def lazy(self) -> bool:
        """True until the input size is known."""
        return self.has_uninitialized_params() or self.in_features == 0

    def describe(self) -> str:
        return f"Dense({'?' if self.lazy else self.in_features}→{self.out_features})"

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shape = as_shape(in_shape, self.describe())
        if not shape:
            raise ShapeError(f"{self.describe()}: the input needs at least one axis")
        if not self.lazy and shape[-1] != self.in_features:
            hint = (f"put a Flatten before it ({'·'.join(map(str, shape))} = "
                    f"{math.prod(shape)} features)" if len(shape) > 1 else
                    f"set in_features={shape[-1]}")
            raise ShapeError(
                f"{self.describe()} expects {self.in_features} input features on the last "
                f"axis but received shape {shape}; {hint}"
            )
        return (*shape[:-1], self.out_features)

    def macs(self, in_shape: Shape) -> int:
        out = self.output_shape(in_shape)
        return math.prod(out) * int(in_shape[-1])

    def config(self) -> dict[str, Any]:
        return {"out_features": self.out_features,
                "in_features": None if self.lazy else self.in_features,
                "bias": self.bias is not None}

    def extra_repr(self) -> str:
        if self.lazy:
            return f"out_features={self.out_features}, in_features=None (inferred at the first " \
                   f"forward), bias={self.bias is not None}"
        return nn.Linear.extra_repr(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return nn.Linear.forward(self, x)
        except RuntimeError as err:
            rethrow_shape(self, x, err)
            raise


@register_layer("flatten")
class Flatten(Layer, nn.Flatten):
    """Flatten the per-sample axes into one (by default all of them).

    ``start_dim``/``end_dim`` count the batch axis, as in ``nn.Flatten``.

    Shape:
        (C, H, W) -> (C·H·W,)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an integer. Received: {name}={value!r}")
        if start_dim == 0:
            raise ConfigError(
                "start_dim=0 would merge the batch axis into the features; use start_dim=1. "
                "Received: start_dim=0"
            )
        super().__init__(start_dim, end_dim)

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        shape = (1, *as_shape(in_shape, "Flatten"))
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        if start > end:
            return shape[1:]
        merged = math.prod(shape[start:end + 1])
        return (*shape[1:start], merged, *shape[end + 1:])

    def config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}


@register_layer("dropout")
class Dropout(Layer, nn.Dropout):
    """Zero each value with probability ``p`` in training and scale the rest by
    ``1/(1 − p)`` (inverted dropout, so evaluation is the identity)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(probability("p", p), inplace)

    def config(self) -> dict[str, Any]:
        return {"p": self.p, "inplace": self.inplace}


@register_layer("dropout2d")
class Dropout2d(Layer, nn.Dropout2d):
    """Zero whole channels with probability ``p`` in training (spatial dropout)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(probability("p", p), inplace)

    def config(self) -> dict[str, Any]:
        return {"p": self.p, "inplace": self.inplace}


@register_layer("identity")
class Identity(Layer, nn.Identity):
    """Pass the input through unchanged (a placeholder, an identity shortcut)."""

    def __init__(self) -> None:
        super().__init__()
