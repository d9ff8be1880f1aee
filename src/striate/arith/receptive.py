"""Receptive fields, effective strides and effective paddings through any traceable graph.

The recurrences of Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks" (Distill, 2019), applied per spatial axis to every layer ``l`` with kernel
``k``, stride ``s``, left padding ``p`` and dilation ``d`` (``k_eff = d·(k − 1) + 1``)::

    r_l = r_{l-1} + (k_eff − 1)·j_{l-1}      (receptive field size)
    j_l = j_{l-1}·s                           (jump, the effective stride)
    P_l = P_{l-1} + p·j_{l-1}                 (effective padding)

so that unit ``u`` of layer ``l`` sees the input positions ``u·j_l − P_l … u·j_l − P_l +
r_l − 1`` (the padded zeros included). Where paths meet (a residual add, an inception
concat) the region is the union over the paths, which is the maximum when the paths are
centred alike; paths with different jumps cannot meet and raise a ShapeError.

The graph comes from ``torch.fx`` with striate layers (and striate blocks that define their
own ``rf()``) as leaves; it runs on the meta device. A model fx cannot trace falls back on
the order of its module calls, as a chain, and says so.
"""

from __future__ import annotations

import inspect
import math
import operator
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from striate.arith import foreign, trace
from striate.arith.fxwindows import functional_window, slice_window
from striate.layers.base import Layer
from striate.layers.errors import ConfigError, ShapeError, StriateError

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ReceptiveField:
    """Where a layer's output units look in the input, per spatial axis.

    Unit ``u`` sees input positions ``u·stride − padding … u·stride − padding + size − 1``
    along each axis (negative positions and positions past the end are padding).
    """

    size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    def span(self, unit: int | Sequence[int]) -> tuple[tuple[int, int], ...]:
        """First and last input position seen by output unit ``unit`` (one index per axis,
        or one int for the same index on every axis), per axis.

        Raises:
            ConfigError: when ``unit`` has a different number of axes than the field.
        """
        units = (unit,) * len(self.size) if isinstance(unit, int) else tuple(unit)
        if len(units) != len(self.size):
            raise ConfigError(f"ReceptiveField.span: unit {tuple(units)} has {len(units)} "
                              f"axes but the field has {len(self.size)} {self.size}; give "
                              f"one index per axis or a single int")
        return tuple((u * j - p, u * j - p + r - 1)
                     for u, j, p, r in zip(units, self.stride, self.padding, self.size,
                                           strict=True))


@dataclass(frozen=True)
class _State:
    size: tuple[int, ...]
    jump: tuple[int, ...]
    pad: tuple[int, ...]
    units: tuple[int, ...]
    flat: bool = False

    def field(self) -> ReceptiveField:
        return ReceptiveField(self.size, self.jump, self.pad)


def _start(units: Shape) -> _State:
    n = len(units)
    return _State((1,) * n, (1,) * n, (0,) * n, tuple(units))


def _apply(state: _State, win: foreign.Window, units: Shape, flat: bool = False) -> _State:
    return _State(
        tuple(r + (k - 1) * j for r, k, j in zip(state.size, win.effective_kernel, state.jump,
                                                 strict=True)),
        tuple(j * s for j, s in zip(state.jump, win.stride, strict=True)),
        tuple(p + b * j for p, b, j in zip(state.pad, win.pad_before, state.jump, strict=True)),
        tuple(units),
        flat,
    )


def _collapse(state: _State) -> _State:
    """Every unit of the input now feeds every output (flatten, dense, global pooling)."""
    if state.flat:
        return state
    n = len(state.units)
    win = foreign.Window(state.units, state.units, (0,) * n, (0,) * n, (1,) * n)
    return _apply(state, win, (1,) * n, flat=True)


