"""``to_spec``: a model built from striate layers → the spec that builds it again.

For a :class:`Network` made by ``build`` the entries come back as they were grouped (inline
``act:`` and ``repeat:`` folded back, names and ``from:`` kept). Any other module made of
striate layers in ``nn.Sequential`` chains becomes a chain of entries.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from torch import nn

from striate.spec.errors import SpecError
from striate.spec.model import LayerEntry, Spec
from striate.spec.network import Network
from striate.spec.types import (
    INFERRED,
    PREFERRED_ALIAS,
    WINDOW_OPTIONS,
    parameters,
    short_name,
)

POOL_SHORT = {"maxpool": "max", "avgpool": "avg", "l2pool": "l2",
              "stochastic_pool": "stochastic", "global_pool": "global"}


def _compact(key: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        value = list(value)
        if key in WINDOW_OPTIONS and value and all(v == value[0] for v in value):
            return value[0]
    return value


def _is_default(value: Any, param: inspect.Parameter | None) -> bool:
    if param is None or param.default is inspect.Parameter.empty:
        return False
    default = param.default
    if isinstance(default, tuple):
        default = list(default)
    return (value is None and default is None) or (
        type(value) is type(default) and value == default)


def entry_for(module: nn.Module, where: str) -> LayerEntry:
    """The spec entry of one striate layer, its options minus defaults and inferred sizes.

    Raises:
        SpecError: the module is not a striate layer (no ``config()``).
    """
    cls = type(module)
    if not hasattr(module, "config") or not hasattr(cls, "type_name"):
        raise SpecError(
            f"{where} is {cls.__module__}.{cls.__name__}, not a striate layer; to_spec works "
            "for models built from striate layers (zoo models are saved by name instead)"
        )
    params, _ = parameters(cls)
    options: dict[str, Any] = {}
    config = module.config()
    for key, value in config.items():
        # a dropout rate stays even at its default: ``dropout: 0.5`` reads better
        if key in INFERRED or (key != "p" and _is_default(value, params.get(key))):
            continue
        if key == "stride" and "stride" in params and params["stride"].default is None and (
                _compact(key, value) == _compact(key, config.get("kernel_size"))):
            continue  # a pool's stride defaults to its kernel size
        options[PREFERRED_ALIAS.get(key, key)] = _compact(key, value)
    short = short_name(cls)
    if short in POOL_SHORT:
        options = {"kind": POOL_SHORT[short], **options}
        short = "pool"
    return LayerEntry(short, options)


def to_spec(model: nn.Module, input_shape: tuple[int, ...] | None = None, *,
            name: str | None = None) -> Spec:
    """The spec of a model built from striate layers, checked by ``load_spec``.

    Args:
        model: a :class:`Network` from ``build``, ``nn.Sequential`` chains of striate
            layers, or any module whose forward only chains and merges striate layers
            (traced with ``torch.fx``).
        input_shape: per-sample input shape; defaults to the model's ``input_shape`` or
            ``default_input_shape``.
        name: the spec's name (default: the network's own).

    Raises:
        SpecError: a module is not a striate layer, or no input shape is known.
    """
    from striate.spec.load import load_spec

    shape = input_shape or getattr(model, "input_shape", None) or getattr(
        model, "default_input_shape", None) or (getattr(model, "striate_meta", None) or {}
                                                ).get("input_shape")
    if not shape:
        raise SpecError(f"to_spec: {type(model).__name__} does not say its input shape; pass "
                        "input_shape=(C, H, W)")
    if isinstance(model, Network):
        entries, outputs = _network_entries(model)
        info = model.spec_info
    elif isinstance(model, nn.Sequential):
        entries = [entry_for(m, where) for where, m in _chain(model, type(model).__name__)]
        outputs, info = None, {}
    else:
        from striate.spec.fxgraph import traced_entries

        entries, outputs = traced_entries(model)
        info = {}
    for entry in entries:
        bare = entry.name is None and entry.inputs is None and entry.repeat == 1 and (
            entry.act is None)
        if bare and entry.type in ("dense", "dropout") and list(entry.options) in (
                ["out"], ["p"]):
            entry.options = {"__value__": next(iter(entry.options.values()))}  # ``dense: 10``
    spec = Spec(tuple(int(s) for s in shape), entries, name=name or info.get("name"),
                description=info.get("description"), outputs=outputs)
    # a spec is only handed out checked, with its inferred plan
    return load_spec(spec.to_yaml(), source="<to_spec>")


def _chain(module: nn.Module, where: str) -> Iterator[tuple[str, nn.Module]]:
    # striate.layers.Sequential is a chain too: it has no spec name of its own
    if isinstance(module, nn.Sequential) and not hasattr(type(module), "type_name"):
        for child_name, child in module.named_children():
            yield from _chain(child, f"{where}.{child_name}")
    else:
        yield where, module


def _network_entries(model: Network) -> tuple[list[LayerEntry], tuple[str, ...] | None]:
    layout = model.spec_layout or [(i, "layer", 0) for i in range(len(model.graph))]
    names = list(model.spec_info.get("entry_names") or [])
    groups: dict[int, list[int]] = {}
    for pos, (entry, _, _) in enumerate(layout):
        groups.setdefault(entry, []).append(pos)
    order = sorted(groups)
    node_entry = {model.graph[pos][0]: entry for pos, (entry, _, _) in enumerate(layout)}
    last_node = {e: model.graph[groups[e][-1]][0] for e in order}
    entry_name: dict[int, str | None] = {e: names[e] if e < len(names) else None for e in order}

    def name_of(node: str) -> str:
        # a later entry refers to an entry by its name; an unnamed one is given the name of
        # its first node, which is what building the spec will call that node again
        if node == "input":
            return node
        e = node_entry[node]
        if entry_name[e] is None:
            entry_name[e] = model.graph[groups[e][0]][0]
        return entry_name[e] or node

    wiring: dict[int, tuple[str, ...] | None] = {}
    prev = "input"
    for e in order:
        inputs = model.graph[groups[e][0]][1]
        wiring[e] = None if inputs == (prev,) else tuple(name_of(r) for r in inputs)
        prev = last_node[e]
    outputs = None
    if model.outputs != (model.graph[-1][0],):
        outputs = tuple(name_of(o) for o in model.outputs)
    entries: list[LayerEntry] = []
    for e in order:
        mains = [p for p in groups[e] if layout[p][1] == "layer"]
        acts = [p for p in groups[e] if layout[p][1] == "act"]
        entry = entry_for(model[mains[0]], model.graph[mains[0]][0])
        entry.repeat = len(mains)
        if acts:
            entry.act = entry_for(model[acts[0]], model.graph[acts[0]][0])
        entry.inputs = wiring[e]
        entry.name = entry_name[e]
        entries.append(entry)
    return entries, outputs
