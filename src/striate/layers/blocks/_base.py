"""What every composite block shares (private)."""

from __future__ import annotations

from typing import Any

from striate.layers.base import Layer, RFParams, Shape


class Block(Layer):
    """A composite block: ``config()`` returns the plain options it was built from, and
    ``rf()`` is None because the receptive-field engine traces inside blocks."""

    _options: dict[str, Any]

    def _remember(self, **options: Any) -> None:
        self._options = options

    def config(self) -> dict[str, Any]:
        return dict(self._options)

    def rf(self, in_shape: Shape | None = None) -> RFParams | None:
        return None

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._options.items())
        return f"{type(self).__name__}({args})"
