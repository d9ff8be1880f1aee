"""The per-layer summary of any ``nn.Module``: shapes, parameters, multiply-adds, activation
memory and receptive fields, computed on the meta device (no activation is allocated).

Conventions (also printed under every table):

- MACs are the multiply-adds of convolution and dense layers, the convention of the ResNet
  paper and of torchvision's model tables; FLOPs, where shown, are 2 × MACs.
- Activations are the values a layer's output adds to memory for one sample: in-place
  layers (``ReLU(inplace=True)``) and views (Flatten, Identity) add none. The forward total
  includes the input.
- Forward + backward memory = parameters + their gradients + 2 × forward activations
  (activations kept for the backward pass, and their gradients); optimizer state (momentum,
  Adam's moments) is not counted.
- Receptive fields after Araujo et al. (Distill, 2019): size, jump (effective stride) and
  effective padding, the padded zeros included.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from striate.arith import foreign, trace
from striate.arith.receptive import ReceptiveField, analyse
from striate.layers.errors import ConfigError, StriateError

Shape = tuple[int, ...]

CONVENTIONS = {
    "macs": "multiply-adds of convolution and dense layers (ResNet paper, torchvision "
            "tables); FLOPs = 2 x MACs",
    "activations": "output values per sample; in-place layers and views add none; the "
                   "forward total includes the input",
    "train_bytes": "parameters + parameter gradients + 2 x forward activations (kept for "
                   "backward, and their gradients); optimizer state not counted",
    "receptive_field": "Araujo et al., Distill 2019: unit u sees input positions "
                       "u*stride - padding ... + size - 1 (padding included)",
}


@dataclass
class LayerRow:
    """One row: a module call (a leaf layer, or a container summing its leaves)."""

    name: str
    type: str
    depth: int
    is_group: bool
    output_shape: list[Shape]
    params: int
    trainable_params: int
    macs: int | None
    activations: int
    activation_bytes: int
    receptive_field: tuple[int, ...] | None = None
    effective_stride: tuple[int, ...] | None = None
    effective_padding: tuple[int, ...] | None = None
    dropped_inputs: tuple[int, ...] = ()
    call: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form of the row (per-axis tuples become lists)."""
        shape: Any = list(self.output_shape[0]) if len(self.output_shape) == 1 else [
            list(s) for s in self.output_shape]
        return {
            "name": self.name, "type": self.type, "depth": self.depth,
            "is_group": self.is_group, "output_shape": shape, "params": self.params,
            "trainable_params": self.trainable_params, "macs": self.macs,
            "activations": self.activations, "activation_bytes": self.activation_bytes,
            "receptive_field": _list(self.receptive_field),
            "effective_stride": _list(self.effective_stride),
            "effective_padding": _list(self.effective_padding),
            "dropped_inputs": list(self.dropped_inputs), "call": self.call,
        }


def _list(value: tuple[int, ...] | None) -> list[int] | None:
    return None if value is None else list(value)


