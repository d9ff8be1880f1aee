"""striate: convolutional neural networks on PyTorch.

Define a CNN (Python, a YAML spec, the zoo), inspect it (shapes, parameters, multiply-adds,
memory, receptive fields), train it, look inside it and deploy it.

The top-level names are imported lazily so that ``import striate`` stays fast and the
command line starts quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "summary": "striate.arith.summary",
    "receptive_fields": "striate.arith.receptive",
    "load_spec": "striate.spec.load",
    "build": "striate.spec.build",
    "to_spec": "striate.spec.dump",
    "save": "striate.spec.modelfile",
    "load": "striate.spec.modelfile",
    "StriateError": "striate.layers.errors",
    "ShapeError": "striate.layers.errors",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in {"layers", "arith", "reference", "spec", "zoo", "data", "train", "interpret",
                "interop"}:
        return importlib.import_module(f"striate.{name}")
    raise AttributeError(f"module 'striate' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
