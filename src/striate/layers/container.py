"""Sequential: a chain of layers whose arithmetic is the fold of its children's."""

from __future__ import annotations

from typing import Any

from torch import nn

from striate.layers.base import Layer, RFParams, Shape
from striate.layers.errors import StriateError


def chain_shape(layers: Any, in_shape: Shape, *, strict: bool = False) -> Shape:
    """Pass a shape through layers in order; an error is located at the failing child."""
    shape = tuple(in_shape)
    for name, layer in _named(layers):
        try:
            shape = layer.output_shape(shape, strict=strict)
        except StriateError as err:
            raise err.at(name) from None
    return shape


def chain_macs(layers: Any, in_shape: Shape) -> int:
    """Sum of the children's multiply-adds, each at its own input shape."""
    shape, total = tuple(in_shape), 0
    for name, layer in _named(layers):
        try:
            total += layer.macs(shape)
            shape = layer.output_shape(shape)
        except StriateError as err:
            raise err.at(name) from None
    return total


def _named(layers: Any) -> list[tuple[str, Any]]:
    if isinstance(layers, nn.Module):
        return list(layers.named_children())
    return [(str(i), layer) for i, layer in enumerate(layers)]


class Sequential(Layer, nn.Sequential):
    """``nn.Sequential`` of striate layers, with ``output_shape``/``macs`` folded over them.

    ``rf()`` is None: the receptive-field engine composes the children's windows.
    """

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        return chain_shape(self, in_shape, strict=strict)

    def macs(self, in_shape: Shape) -> int:
        return chain_macs(self, in_shape)

    def rf(self) -> RFParams | None:
        return None

    def config(self) -> dict[str, Any]:
        """Children are modules, not JSON; a spec lists them as layers instead."""
        return {}
