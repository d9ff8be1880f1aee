"""Checkpoints: tensors in safetensors, everything else in JSON, both written atomically.

A checkpoint is a pair ``step-00001234.safetensors`` + ``step-00001234.json``. The JSON is
written last and records the SHA-256 of the tensor file, so a checkpoint counts only once
both halves are complete and agree. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from striate.fileio import atomic_write_bytes, atomic_write_text
from striate.layers.errors import StriateError

FORMAT = "striate-checkpoint/1"
_NAME = re.compile(r"^step-(\d{8,})\.json$")
MAX_JSON_BYTES = 64 << 20


class CheckpointError(StriateError):
    """A checkpoint folder holds nothing usable (missing, truncated or altered files)."""


def _cpu(t: torch.Tensor) -> torch.Tensor:
    # clone: safetensors refuses tensors that share storage (tied weights, views)
    return t.detach().to("cpu", copy=True).contiguous()


def rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The global random states: torch (CPU, CUDA) as tensors, Python and NumPy as JSON."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global state is what user code seeds)
    meta = {"python": [version, list(internal), gauss],
            "numpy": [np_state[0], np_state[1].tolist(), *map(_plain, np_state[2:])]}
    return tensors, meta


def set_rng_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(tensors["rng.torch"])
    cuda = sorted(k for k in tensors if k.startswith("rng.cuda."))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    if "python" in meta:
        version, internal, gauss = meta["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in meta:
        name, keys, *rest = meta["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))  # noqa: NPY002


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def optimizer_state(optimizer: torch.optim.Optimizer
                    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser's state_dict into tensors and JSON-able values."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = _cpu(value)
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _like_param(value: torch.Tensor, param: torch.Tensor) -> torch.Tensor:
    """``value`` laid out in memory as ``param`` is (channels-last weights keep
    channels-last moments): the fused Adam kernel walks both as flat arrays."""
    if value.shape != param.shape:
        return value
    return torch.empty_like(param, dtype=value.dtype).copy_(value)


def load_optimizer_state(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                         meta: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = _like_param(value, params[int(pid)])
    for pid, values in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(values)
    fresh = optimizer.state_dict()["param_groups"]
    groups = []
    for saved, now in zip(meta["param_groups"], fresh, strict=False):
        groups.append({k: tuple(v) if isinstance(now.get(k), tuple) else v
                       for k, v in saved.items()})
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(folder: str | Path, step: int, model: nn.Module,
                    optimizer: torch.optim.Optimizer | None, state: dict[str, Any],
                    *, keep: int = 2, extra: dict[str, torch.Tensor] | None = None) -> Path:
    """Write checkpoint ``step`` into ``folder`` and keep only the newest ``keep``.

    ``extra`` tensors (e.g. the weight average) are stored under their own names.
    Returns the path of the JSON half.
    """
    folder = Path(folder)
    tensors = {f"model.{k}": _cpu(v) for k, v in model.state_dict().items()}
    tensors.update({k: _cpu(v) for k, v in (extra or {}).items()})
    meta: dict[str, Any] = {"format": FORMAT, "step": step, "state": state}
    if optimizer is not None:
        opt_tensors, meta["optimizer"] = optimizer_state(optimizer)
        tensors.update(opt_tensors)
    rng_tensors, meta["rng"] = rng_state()
    tensors.update(rng_tensors)
    from safetensors.torch import save

    blob = save(tensors, metadata={"format": FORMAT, "step": str(step)})
    stem = f"step-{step:08d}"
    atomic_write_bytes(folder / f"{stem}.safetensors", blob)
    meta["tensors"] = {"file": f"{stem}.safetensors", "bytes": len(blob),
                       "sha256": hashlib.sha256(blob).hexdigest()}
    path = atomic_write_text(folder / f"{stem}.json", json.dumps(meta))
    for old in list_checkpoints(folder)[:-keep]:
        for suffix in (".safetensors", ".json"):
            old.with_suffix(suffix).unlink(missing_ok=True)
    return path


def list_checkpoints(folder: str | Path) -> list[Path]:
    """JSON halves of the checkpoints in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.match(p.name)]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read and verify one checkpoint (its JSON half); raises CheckpointError if damaged."""
    from safetensors.torch import load

    path = Path(path)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise CheckpointError(f"{path.stat().st_size} bytes is too large a checkpoint "
                                  "record").at(str(path))
        meta = json.loads(path.read_text())
        info = meta["tensors"]
        blob = (path.parent / Path(info["file"]).name).read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"unreadable checkpoint ({err})").at(str(path)) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"format {meta.get('format')!r} is not {FORMAT!r}"
                              ).at(str(path))
    if len(blob) != info["bytes"] or hashlib.sha256(blob).hexdigest() != info["sha256"]:
        raise CheckpointError(f"tensor file is {len(blob)} bytes and does not match its "
                              f"record ({info['bytes']} bytes, sha256); it was truncated or "
                              "changed").at(str(path))
    try:
        tensors = load(blob)
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"tensor file is not valid safetensors ({err})"
                              ).at(str(path)) from None
    return meta, tensors


def latest_checkpoint(folder: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The newest intact checkpoint in ``folder``; older ones stand in for a damaged one."""
    candidates = list_checkpoints(folder)
    if not candidates:
        raise CheckpointError("no checkpoint to resume from; start a new run without "
                              "--resume").at(str(folder))
    errors: list[CheckpointError] = []
    for path in reversed(candidates):
        try:
            return read_checkpoint(path)
        except CheckpointError as err:
            errors.append(err)
    raise errors[0]  # the newest one's problem is the one to report


def restore(meta: dict[str, Any], tensors: dict[str, torch.Tensor], model: nn.Module,
            optimizer: torch.optim.Optimizer | None) -> None:
    """Load model weights, optimiser state and random states from a checkpoint."""
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0:2]
        raise CheckpointError("checkpoint weights do not fit this model "
                              f"({' '.join(first)}); resume with the same model"
                              ) from None
    if optimizer is not None and "optimizer" in meta:
        load_optimizer_state(optimizer, tensors, meta["optimizer"])
    set_rng_state(tensors, meta.get("rng", {}))


def save_weights(path: str | Path, model: nn.Module) -> Path:
    """Write only the model's state_dict (safetensors, atomically)."""
    from safetensors.torch import save

    blob = save({k: _cpu(v) for k, v in model.state_dict().items()})
    return atomic_write_bytes(path, blob)


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state_dict written by :func:`save_weights`."""
    from safetensors.torch import load

    return load(Path(path).read_bytes())
