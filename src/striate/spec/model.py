"""The data of a spec: its input, its layer entries, and (once checked) the inferred plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class LayerEntry:
    """One ``- type: {options}`` entry of a spec, as written (options may use aliases).

    ``path`` locates the entry in the parsed text, for error positions.
    """

    type: str
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    inputs: tuple[str, ...] | None = None
    repeat: int = 1
    act: LayerEntry | None = None
    path: tuple[Any, ...] = field(default=(), compare=False)
    ok: bool = field(default=True, compare=False)

    def to_data(self) -> Any:
        """The entry as YAML-ready data: a bare name when it has nothing else."""
        extras: dict[str, Any] = {}
        if self.name:
            extras["name"] = self.name
        if self.inputs is not None:
            extras["from"] = self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)
        if self.repeat != 1:
            extras["repeat"] = self.repeat
        if self.act is not None:
            extras["act"] = self.act.to_data()
        if not self.options and not extras:
            return self.type
        if "__value__" in self.options:  # written as ``dense: 10``: keep that form
            rest = {k: v for k, v in self.options.items() if k != "__value__"}
            return {self.type: _plain(self.options["__value__"]), **_plain(rest), **extras}
        if self.type in ("add", "concat") and not self.options and list(extras) == ["from"]:
            return {self.type: list(self.inputs or ())}  # ``add: [a, b]``
        return {self.type: {**_plain(self.options), **extras}}


@dataclass(frozen=True)
class Node:
    """One module of the built network: its class, constructor arguments and wiring.

    ``inputs`` name earlier nodes (or ``input``); ``entry`` is the index of the spec entry it
    comes from, ``role`` is ``layer`` or ``act`` (an inline ``act:``), ``copy`` counts repeats.
    """

    name: str
    cls: type
    kwargs: dict[str, Any]
    inputs: tuple[str, ...]
    in_shapes: tuple[tuple[int, ...], ...]
    out_shape: tuple[int, ...]
    entry: int
    role: str = "layer"
    copy: int = 0


@dataclass
class Plan:
    """Every node with its inferred shapes, the output nodes and the parameter count."""

    nodes: list[Node]
    outputs: tuple[str, ...]
    params: int


@dataclass
class Spec:
    """A validated network specification.

    Attributes:
        input_shape: per-sample input, ``(C, H, W)``, ``(C, L)`` or ``(F,)``.
        layers: the entries, in order.
        plan: the nodes with inferred shapes (filled by ``load_spec``).
    """

    input_shape: tuple[int, ...]
    layers: list[LayerEntry]
    name: str | None = None
    description: str | None = None
    outputs: tuple[str, ...] | None = None
    source: str = "<spec>"
    plan: Plan | None = field(default=None, repr=False, compare=False)

    @property
    def output_shape(self) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
        """The per-sample output shape (a tuple of shapes for several outputs)."""
        if self.plan is None:
            raise ValueError("this spec has not been checked; use striate.load_spec")
        shapes = {n.name: n.out_shape for n in self.plan.nodes}
        shapes["input"] = self.input_shape
        outs = tuple(shapes[o] for o in self.plan.outputs)
        return outs[0] if len(outs) == 1 else outs

    @property
    def params(self) -> int:
        """Number of parameters of the built model (computed without allocating them)."""
        if self.plan is None:
            raise ValueError("this spec has not been checked; use striate.load_spec")
        return self.plan.params

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (what ``to_yaml`` writes)."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        out["input"] = list(self.input_shape)
        out["layers"] = [e.to_data() for e in self.layers]
        if self.outputs is not None:
            out["outputs"] = list(self.outputs)
        return out

    def to_yaml(self) -> str:
        """The spec as YAML, one line per layer entry."""
        data = self.to_dict()
        lines = []
        for key in ("name", "description"):
            if key in data:
                lines.append(_dump_line({key: data[key]}))
        lines.append(f"input: {_flow(data['input'])}")
        lines.append("layers:")
        lines += [f"  - {_entry_line(e)}" for e in data["layers"]]
        if "outputs" in data:
            lines.append(f"outputs: {_flow(data['outputs'])}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """The spec as JSON (also accepted by ``load_spec``)."""
        import json

        return json.dumps(self.to_dict(), indent=2) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _flow(value: Any) -> str:
    text = yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False,
                          width=10_000, allow_unicode=True)
    text = text.strip()
    return text[:-4].strip() if text.endswith("\n...") else text


def _entry_line(entry: Any) -> str:
    if isinstance(entry, dict) and len(entry) == 1:
        ((key, value),) = entry.items()
        return f"{_flow(key)}: {_flow(value)}"
    return _flow(entry)


def _dump_line(value: dict[str, Any]) -> str:
    return yaml.safe_dump(value, sort_keys=False, width=10_000, allow_unicode=True).strip()