class _Analysis:
    """Propagates receptive-field states from node to node, collecting notes."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        # (module name, call number) → state, for a module called more than once
        self.by_call: dict[tuple[str, int], _State | None] = {}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def merge(self, states: list[_State | None], where: str) -> _State | None:
        if any(s is None for s in states):
            return None
        known = [s for s in states if s is not None]
        if len(known) == 1:
            return known[0]
        widest = max(known, key=lambda s: math.prod(s.units))
        main = [s for s in known if s.units == widest.units]
        if len(main) < len(known):
            if any(not all(u == 1 for u in s.units) for s in known if s not in main):
                self.note(f"receptive field at {where}: inputs of different sizes meet; "
                          "not followed past it")
                return None
            self.note(f"receptive field at {where}: a broadcast (global) input is not "
                      "counted in the per-unit field")
        jumps = {s.jump for s in main}
        if len(jumps) > 1:
            listed = " and ".join(str(j[0]) if len(set(j)) == 1 else "x".join(map(str, j))
                                  for j in sorted(jumps))
            raise ShapeError(
                f"paths that meet here have effective strides {listed}; their receptive "
                "fields cannot be merged: make the strides along both paths multiply to "
                "the same value"
            ).at(where)
        pad = tuple(max(vals) for vals in zip(*(s.pad for s in main), strict=True))
        end = tuple(max(vals) for vals in zip(*((r - p for r, p in zip(s.size, s.pad,
                                                                       strict=True))
                                                for s in main), strict=True))
        size = tuple(e + p for e, p in zip(end, pad, strict=True))
        return _State(size, main[0].jump, pad, widest.units, all(s.flat for s in main))

    def step(self, state: _State | None, module: nn.Module | foreign.Window | None,
             in_shape: Shape | None,
             out_shape: Shape | None, where: str) -> _State | None:
        if state is None or out_shape is None or in_shape is None:
            return None
        if state.flat:
            return state
        n = len(state.units)
        in_sp, out_sp = tuple(in_shape[1:]), tuple(out_shape[1:])
        if isinstance(module, foreign.Window) and len(module.kernel) == n:
            return _apply(state, module, out_sp)
        if isinstance(module, nn.Module) and len(in_sp) == n and not _upsamples(module):
            win = foreign.window(module, in_sp, out_sp)
            if win is not None:
                if win.approximate:
                    self.note(f"receptive field at {where}: adaptive pooling with uneven "
                              "windows, the largest window is used")
                flat = len(out_shape) <= 1
                return _apply(state, win, out_sp if len(out_sp) == n else (1,) * n, flat)
        if len(in_sp) == n and out_sp == in_sp:
            return _State(state.size, state.jump, state.pad, out_sp)
        if len(out_shape) <= 1 or (len(out_sp) == n and all(o == 1 for o in out_sp)):
            return _collapse(state)
        kind = type(module).__name__ if isinstance(module, nn.Module) else "the op"
        self.note(f"receptive field at {where}: {kind} "
                  f"changes {in_sp} into {out_sp}; not followed past it")
        return None


def _upsamples(module: nn.Module) -> bool:
    name = type(module).__name__
    return isinstance(module, nn.modules.conv._ConvTransposeNd) or "Transpose" in name \
        or "Unpool" in name or "Upsampl" in name


class _Tracer(fx.Tracer):
    """Striate layers, and striate blocks with their own ``rf()``, are leaves."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, Layer):
            # A block whose rf() is None is traced through; one with a window is a leaf.
            return not any(True for _ in m.children()) or m.rf() is not None
        return super().is_leaf_module(m, module_qualified_name)


