"""Spec entries of any module whose forward only chains and merges striate layers.

The forward is traced with ``torch.fx``, each striate layer (or block) kept whole as a leaf.
Every call of a layer becomes an entry; a layer fed by something other than the previous
entry gets ``from:``, and what it reads gets a ``name:`` (its module path, dots as ``_``).
Any other operation (``torch.cat``, ``x + y``, a plain ``torch.nn`` layer) cannot be written
as a spec and is refused with its name.
"""

from __future__ import annotations

import operator
import re

from torch import fx, nn

from striate.spec.errors import SpecError
from striate.spec.model import LayerEntry


class _LayerTracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return hasattr(type(m), "type_name") or super().is_leaf_module(m, module_qualified_name)


def _refuse(model: nn.Module, what: str) -> SpecError:
    return SpecError(f"to_spec: {type(model).__name__} uses {what} outside a striate layer; "
                     "only chains and merges of striate layers can be written as a spec")


def traced_entries(model: nn.Module) -> tuple[list[LayerEntry], tuple[str, ...] | None]:
    """Entries (and output names when the outputs are not the last entry) of ``model``.

    Raises:
        SpecError: the forward cannot be traced, or does more than call striate layers.
    """
    from striate.spec.dump import entry_for

    try:
        graph = _LayerTracer().trace(model)
    except Exception as err:  # fx raises many kinds for forwards it cannot trace
        raise SpecError(f"to_spec: cannot trace {type(model).__name__}.forward "
                        f"({type(err).__name__}: {' '.join(str(err).split())[:120]})") from None
    produced: dict[fx.Node, str] = {}  # fx node -> the call_module node name that made it
    calls: list[tuple[fx.Node, LayerEntry, tuple[str, ...]]] = []
    outputs: tuple[str, ...] = ()
    placeholders = 0
    for node in graph.nodes:
        if node.op == "placeholder":
            placeholders += 1
            if placeholders > 1:
                raise _refuse(model, f"a second input ({node.name})")
            produced[node] = "input"
        elif node.op == "call_module":
            if node.kwargs or not all(isinstance(a, fx.Node) for a in node.args):
                raise _refuse(model, f"arguments other than tensors for {node.target}")
            entry = entry_for(model.get_submodule(str(node.target)), str(node.target))
            calls.append((node, entry, tuple(produced[a] for a in node.args)))
            produced[node] = node.name
        elif node.op == "call_function" and node.target is operator.getitem and isinstance(
                node.args[0], fx.Node) and node.args[1] in (0, 1):
            produced[node] = produced[node.args[0]]  # values or switches of a pooling layer
        elif node.op == "output":
            result = node.args[0]
            items = result if isinstance(result, (tuple, list)) else (result,)
            if not all(isinstance(i, fx.Node) and i in produced for i in items):
                raise _refuse(model, "an output that no layer produced")
            outputs = tuple(produced[i] for i in items)
        else:
            raise _refuse(model, f"{node.op} {getattr(node.target, '__name__', node.target)}")
    if not calls:
        raise SpecError(f"to_spec: {type(model).__name__} has no striate layer")
    return _wire(calls, outputs)


def _wire(calls: list[tuple[fx.Node, LayerEntry, tuple[str, ...]]], outputs: tuple[str, ...]
          ) -> tuple[list[LayerEntry], tuple[str, ...] | None]:
    names: dict[str, str] = {"input": "input"}
    used: set[str] = {"input"}

    def name_of(node: fx.Node) -> str:
        base = re.sub(r"\W", "_", str(node.target)).strip("_") or "layer"
        if not re.match(r"[A-Za-z_]", base):
            base = f"layer_{base}"
        base = base[:60]
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        return name

    by_name = {node.name: (node, entry) for node, entry, _ in calls}
    needed = set()
    prev = "input"
    for node, _, inputs in calls:
        if inputs != (prev,):
            needed.update(i for i in inputs if i != "input")
        prev = node.name
    last = calls[-1][0].name
    if outputs != (last,):
        needed.update(o for o in outputs if o != "input")
    for ref in sorted(needed, key=lambda r: list(by_name).index(r)):
        node, entry = by_name[ref]
        entry.name = names[ref] = name_of(node)
    entries = []
    prev = "input"
    for node, entry, inputs in calls:
        if inputs != (prev,):
            entry.inputs = tuple(names[i] for i in inputs)
        entries.append(entry)
        prev = node.name
    out = None if outputs == (last,) else tuple(names[o] for o in outputs)
    return entries, out


__all__ = ["traced_entries"]
