"""Name → layer class, for the spec format and for error suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from striate.layers.errors import ConfigError

LAYERS: dict[str, type] = {}


def register_layer(name: str) -> Callable[[type], type]:
    """Class decorator: make a layer available to specs as ``name``."""

    def decorate(cls: type) -> type:
        if name in LAYERS:
            raise ValueError(f"layer type {name!r} is registered twice")
        LAYERS[name] = cls
        cls.type_name = name
        return cls

    return decorate


def get_layer(name: str) -> type:
    """The class registered as ``name``, or a ConfigError with the closest names."""
    import striate.layers  # noqa: F401  (registers every layer)

    if name not in LAYERS:
        close = difflib.get_close_matches(name, LAYERS, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ConfigError(f"unknown layer type {name!r}{hint}")
    return LAYERS[name]
