"""What every composite block shares (private)."""

from __future__ import annotations

from typing import Any

from striate.layers.base import Layer, RFParams, Shape
from striate.layers.formulas import check_positive

# Block options that count channels, layers or classes: each must be a positive integer.
_COUNTS = frozenset({
    "in_channels", "out_channels", "mid_channels", "stride", "squeeze", "expand1x1",
    "expand3x3", "c1", "c3_reduce", "c3", "c5_reduce", "c5", "pool_proj", "num_layers",
    "growth_rate", "bn_size", "num_classes",
})


class Block(Layer):
    """A composite block: ``config()`` returns the plain options it was built from, and
    ``rf()`` is None because the receptive-field engine traces inside blocks."""

    _options: dict[str, Any]

    def _remember(self, **options: Any) -> None:
        """Keep the options for ``config()``, after checking the counts among them, so that
        ``Fire(64, 0, 64, 64)`` names ``squeeze`` rather than the inner conv's argument."""
        for name, value in options.items():
            if name in _COUNTS and value is not None:
                check_positive(name, value)
        self._options = options

    def config(self) -> dict[str, Any]:
        return dict(self._options)

    def rf(self, in_shape: Shape | None = None) -> RFParams | None:
        return None

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._options.items())
        return f"{type(self).__name__}({args})"
