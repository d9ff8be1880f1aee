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
            raise located(err, name) from None
    return shape


def chain_macs(layers: Any, in_shape: Shape) -> int:
    """Sum of the children's multiply-adds, each at its own input shape."""
    shape, total = tuple(in_shape), 0
    for name, layer in _named(layers):
        try:
            total += layer.macs(shape)
            shape = layer.output_shape(shape)
        except StriateError as err:
            raise located(err, name) from None
    return total


def located(err: StriateError, child: str) -> StriateError:
    """The error with the child's name in front of its message (``conv1: Conv2d(…): …``);
    the caller that knows the block's own name adds it with ``.at``."""
    if err.where:
        return err
    clone = type(err).__new__(type(err))
    clone.__dict__.update(err.__dict__)
    StriateError.__init__(clone, f"{child}: {err.message}")
    return clone


def _named(layers: Any) -> list[tuple[str, Any]]:
    """(name, layer) pairs of a module's children, of a list of pairs, or of a list."""
    if isinstance(layers, nn.Module):
        return list(layers.named_children())
    items = list(layers)
    if all(isinstance(item, tuple) for item in items):
        return items
    return [(str(i), layer) for i, layer in enumerate(items)]


class Sequential(Layer, nn.Sequential):
    """``nn.Sequential`` of striate layers, with ``output_shape``/``macs`` folded over them.

    ``rf()`` is None: the receptive-field engine composes the children's windows.
    """

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        return chain_shape(self, in_shape, strict=strict)

    def macs(self, in_shape: Shape) -> int:
        return chain_macs(self, in_shape)

    def rf(self, in_shape: Shape | None = None) -> RFParams | None:
        return None

    def config(self) -> dict[str, Any]:
        """Children are modules, not JSON; a spec lists them as layers instead."""
        return {}
