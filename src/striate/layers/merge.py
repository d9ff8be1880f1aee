"""Merges for skip connections and branches: Add, Concat, Crop.

They take several inputs: ``forward(*inputs)`` and ``output_shape(*in_shapes)``. Shapes
that cannot be merged raise a ShapeError naming both shapes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.fx
from torch import nn

from striate.layers._util import as_shape, ntuple
from striate.layers.base import Layer, Shape
from striate.layers.errors import ConfigError, ShapeError
from striate.layers.registry import register_layer


def _inputs(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Accept ``f(a, b)`` and ``f([a, b])``."""
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)) and (
            not inputs[0] or not isinstance(inputs[0][0], int)):
        return tuple(inputs[0])
    return inputs


def _shapes(in_shapes: tuple[Any, ...], layer: str, minimum: int = 1) -> list[Shape]:
    shapes = [as_shape(s, layer) for s in _inputs(in_shapes)]
    if len(shapes) < minimum:
        raise ShapeError(f"{layer} needs at least {minimum} inputs; received {len(shapes)}")
    return shapes


@register_layer("add")
class Add(Layer, nn.Module):
    """Element-wise sum of several inputs of the same shape (residual connections).

    Shape:
        (S, S, …) -> S
    """

    def output_shape(self, *in_shapes: Shape, strict: bool = False) -> Shape:
        shapes = _shapes(in_shapes, "Add")
        for i, shape in enumerate(shapes[1:], start=1):
            if shape != shapes[0]:
                raise ShapeError(
                    f"Add: input 0 has shape {shapes[0]} but input {i} has shape {shape}; "
                    f"the branches must agree (a projection shortcut can change channels "
                    f"and stride)"
                )
        return shapes[0]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        tensors = _inputs(inputs)
        traced = any(isinstance(t, torch.fx.Proxy) for t in tensors)
        if not traced and any(t.shape != tensors[0].shape for t in tensors[1:]):
            self.output_shape(*(tuple(t.shape[1:]) for t in tensors))
        total = tensors[0]
        for t in tensors[1:]:
            total = total + t
        return total

    def config(self) -> dict[str, Any]:
        return {}


@register_layer("concat")
class Concat(Layer, nn.Module):
    """Concatenate inputs along ``dim`` (counted with the batch axis, as in ``torch.cat``;
    1 = channels). The other axes must agree.

    Shape:
        (C1, H, W), (C2, H, W) -> (C1 + C2, H, W)
    """

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int) or dim == 0:
            raise ConfigError(
                f"dim must be a non-zero integer (0 is the batch axis). Received: dim={dim!r}"
            )
        self.dim = dim

    def output_shape(self, *in_shapes: Shape, strict: bool = False) -> Shape:
        shapes = _shapes(in_shapes, "Concat")
        rank = len(shapes[0])
        axis = self.dim - 1 if self.dim > 0 else rank + self.dim
        if not 0 <= axis < rank:
            raise ShapeError(f"Concat(dim={self.dim}): inputs of shape {shapes[0]} have no "
                             f"such axis")
        for i, shape in enumerate(shapes[1:], start=1):
            others_agree = len(shape) == rank and all(
                a == b for j, (a, b) in enumerate(zip(shape, shapes[0], strict=True)) if j != axis)
            if not others_agree:
                raise ShapeError(
                    f"Concat(dim={self.dim}): input 0 has shape {shapes[0]} but input {i} has "
                    f"shape {shape}; all axes but {self.dim} must agree (crop or pad the "
                    f"larger one)"
                )
        total = sum(s[axis] for s in shapes)
        return (*shapes[0][:axis], total, *shapes[0][axis + 1:])

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        tensors = _inputs(inputs)
        try:
            return torch.cat(tensors, self.dim)
        except RuntimeError as err:
            try:
                self.output_shape(*(tuple(t.shape[1:]) for t in tensors))
            except ShapeError as shape_err:
                raise shape_err from err
            raise

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim}


@register_layer("crop")
class Crop(Layer, nn.Module):
    """Crop the spatial axes of the first input to the size of the second (FCN's skip
    connections, U-Net). ``offset`` is where the crop starts on each spatial axis (an int,
    a tuple, or ``"center"``); Caffe's FCN models use fixed offsets such as 19.

    Shape:
        (C, H, W), (C', h, w) -> (C, h, w)
    """

    def __init__(self, offset: int | tuple[int, ...] | list[int] | str = 0) -> None:
        super().__init__()
        if isinstance(offset, str):
            if offset != "center":
                raise ConfigError(
                    f"offset must be an integer, a tuple or 'center'. Received: offset={offset!r}"
                )
        elif isinstance(offset, (list, tuple)):
            offset = ntuple(offset, len(offset), "offset", minimum=0)
        else:
            ntuple(offset, 1, "offset", minimum=0)
        self.offset = offset

    def _offsets(self, big: Shape, small: Shape) -> tuple[int, ...]:
        dims = len(big) - 1
        if self.offset == "center":
            return tuple((b - s) // 2 for b, s in zip(big[1:], small[1:], strict=True))
        return ntuple(self.offset, dims, "offset", minimum=0)

    def output_shape(self, *in_shapes: Shape, strict: bool = False) -> Shape:
        shapes = _shapes(in_shapes, "Crop", minimum=2)
        if len(shapes) != 2:
            raise ShapeError(f"Crop takes 2 inputs (to crop, reference); received {len(shapes)}")
        big, small = shapes
        if len(big) != len(small) or len(big) < 2:
            raise ShapeError(
                f"Crop: cannot crop shape {big} to the spatial size of shape {small}; both need "
                f"the same number of axes (C, *spatial)"
            )
        offsets = self._offsets(big, small)
        if any(o + s > b for o, s, b in zip(offsets, small[1:], big[1:], strict=True)):
            raise ShapeError(
                f"Crop(offset={self.offset}): shape {big} is too small to crop {small[1:]} "
                f"at offset {offsets} from it; use a smaller offset or crop the other input"
            )
        return (big[0], *small[1:])

    def forward(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        big, small = tuple(x.shape[1:]), tuple(reference.shape[1:])
        self.output_shape(big, small)
        offsets = self._offsets(big, small)
        index = (Ellipsis, *(slice(o, o + s) for o, s in zip(offsets, small[1:], strict=True)))
        return x[index]

    def config(self) -> dict[str, Any]:
        return {"offset": list(self.offset) if isinstance(self.offset, tuple) else self.offset}
