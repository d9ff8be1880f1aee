"""Shape inference: turn checked spec entries into nodes, building each layer on the meta
device (no memory) to get its output shape and parameter count from the layer itself."""

from __future__ import annotations

import inspect
import re
from collections import Counter
from typing import Any

from striate.layers.errors import StriateError
from striate.spec.errors import Problems
from striate.spec.model import LayerEntry, Node, Plan, Spec
from striate.spec.text import Located
from striate.spec.types import (
    INFERRED,
    canonical,
    option_list,
    option_names,
    parameters,
    primary_option,
    resolve,
    short_name,
    suggest,
)

MAX_INT = 2**31 - 1
MAX_SIZE = 1 << 24
POSITIVE = {"out_channels", "out_features", "in_channels", "in_features", "num_features",
            "groups", "kernel_size", "stride", "dilation", "num_layers", "growth_rate",
            "num_classes", "size"}
# options that multiply modules rather than tensor sizes (a dense block of n layers)
LIMITS = {"num_layers": 1_000}
MAX_MODULES = 10_000
NON_NEGATIVE = {"padding", "output_padding"}
PADDING_WORDS = ("valid", "same", "causal")

Shape = tuple[int, ...]


def check_value(option: str, value: Any, param: inspect.Parameter | None) -> str | None:
    """What is wrong with ``value`` for constructor parameter ``option``, or None."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        return f"{option}: expected a value or a flat list, got {value!r}"
    if isinstance(value, dict):
        return f"{option}: expected a value, got a mapping {value!r}"
    ints = [v for v in items if isinstance(v, int) and not isinstance(v, bool)]
    if any(abs(v) > MAX_INT for v in ints):
        return f"{option}: {value!r} is absurdly large; use a size below {MAX_SIZE:,}"
    if option in POSITIVE or option in NON_NEGATIVE:
        if option == "padding" and isinstance(value, str):
            if value not in PADDING_WORDS:
                return (f"padding: {value!r} is not a padding; use a number or one of "
                        f"{', '.join(PADDING_WORDS)}{suggest(value, PADDING_WORDS)}")
            return None
        low = 0 if option in NON_NEGATIVE else 1
        if not items or len(ints) != len(items) or any(v < low for v in ints):
            need = "non-negative" if low == 0 else "positive"
            return f"{option}: expected a {need} integer (or a list of them), got {value!r}"
        limit = LIMITS.get(option, MAX_SIZE)
        if any(v > limit for v in ints):
            return f"{option}: {value!r} is too large; the limit is {limit:,}"
        return None
    default = None if param is None else param.default
    if isinstance(default, bool) and not isinstance(value, bool):
        return f"{option}: expected true or false, got {value!r}"
    if isinstance(default, float) and not isinstance(default, bool) and (
            isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"{option}: expected a number, got {value!r}"
    if option == "p" and isinstance(value, (int, float)) and not 0 <= value < 1:
        return f"p: a dropout probability is at least 0 and below 1, got {value!r}"
    return None


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def channels_last_hint(shape: Shape | None) -> str:
    """``"; ..."`` when ``shape`` looks written channels-last (``[28, 28, 1]``, ``[101, 4]``):
    striate shapes put the channels first, and such an input only shows up later as a window
    that does not fit."""
    if not shape or len(shape) < 2 or shape[-1] not in (1, 3, 4) or shape[0] <= 4:
        return ""
    first = [shape[-1], *shape[:-1]]
    return f"; shapes are channels first: did you mean `input: {first}`?"


class _Planner:
    def __init__(self, spec: Spec, loc: Located, problems: Problems) -> None:
        self.spec, self.loc, self.problems = spec, loc, problems
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape | None] = {"input": spec.input_shape}
        self.used = {e.name for e in spec.layers if e.name} | {"input"}
        self.counters: Counter[str] = Counter()
        self.params = 0
        self.modules = 0
        self.measured: dict[Any, tuple[Shape, int, int]] = {}
        self.full = False  # the module budget is spent: nothing more is built

    def at(self, path: tuple[Any, ...], key: str | None = None, on_key: bool = False
           ) -> tuple[int, int] | None:
        if key is None:  # the entry itself: point at its type name
            return self.loc.key_pos.get(tuple(path)) or self.loc.at(path)
        full = (*path, key)
        if full not in self.loc.pos:
            full = (*path[:2], key)  # a sibling key of the entry, e.g. `name:` beside `conv:`
        return self.loc.at(full, key=on_key)

    def auto_name(self, base: str) -> str:
        while True:
            self.counters[base] += 1
            name = f"{base}{self.counters[base]}"
            if name not in self.used:
                self.used.add(name)
                return name

    def run(self) -> Plan:
        entry_out: dict[str, str] = {}
        prev = "input"
        for index, entry in enumerate(self.spec.layers):
            refs = tuple(entry_out.get(r, r) for r in entry.inputs) if entry.inputs else (prev,)
            for copy in range(entry.repeat):
                inputs = refs if copy == 0 else (prev,)
                name = self.add(entry, index, inputs, copy, role="layer")
                if entry.act is not None:
                    name = self.add(entry.act, index, (name,), copy, role="act", owner=name)
                prev = name
                if self.shapes.get(name) is None:
                    break  # reported once; the copies would repeat the problem
            if entry.name:
                entry_out[entry.name] = prev
        outputs = tuple(entry_out.get(o, o) for o in self.spec.outputs or (prev,))
        return Plan(self.nodes, outputs, self.params)

    def add(self, entry: LayerEntry, index: int, inputs: tuple[str, ...], copy: int,
            role: str, owner: str | None = None) -> str:
        if not entry.ok or self.full:  # reported; what follows is checked without its shape
            name = entry.name or f"?{index}"
            self.shapes[name] = None
            return name
        in_shapes = [self.shapes.get(r) for r in inputs]
        known = all(s is not None for s in in_shapes)
        options = dict(entry.options)
        kind = options.pop("kind", None) if entry.type == "pool" else None
        path = entry.path
        cls = None
        ranks = [len(in_shapes[0])] if known and in_shapes else [3, 2, 1]
        error: StriateError | None = None
        for rank in ranks:
            try:
                cls = resolve(entry.type, rank, kind)
                break
            except StriateError as err:
                error = err
        if cls is None:
            where = self.at(path, "kind") if kind is not None and "unknown" in str(error) \
                else self.at(path)
            self.problems.add(where, str(error) if error else entry.type)
            self.shapes[f"?{index}"] = None
            return f"?{index}"
        base = entry.type if not re.search(r"\dd$", entry.type) else short_name(cls)
        if role == "act":
            name = f"{owner}_{base}"
            self.used.add(name)
        elif entry.name:
            name = entry.name if entry.repeat == 1 else f"{entry.name}_{copy + 1}"
            self.used.add(name)
        else:
            name = self.auto_name(base)
        kwargs = self.kwargs(entry, cls, options, check=copy == 0)
        if kwargs is None:
            self.shapes[name] = None
            return name
        if copy > 0 and "stride" in kwargs:
            kwargs["stride"] = 1  # a repeated stage downsamples in its first copy only
        label = f"{name} ({cls.__name__})"
        if not known:
            self.shapes[name] = None
            return name
        shapes = tuple(s for s in in_shapes if s is not None)
        wiring = self.check_wiring(cls, inputs)
        if wiring:
            self.problems.add(self.at(path), f"{label}: {wiring}")
            self.shapes[name] = None
            return name
        try:
            self.infer(cls, kwargs, shapes[0], label)
            out, params, modules = self.measure(cls, kwargs, shapes)
        except StriateError as err:
            from striate.layers.errors import ShapeError

            hint = channels_last_hint(self.spec.input_shape) if isinstance(
                err, ShapeError) else ""
            self.problems.add(self.at(path), f"{label}: {err.message}{hint}")
            self.shapes[name] = None
            return name
        except (TypeError, ValueError, RuntimeError, OverflowError, IndexError) as err:
            msg = " ".join(str(err).split())
            self.problems.add(self.at(path), f"{label}: cannot build it: {msg}")
            self.shapes[name] = None
            return name
        self.params += params
        self.modules += modules
        if self.modules > MAX_MODULES:
            self.problems.add(self.at(path), f"{label}: the network reaches {self.modules:,} "
                              f"modules, more than {MAX_MODULES:,}; a spec this large is "
                              "refused (fewer repeats or layers)")
            self.shapes[name] = None
            self.full = True
            return name
        self.shapes[name] = out
        self.nodes.append(Node(name, cls, kwargs, inputs, shapes, out, index, role, copy))
        return name

    def kwargs(self, entry: LayerEntry, cls: type, options: dict[str, Any], check: bool
               ) -> dict[str, Any] | None:
        params, var_kw = parameters(cls)
        kwargs: dict[str, Any] = {}
        given: set[str] = set()
        ok = True
        path = entry.path
        for key, value in options.items():
            if key == "__value__":
                target = primary_option(cls, params)
                if target is None:
                    if check:
                        self.problems.add(self.at(path), f"{entry.type} takes no value; "
                                          f"write `- {entry.type}` alone")
                    ok = False
                    continue
                where = self.at(path)
            else:
                target = canonical(str(key), params)
                where = self.at(path, str(key))
                if target is None and var_kw:
                    target = str(key)
                if target is None:
                    if check:
                        self.problems.add(self.at(path, str(key), on_key=True),
                                          f"{entry.type}: unknown option {key!r}"
                                          f"{suggest(str(key), option_names(params))} "
                                          f"(options: {option_list(params)})")
                    ok = False
                    continue
            given.add(target)
            if target in kwargs:
                if check:
                    self.problems.add(where, f"{entry.type}: {target} is given twice "
                                      "(an option and its alias)")
                ok = False
                continue
            bad = check_value(target, value, params.get(target))
            if bad:
                if check:
                    said = target if key == "__value__" else str(key)
                    self.problems.add(where, f"{entry.type}: {said}{bad[len(target):]}")
                ok = False
                continue
            kwargs[target] = _tuples(value)
        missing = [n for n, p in params.items() if p.default is inspect.Parameter.empty
                   and n not in given and n not in INFERRED]
        if missing and ok:
            if check:
                aliases = {"out_channels": "out", "out_features": "out",
                           "kernel_size": "kernel"}
                said = ", ".join(f"{aliases[m]} ({m})" if m in aliases else m for m in missing)
                self.problems.add(self.at(path), f"{entry.type}: missing option {said}")
            ok = False
        return kwargs if ok else None

    @staticmethod
    def infer(cls: type, kwargs: dict[str, Any], shape: Shape, label: str) -> None:
        from striate.layers.errors import ShapeError

        params, _ = parameters(cls)
        for name in INFERRED:
            if name not in params or name in kwargs:
                continue
            if name == "in_features":
                if len(shape) != 1:
                    raise ShapeError(f"a dense layer needs a vector (F,) input but receives "
                                     f"{shape}; add `- flatten` before it")
                kwargs[name] = shape[0]
            else:
                kwargs[name] = shape[0]

    def check_wiring(self, cls: type, inputs: tuple[str, ...]) -> str | None:
        """What is wrong with the inputs of a merge or an unpooling layer, or None."""
        kind = cls.__name__
        if kind in ("Add", "Concat", "Crop") and len(inputs) < 2:
            return (f"{kind.lower()} merges several inputs but receives one; name the layers "
                    "to merge with `from: [a, b]`")
        if kind.startswith("MaxUnpool"):
            nodes = {n.name: n for n in self.nodes}
            switch = nodes.get(inputs[-1]) if len(inputs) == 2 else None
            if switch is None or not switch.kwargs.get("return_indices"):
                return ("unpooling needs `from: [x, pool]` where pool is a max pooling with "
                        "`return_indices: true` (its switches)")
        return None

    def measure(self, cls: type, kwargs: dict[str, Any], shapes: tuple[Shape, ...]
                ) -> tuple[Shape, int, int]:
        """Output shape, parameters and module count of the layer, built on meta once per
        distinct configuration (the copies of a repeat are measured once)."""
        import torch

        key = (cls, repr(sorted(kwargs.items())), shapes)
        if key not in self.measured:
            with torch.device("meta"):
                module = cls(**kwargs)
            out = tuple(int(s) for s in module.output_shape(*shapes))
            self.measured[key] = (out, sum(p.numel() for p in module.parameters()),
                                  sum(1 for _ in module.modules()))
        return self.measured[key]


def plan(spec: Spec, loc: Located, problems: Problems) -> Plan:
    """Infer every node's shapes; problems are recorded in ``problems``."""
    return _Planner(spec, loc, problems).run()
