"""The module ``striate.build`` returns: named layers run as a chain or a graph."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _takes_indices(module: nn.Module) -> bool:
    return type(module).__name__.startswith("MaxUnpool")


class Network(nn.Module):
    """Layers with readable names (``conv1``, ``pool1``, or the spec's ``name:``) wired as the
    spec says: each takes the previous layer's output, or the outputs of the layers named
    by its ``from:``.

    Pooling that returns switches (``return_indices: true``) passes its values on to the
    next layers and its switches to the unpooling layer that names it second in ``from:``.

    Attributes:
        graph: ``(name, inputs)`` per layer, in order; ``input`` is the network's input.
        outputs: the names whose outputs ``forward`` returns (a tuple when several).
        input_shape: the per-sample input shape of the spec.
        spec_layout: per layer, ``(entry index, role, copy)``, which ``to_spec`` uses to
            fold inline activations and repeats back into their entries.
        spec_info: the spec's ``name``/``description`` and every entry's ``name:``.
    """

    def __init__(self, layers: list[tuple[str, nn.Module, tuple[str, ...]]],
                 outputs: tuple[str, ...], input_shape: tuple[int, ...],
                 spec_layout: list[tuple[int, str, int]] | None = None,
                 spec_info: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.graph: list[tuple[str, tuple[str, ...]]] = []
        for name, module, inputs in layers:
            self.add_module(name, module)
            self.graph.append((name, tuple(inputs)))
        self.outputs = tuple(outputs)
        self.input_shape = tuple(input_shape)
        self.default_input_shape = self.input_shape
        self.spec_layout = list(spec_layout or [])
        self.spec_info = dict(spec_info or {})
        chain = all(inputs == ((self.graph[i - 1][0],) if i else ("input",))
                    for i, (_, inputs) in enumerate(self.graph))
        self.is_chain = chain and self.outputs == (self.graph[-1][0],)

    def forward(self, x: torch.Tensor) -> Any:
        """Run the layers in order; returns the output (a tuple for several outputs)."""
        if self.is_chain:
            for name, _ in self.graph:
                x = getattr(self, name)(x)
            return x
        env: dict[str, Any] = {"input": x}
        for name, inputs in self.graph:
            module = getattr(self, name)
            args = []
            for i, ref in enumerate(inputs):
                value = env[ref]
                if isinstance(value, tuple):
                    value = value[1] if (i == 1 and _takes_indices(module)) else value[0]
                args.append(value)
            env[name] = module(*args)
        outs = tuple(env[o] for o in self.outputs)
        return outs[0] if len(outs) == 1 else outs

    def __getitem__(self, key: int | str) -> nn.Module:
        if isinstance(key, int):
            return getattr(self, self.graph[key][0])
        return getattr(self, key)

    def __len__(self) -> int:
        return len(self.graph)

    def extra_repr(self) -> str:
        return "" if self.is_chain else f"outputs={list(self.outputs)}"