class _MetaRunner(fx.Interpreter):
    """Runs the graph on meta tensors; a module call already recorded by the summary's
    trace (same module, same call number, one output) is replayed from its shape, since
    some meta kernels (batch norm's decomposition) are slow."""

    def __init__(self, gm: fx.GraphModule, visit: Any,
                 recorded: dict[tuple[str, int], trace.Call], dtype: torch.dtype) -> None:
        super().__init__(gm)
        self.state = trace.meta_state(gm)
        self.visit = visit
        self.recorded = recorded
        self.dtype = dtype
        self.count: dict[str, int] = {}

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        number = self.count[target] = self.count.get(target, 0) + 1
        call = self.recorded.get((str(target), number))
        if call is not None and len(call.out_shapes) == 1 and call.done:
            return torch.empty((1, *call.out_shapes[0]), dtype=self.dtype, device="meta")
        module = self.fetch_attr(target)
        prefix = f"{target}."
        sub = {k[len(prefix):]: v for k, v in self.state.items() if k.startswith(prefix)}
        return torch.func.functional_call(module, sub, args, kwargs)

    def get_attr(self, target: Any, args: Any, kwargs: Any) -> Any:
        if target in self.state:
            return self.state[target]
        value = super().get_attr(target, args, kwargs)
        return torch.empty_like(value, device="meta") if isinstance(value, torch.Tensor) \
            else value

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.visit(n, result)
        return result


def _stack_names(node: fx.Node) -> list[str]:
    stack = node.meta.get("nn_module_stack") or {}
    names = [v[0] if isinstance(v, tuple) else k for k, v in stack.items()]
    if node.op == "call_module" and node.target not in names:
        names.append(str(node.target))
    return names


