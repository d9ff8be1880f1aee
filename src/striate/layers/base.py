"""The arithmetic every striate layer knows about itself.

A striate layer subclasses the torch module it extends (``class Conv2d(nn.Conv2d, Layer)``),
keeps PyTorch's argument names, and adds four methods beside ``forward``:

- ``output_shape(in_shape)``: the per-sample output shape, e.g. ``(C, H, W) -> (C', H', W')``;
  merges take several shapes: ``output_shape(*in_shapes)``. Raises ``ShapeError`` when the
  input does not fit, with the formula and the numbers.
- ``macs(in_shape)``: multiply-adds of one sample's forward pass (convolution and dense
  layers; 0 for the rest, the convention of the ResNet paper and torchvision's tables).
- ``rf()``: the per-axis kernel/stride/padding/dilation of the window the layer slides
  (for the receptive field), or ``None`` when the layer leaves the receptive field unchanged.
- ``config()``: the constructor arguments as a JSON-able dict, so that
  ``type(layer)(**layer.config())`` builds the same layer (the spec format relies on it).

Strict mode is a keyword, not a module attribute: ``output_shape(in_shape, strict=True)``
raises a ``ShapeError`` with the fix (``use padding=1 or stride=2``) when a window does not
fit exactly. The default (``strict=False``) follows PyTorch: the output size is rounded down
and the trailing inputs no window reaches are dropped; ``dropped_inputs(in_shape)`` says how
many per spatial axis, so that a summary can mark such layers. A window larger than the
padded input always raises. ``forward`` always follows PyTorch, but turns PyTorch's
``RuntimeError`` for an input that cannot fit into the same ``ShapeError``.

Parameter counts come from ``parameters()``, which works on the meta device too. Activation
size is ``prod(output_shape)``. Composite blocks fold over their children's methods and
never write a second formula.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from striate.layers.errors import ConfigError
from striate.layers.formulas import effective_kernel

Shape = tuple[int, ...]


@dataclass(frozen=True)
class RFParams:
    """The window a layer slides, per spatial axis (one entry per axis).

    ``padding`` is the padding before the first input (left/top), which is what moves the
    receptive field's start; ``dilation`` spreads the kernel to ``d·(k − 1) + 1`` inputs.
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        return tuple(effective_kernel(k, d)
                     for k, d in zip(self.kernel, self.dilation, strict=True))


def _naming_the_layer(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a constructor so that its ConfigError says which layer refused the argument:
    ``Conv2d: in_channels must be a positive integer. Received: in_channels=0``."""

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except ConfigError as err:
            # The innermost layer names it: a block's bad option is refused by its conv.
            raise err.at(type(self).__name__) from None

    checked.names_the_layer = True  # type: ignore[attr-defined]
    return checked


class Layer:
    """Mixin of the arithmetic methods; the defaults describe a shape-preserving layer."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "names_the_layer", False):
            cls.__init__ = _naming_the_layer(init)  # type: ignore[method-assign]

    def output_shape(self, in_shape: Shape, *, strict: bool = False) -> Shape:
        """Per-sample output shape for a per-sample input shape.

        Args:
            strict: raise a ShapeError (with the fix) when trailing inputs would be dropped.
        """
        return tuple(in_shape)

    def dropped_inputs(self, in_shape: Shape) -> tuple[int, ...]:
        """Trailing inputs no window reaches, per spatial axis (all 0 when it fits)."""
        return (0,) * max(len(in_shape) - 1, 0)

    def describe(self) -> str:
        """Short name used in error messages, e.g. ``Conv2d(k=3, s=3)``."""
        return type(self).__name__

    def macs(self, in_shape: Shape) -> int:
        """Multiply-adds for one sample."""
        return 0

    def activations(self, in_shape: Shape) -> int:
        """Values this layer outputs for one sample."""
        return math.prod(self.output_shape(in_shape))

    def rf(self, in_shape: Shape | None = None) -> RFParams | None:
        """The sliding window of this layer, or None if the receptive field is unchanged.

        Args:
            in_shape: the per-sample input shape, for the few layers whose padding depends
                on it (a strided ``padding="same"`` convolution); without it they assume
                sizes divisible by the stride.
        """
        return None

    def config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able: ``type(self)(**self.config())`` rebuilds it."""
        return {}
