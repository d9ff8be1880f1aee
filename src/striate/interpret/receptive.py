"""Where a unit of a layer looks in the input: its receptive-field box, clipped to the image.

The receptive field comes from the foundation's arithmetic
(:func:`striate.arith.receptive.receptive_fields`); while that is unavailable for a model, a
chain walk over the convolutions and poolings gives the same numbers for sequential models.
Unit ``u`` sees input positions ``u·stride − padding … u·stride − padding + size − 1`` per
axis (Araujo et al., Distill 2019).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from striate.interpret._common import find_layer


@dataclass(frozen=True)
class Field:
    """Per-axis receptive field ``size``, effective ``stride`` and effective ``padding``."""

    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    def box(self, unit: Sequence[int], bounds: Sequence[int]) -> tuple[slice, ...]:
        """The input slices seen by ``unit``, clipped to ``bounds`` (the input's size).

        A unit without position (a dense layer's feature, ``()``) sees its whole field."""
        unit = tuple(unit) or (0,) * len(self.size)
        out = []
        for u, size, stride, pad, n in zip(unit, self.size, self.stride, self.padding, bounds,
                                           strict=True):
            start = u * stride - pad
            out.append(slice(max(start, 0), min(start + size, n)))
        return tuple(out)

    def full_box(self, unit: Sequence[int]) -> tuple[tuple[int, int], ...]:
        """``(start, stop)`` per axis before clipping (may run past the borders)."""
        unit = tuple(unit) or (0,) * len(self.size)
        return tuple((u * st - p, u * st - p + s) for u, s, st, p in
                     zip(unit, self.size, self.stride, self.padding, strict=True))


def receptive_field(model: nn.Module, input_shape: Sequence[int], layer: str) -> Field:
    """The receptive field of ``layer``'s units on an input of per-sample ``input_shape``."""
    find_layer(model, layer)
    try:
        from striate.arith.receptive import receptive_fields
    except ImportError:
        receptive_fields = None
    if receptive_fields is not None:
        try:
            rf = receptive_fields(model, tuple(input_shape))[layer]
            return Field(tuple(rf.size), tuple(rf.stride), tuple(rf.padding))
        except (KeyError, NotImplementedError, TypeError, AttributeError):
            pass  # a model the arithmetic does not cover: the chain walk below
    return _chain_field(model, input_shape, layer)


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(int(a) for a in v) if isinstance(v, tuple | list) else (int(v),) * n


def _chain_field(model: nn.Module, input_shape: Sequence[int], layer: str) -> Field:
    from striate.interpret._common import model_device
    from striate.interpret._rules import leaves_before

    n = len(input_shape) - 1
    x = torch.zeros((1, *input_shape), device=model_device(model))
    size, jump, pad = [1] * n, [1] * n, [0] * n
    for _name, mod in leaves_before(model, x, layer):
        window = _window(mod, n)
        if window is None:
            continue
        k, s, p, d = window
        for a in range(n):
            size[a] += d[a] * (k[a] - 1) * jump[a]
            pad[a] += p[a] * jump[a]
            jump[a] *= s[a]
    return Field(tuple(size), tuple(jump), tuple(pad))


def _window(mod: nn.Module, n: int) -> tuple[tuple[int, ...], ...] | None:
    rf = getattr(mod, "rf", None)
    if callable(rf):
        params = rf()
        if params is not None:
            return params.kernel, params.stride, params.padding, params.dilation
        return None
    if isinstance(mod, nn.modules.conv._ConvNd | nn.modules.pooling._MaxPoolNd
                  | nn.modules.pooling._AvgPoolNd):
        k = _tuple(mod.kernel_size, n)
        s = _tuple(mod.stride or mod.kernel_size, n)
        d = _tuple(getattr(mod, "dilation", 1), n)
        p = mod.padding
        if p == "same":  # PyTorch puts the odd extra zero on the right
            p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d, strict=True))
        p = (0,) * n if isinstance(p, str) else _tuple(p, n)
        return k, s, p, d
    return None
