"""Networks as text: the YAML/JSON network spec (``load_spec``, ``build``, ``to_spec``) and
model files (``save``, ``load``): a folder with the spec, safetensors weights and metadata."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_spec": "striate.spec.load",
    "build": "striate.spec.build",
    "to_spec": "striate.spec.dump",
    "save": "striate.spec.modelfile",
    "load": "striate.spec.modelfile",
    "Spec": "striate.spec.model",
    "SpecError": "striate.spec.errors",
    "Network": "striate.spec.network",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'striate.spec' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
