"""``build``: a checked spec → an ``nn.Module`` whose layers got their input sizes by
inference."""

from __future__ import annotations

import os
from contextlib import nullcontext

import torch

from striate.layers.errors import ConfigError
from striate.spec.model import Spec
from striate.spec.network import Network

MAX_PARAMS = 1_000_000_000


def build(spec: Spec | str | os.PathLike[str], *, device: str | torch.device | None = None,
          max_params: int = MAX_PARAMS) -> Network:
    """Build the network a spec describes.

    Args:
        spec: a :class:`Spec` from ``load_spec``, or a path / spec text to load first.
        device: where to create the parameters; ``"meta"`` allocates nothing (for the
            arithmetic of big networks).
        max_params: refuse to allocate more parameters than this (not checked on meta).

    Returns:
        A :class:`Network` (an ``nn.Module``) in training mode.

    Raises:
        SpecError: the spec has problems (from ``load_spec``).
        ConfigError: the network has more than ``max_params`` parameters.
    """
    if not isinstance(spec, Spec):
        from striate.spec.load import load_spec

        spec = load_spec(spec)
    if spec.plan is None:
        from striate.spec.load import load_spec

        spec = load_spec(spec.to_yaml(), source=spec.source)
    plan = spec.plan
    if plan is None:  # load_spec always sets it; a hand-made Spec may not have one
        raise ConfigError(f"{spec.source}: the spec has no inferred plan; use load_spec")
    dev = torch.device(device) if device is not None else None
    if plan.params > max_params and (dev is None or dev.type != "meta"):
        raise ConfigError(
            f"{spec.source}: the network has {plan.params:,} parameters, more than "
            f"max_params={max_params:,}; build it with device='meta' to inspect it, or raise "
            "max_params if you have the memory"
        )
    layers = []
    layout = []
    with torch.device(dev) if dev is not None else nullcontext():
        for node in plan.nodes:
            layers.append((node.name, node.cls(**node.kwargs), node.inputs))
            layout.append((node.entry, node.role, node.copy))
    info = {"name": spec.name, "description": spec.description,
            "entry_names": [e.name for e in spec.layers],
            "outputs": list(spec.outputs) if spec.outputs else None}
    return Network(layers, plan.outputs, spec.input_shape, layout, info)
