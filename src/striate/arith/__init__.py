"""Inspection arithmetic: the per-layer summary and receptive fields of any ``nn.Module``.

``summary(model, input_shape)`` and ``receptive_fields(model, input_shape)`` run the model
on PyTorch's meta device, so no activation memory is allocated.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "summary": "striate.arith.summary",
    "Summary": "striate.arith.summary",
    "LayerRow": "striate.arith.summary",
    "receptive_fields": "striate.arith.receptive",
    "ReceptiveField": "striate.arith.receptive",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'striate.arith' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
