"""Inspection arithmetic: the per-layer summary and receptive fields of any ``nn.Module``.

``summary(model, input_shape)`` and ``receptive_fields(model, input_shape)`` run the model
on PyTorch's meta device, so no activation memory is allocated.

The function ``summary`` is imported here on purpose: it shares its name with the module
``striate.arith.summary``, and importing it last makes ``striate.arith.summary(...)`` the
function, as the shared interface says (``from striate.arith.summary import X`` still
reads the module).
"""

from __future__ import annotations

from striate.arith.receptive import ReceptiveField, receptive_fields
from striate.arith.summary import LayerRow, Summary, summary

__all__ = ["LayerRow", "ReceptiveField", "Summary", "receptive_fields", "summary"]