def _concrete_args(model: nn.Module, n_inputs: int) -> dict[str, Any] | None:
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None
    extra = {p.name: p.default for p in params[n_inputs:]
             if p.default is not inspect.Parameter.empty
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return extra or None


def _traced(model: nn.Module, shapes: list[Shape], analysis: _Analysis,
            calls: list[trace.Call] | None = None) -> dict[str, _State | None]:
    graph = _Tracer().trace(model, concrete_args=_concrete_args(model, len(shapes)))
    gm = fx.GraphModule(model, graph)
    states: dict[fx.Node, _State | None] = {}
    out_shapes: dict[fx.Node, Shape] = {}
    by_name: dict[str, _State | None] = {}
    calls_seen: dict[str, int] = {}
    placeholders = iter(shapes)

    def where(node: fx.Node) -> str:
        if node.op == "call_module":
            module = gm.get_submodule(str(node.target))
            return f"{node.target} ({type(module).__name__})"
        names = _stack_names(node)
        owner = names[-1] if names else type(model).__name__
        return f"{owner} (the {node.name} in its forward)"

    def visit(node: fx.Node, result: Any) -> None:
        found = trace.tensors(result)
        if found:
            out_shapes[node] = tuple(found[0].shape[1:])
        if node.op == "placeholder":
            shape = next(placeholders, None)
            if shape is not None:
                states[node] = _start(tuple(shape[1:]))
            return
        if node.op == "get_attr":
            if found:
                out_shapes[node] = tuple(found[0].shape)
            return
        inputs = [i for i in node.all_input_nodes if i in states]
        if not inputs:
            return
        if node.op == "output":
            # Several outputs (auxiliary heads) are separate results, not a merge: the
            # model's own row describes the first, its main output.
            if len(inputs) > 1:
                analysis.note("receptive field of the model: several outputs; the first "
                              "(main) one is shown")
            by_name[""] = states[inputs[0]]
            return
        state = analysis.merge([states[i] for i in inputs], where(node))
        module = None
        if node.op == "call_module":
            module = gm.get_submodule(str(node.target))
        elif node.op == "call_function":
            module = functional_window(node, out_shapes)
        first = inputs[0]
        if node.op == "call_method" and node.target == "__getitem__":
            module = slice_window(node, out_shapes.get(first))
        if node.op == "call_function" and node.target is operator.getitem and \
                out_shapes.get(node, ()) == out_shapes.get(first):
            state_out = state  # an element of a tuple output, or a slice that keeps all
        else:
            state_out = analysis.step(state, module, out_shapes.get(first),
                                      out_shapes.get(node), where(node))
        states[node] = state_out
        for name in _stack_names(node):
            by_name[name] = state_out
        if node.op == "call_module":
            number = calls_seen[str(node.target)] = calls_seen.get(str(node.target), 0) + 1
            analysis.by_call[(str(node.target), number)] = state_out

    inputs = tuple(torch.empty((1, *s), dtype=trace.model_dtype(model), device="meta")
                   for s in shapes)
    recorded = {(c.name, c.call_number): c for c in calls or [] if c.is_leaf}
    runner = _MetaRunner(gm, visit, recorded, trace.model_dtype(model))
    modes = {id(m): (m, m.training) for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            runner.run(*inputs)
    finally:
        for module, mode in modes.values():
            module.train(mode)
    return by_name


def _chained(calls: list[trace.Call], shapes: list[Shape], analysis: _Analysis
             ) -> dict[str, _State | None]:
    by_name: dict[str, _State | None] = {}
    state: _State | None = _start(tuple(shapes[0][1:]))
    for call in calls:
        if not call.is_leaf or not call.done or not call.in_shapes or not call.out_shapes:
            continue
        state = analysis.step(state, call.module, call.in_shapes[0], call.out_shapes[0],
                              trace.label(call))
        analysis.by_call[(call.name, call.call_number)] = state
        index: int | None = call.index
        while index is not None:
            by_name[calls[index].name] = state
            index = calls[index].parent
    return by_name


def analyse(model: nn.Module, input_shape: object, calls: list[trace.Call] | None = None,
            per_call: dict[tuple[str, int], ReceptiveField] | None = None,
            ) -> tuple[dict[str, ReceptiveField], list[str]]:
    """Receptive fields keyed by module name, and notes on what could not be followed.

    ``calls`` (from :func:`striate.arith.trace.run`) saves a second forward when fx cannot
    trace the model; ``per_call``, if given, is filled with the field of each call of a
    leaf module, keyed by ``(name, call number)`` (a module called twice has two).
    """
    shapes = trace.input_shapes(input_shape)
    analysis = _Analysis()
    try:
        by_name = _traced(model, shapes, analysis, calls)
    except StriateError:
        raise
    except Exception as err:  # fx raises many kinds (TraceError, TypeError, NotImplemented)
        analysis.note(
            f"receptive fields: {type(model).__name__} cannot be traced by torch.fx "
            f"({trace.first_line(err)}); they follow the order of the module calls as a "
            "chain, which ignores branches"
        )
        if calls is None:
            result = trace.run(model, shapes)
            calls = result.calls
        by_name = _chained(calls, shapes, analysis)
    fields = {name: s.field() for name, s in by_name.items() if s is not None}
    if per_call is not None:
        per_call.update({key: s.field() for key, s in analysis.by_call.items()
                         if s is not None})
    return fields, analysis.notes


def receptive_fields(model: nn.Module, input_shape: object = None
                     ) -> dict[str, ReceptiveField]:
    """Receptive field, effective stride and effective padding of every module's output.

    Args:
        model: any ``nn.Module``; traced with ``torch.fx`` on the meta device.
        input_shape: the per-sample input shape, channels first, e.g. ``(3, 224, 224)``
            (default: the model's ``default_input_shape``).

    Returns:
        ``{qualified name (as in named_modules()): ReceptiveField}``; ``""`` is the model's
        output. Modules after an upsampling layer (not a window of the input) are left out.

    Raises:
        ShapeError: where paths with different effective strides meet, or where the input
            does not fit a layer (named as in the summary).
    """
    input_shape = trace.default_shape(model, input_shape)
    with trace.lazy_on_meta(model) as runnable:
        # The recorded forward locates a bad input at its layer before fx runs.
        result = trace.run(runnable, trace.input_shapes(input_shape))
        if result.error is not None:
            raise result.error
        fields, notes = analyse(runnable, input_shape, result.calls)
    for text in notes:
        if "cannot be traced" in text:
            warnings.warn(text, stacklevel=2)
    return fields