@dataclass
class Summary:
    """The result of :func:`summary`: rows, totals and notes, printable in four formats."""

    model: str
    input_shapes: list[Shape]
    batch_size: int
    rows: list[LayerRow]
    totals: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    depth: int | None = None
    error: str | None = None

    @property
    def layers(self) -> list[LayerRow]:
        """The rows shown at this summary's depth (containers collapse to group rows)."""
        return [r for r in self.rows if self.depth is None or r.depth <= self.depth]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"layers": [...], "totals": {...}, ...}``."""
        return {
            "model": self.model,
            "input_shape": [list(s) for s in self.input_shapes] if len(self.input_shapes) > 1
            else list(self.input_shapes[0]),
            "batch_size": self.batch_size,
            "depth": self.depth,
            "layers": [r.to_dict() for r in self.layers],
            "totals": dict(self.totals),
            "notes": list(self.notes),
            "conventions": dict(CONVENTIONS),
            "error": self.error,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        import json

        return json.dumps(self.to_dict(), indent=2)

    def to_csv(self) -> str:
        from striate.arith.format import to_csv

        return to_csv(self)

    def to_markdown(self) -> str:
        from striate.arith.format import to_markdown

        return to_markdown(self)

    def __str__(self) -> str:
        from striate.arith.format import to_table

        return to_table(self)


def _params(module: nn.Module, recurse: bool) -> tuple[int, int]:
    total = trainable = 0
    for p in module.parameters(recurse=recurse):
        if is_lazy(p):
            continue
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return total, trainable


def _shape_text(shape: Shape) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def summary(model: nn.Module, input_shape: object = None, *, depth: int | None = None,
            strict: bool = False, batch_size: int = 1,
            dtype: torch.dtype | None = None) -> Summary:
    """Summarise ``model`` for one input shape, without allocating activations.

    Args:
        model: any ``nn.Module`` (its weights are neither copied nor changed).
        input_shape: per-sample shape, channels first, e.g. ``(3, 224, 224)`` or
            ``"3x224x224"``; a list of shapes for a model with several inputs. Defaults to
            the model's ``default_input_shape`` (zoo models, built specs).
        depth: show module rows down to this nesting depth (deeper ones fold into their
            container's row); None shows every row.
        strict: raise a ShapeError when a window drops trailing inputs (PyTorch rounds
            the output size down) instead of marking the row.
        batch_size: memory totals are for this many samples.
        dtype: input dtype; defaults to the dtype of the model's parameters.

    Raises:
        ShapeError: when the forward fails (the error names the layer and carries the rows
            up to it as ``err.partial``), or in strict mode when a window does not fit.
        ConfigError: for an invalid input shape, depth or batch size.
    """
    shapes = trace.input_shapes(trace.default_shape(model, input_shape))
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 0):
        raise ConfigError(f"depth must be a non-negative integer. Received: depth={depth!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer. Received: {batch_size!r}")
    with trace.lazy_on_meta(model) as runnable:
        result = trace.run(runnable, shapes, batch_size=batch_size, dtype=dtype)
        builder = _Builder(runnable, shapes, batch_size, depth, result.calls)
        if result.error is not None:
            builder.fail(result.error)
        try:
            builder.rows_from_calls(strict)
        except StriateError as err:
            builder.fail(err)
        try:
            per_call: dict[tuple[str, int], ReceptiveField] = {}
            fields, notes = analyse(runnable, shapes, result.calls, per_call)
        except StriateError as err:
            builder.fail(err)
        builder.add_receptive_fields(fields, notes, per_call)
        return builder.finish()


class _Builder:
    def __init__(self, model: nn.Module, shapes: list[Shape], batch_size: int,
                 depth: int | None, calls: list[trace.Call]) -> None:
        self.model, self.shapes, self.batch_size, self.depth = model, shapes, batch_size, depth
        self.calls = calls
        self.rows: list[LayerRow] = []
        self.row_of: dict[int, LayerRow] = {}
        self.notes: list[str] = []
        self.unknown: list[str] = []
        self.dtype = trace.model_dtype(model)

    def _shown(self, call: trace.Call) -> bool:
        # The model itself is the totals line, unless it is a single layer.
        return bool(call.name) or call.is_leaf

    def rows_from_calls(self, strict: bool) -> None:
        leaves_under: dict[int, list[trace.Call]] = {}
        for call in self.calls:
            if not call.done:
                continue
            if call.is_leaf:
                index = call.parent
                while index is not None:
                    leaves_under.setdefault(index, []).append(call)
                    index = self.calls[index].parent
        done = [c for c in self.calls if c.done]
        # Leaves first (a container's row sums them), rows in call order; strict mode
        # stops at the first leaf that does not fit, with the rows before it.
        try:
            for call in done:
                if call.is_leaf:
                    self.row_of[call.index] = self._leaf(call, strict)
        finally:
            for call in done:
                if not call.is_leaf and all(
                        c.index in self.row_of for c in leaves_under.get(call.index, [])):
                    self.row_of[call.index] = self._group(call,
                                                          leaves_under.get(call.index, []))
            self.rows = [self.row_of[c.index] for c in done
                         if c.index in self.row_of and self._shown(c)]

    def _leaf(self, call: trace.Call, strict: bool) -> LayerRow:
        module, where = call.module, call.name or type(call.module).__name__
        try:
            macs = foreign.macs(module, call.in_shapes, call.out_shapes)
        except StriateError as err:
            raise err.at(trace.label(call)) from None
        if macs is None:
            self.unknown.append(f"{where} ({type(module).__name__})")
        dropped: tuple[int, ...] = ()
        if call.in_shapes and call.out_shapes and len(call.in_shapes[0]) >= 2:
            if strict:
                foreign.strict_check(module, call.in_shapes[0], call.out_shapes[0], where)
            dropped = foreign.dropped(module, call.in_shapes[0], call.out_shapes[0])
            if dropped:
                self.notes.append(
                    f"{where} ({type(module).__name__}): the last {_axes(dropped)} of its "
                    f"{_shape_text(call.in_shapes[0])} input are never seen (PyTorch rounds "
                    "the output size down; strict=True / --strict makes this an error)")
        params, trainable = _params(module, True) if call.call_number == 1 else (0, 0)
        keeps = foreign.allocates(module)
        return LayerRow(
            call.name, type(module).__name__, call.depth, False, call.out_shapes, params,
            trainable, macs, call.out_values if keeps else 0, call.out_bytes if keeps else 0,
            dropped_inputs=dropped, call=call.call_number)

    def _group(self, call: trace.Call, leaves: list[trace.Call]) -> LayerRow:
        rows = [self.row_of[c.index] for c in leaves if c.index in self.row_of]
        macs: int | None = sum(r.macs or 0 for r in rows)
        if any(r.macs is None for r in rows):
            macs = None
        own = sum(p.numel() for p in call.module.parameters(recurse=False))
        if own and not foreign.is_striate(call.module) and call.call_number == 1:
            macs = None
            self.unknown.append(f"{call.name or type(call.module).__name__} "
                                f"({type(call.module).__name__}, {own:,} parameters of its "
                                "own used in its forward)")
        params, trainable = _params(call.module, True) if call.call_number == 1 else (0, 0)
        return LayerRow(
            call.name, type(call.module).__name__, call.depth, True, call.out_shapes, params,
            trainable, macs, sum(r.activations for r in rows),
            sum(r.activation_bytes for r in rows), call=call.call_number)

    def add_receptive_fields(self, fields: dict[str, ReceptiveField], notes: list[str],
                             per_call: dict[tuple[str, int], ReceptiveField]) -> None:
        for row in self.rows:
            rf = per_call.get((row.name, row.call)) if not row.is_group else None
            rf = rf or fields.get(row.name)
            if rf is not None and rf.size:
                row.receptive_field, row.effective_stride = rf.size, rf.stride
                row.effective_padding = rf.padding
        self.notes.extend(notes)

    def _totals(self, failed: bool = False) -> dict[str, Any]:
        seen: set[int] = set()
        params = trainable = param_bytes = grad_bytes = 0
        for p in self.model.parameters():
            if id(p) in seen or is_lazy(p):
                continue
            seen.add(id(p))
            params += p.numel()
            param_bytes += p.numel() * p.element_size()
            if p.requires_grad:
                trainable += p.numel()
                grad_bytes += p.numel() * p.element_size()
        buffer_bytes = sum(b.numel() * b.element_size() for b in self.model.buffers()
                           if not is_lazy(b))
        leaves = [self.row_of[c.index] for c in self.calls
                  if c.done and c.is_leaf and c.index in self.row_of]
        item = torch.empty((), dtype=self.dtype, device="meta").element_size()
        input_values = sum(math.prod(s) for s in self.shapes)
        activations = input_values + sum(r.activations for r in leaves)
        act_bytes = input_values * item + sum(r.activation_bytes for r in leaves)
        macs = sum(r.macs or 0 for r in leaves)
        forward_bytes = act_bytes * self.batch_size
        called = {id(p) for c in self.calls if c.done
                  for p in c.module.parameters(recurse=False)}
        unused = sorted({name.rsplit(".", 1)[0] for name, p in self.model.named_parameters()
                         if id(p) not in called})
        if unused and not failed:
            count = sum(p.numel() for p in self.model.parameters() if id(p) not in called)
            self.notes.append(f"{count:,} parameters belong to modules the forward did not "
                              f"call in eval mode: {', '.join(unused[:6])}"
                              f"{' …' if len(unused) > 6 else ''}")
        if self.unknown:
            self.notes.append("MACs are partial: unknown for " + ", ".join(self.unknown))
        return {
            "params": params, "trainable_params": trainable, "frozen_params": params - trainable,
            "macs": macs, "macs_partial": bool(self.unknown), "flops": 2 * macs,
            "input_activations": input_values, "activations": activations,
            "param_bytes": param_bytes, "buffer_bytes": buffer_bytes,
            "activation_bytes": act_bytes, "forward_bytes": forward_bytes,
            "train_bytes": param_bytes + grad_bytes + 2 * forward_bytes,
            "batch_size": self.batch_size, "dtype": str(self.dtype).replace("torch.", ""),
            "complete": not failed,
        }

    def finish(self, error: StriateError | None = None) -> Summary:
        return Summary(_model_name(self.model), self.shapes, self.batch_size, self.rows,
                       self._totals(error is not None), self.notes, self.depth,
                       str(error) if error is not None else None)

    def fail(self, err: StriateError) -> None:
        if not self.row_of:
            # The rows before the failure are a courtesy; the error is what matters.
            with contextlib.suppress(StriateError):
                self.rows_from_calls(False)
        err.partial = self.finish(err)  # type: ignore[attr-defined]
        raise err


def _model_name(model: nn.Module) -> str:
    """The zoo or spec name when the model has one (``vgg16 (Net)``), else its class."""
    kind = type(model).__name__
    zoo = getattr(model, "zoo_config", None)
    spec = getattr(model, "spec_info", None)
    name = (zoo or {}).get("name") if isinstance(zoo, dict) else None
    if not name and isinstance(spec, dict):
        name = spec.get("name")
    return f"{name} ({kind})" if name else kind


def _axes(dropped: tuple[int, ...]) -> str:
    if len(dropped) == 1:
        return f"{dropped[0]} position{'s' if dropped[0] != 1 else ''}"
    names = [("row", "rows"), ("column", "columns")] if len(dropped) == 2 else [
        (f"position of axis {i}", f"positions of axis {i}") for i in range(len(dropped))]
    return " and ".join(f"{d} {name[d != 1]}" for d, name in zip(dropped, names, strict=True)
                        if d)
