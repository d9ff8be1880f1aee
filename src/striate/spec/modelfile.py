"""Model files: a folder with the architecture, the weights and a little metadata.

```
model/
  spec.yaml            the network as a spec (or architecture.json: {"zoo": name, "options"})
  weights.safetensors  every parameter and buffer (safetensors: tensors only, no code)
  meta.json            classes, input normalisation, input shape, striate version
```

A folder rather than an archive: each part is readable on its own (the spec is text to diff
and review, the weights can be memory-mapped), and no archive is unpacked on load. Nothing is
unpickled; every file read is bounded in size, and the weights file must match the size the
architecture implies.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn

from striate.layers.errors import StriateError
from striate.spec.modelformat import (
    FORMAT,
    FORMAT_VERSION,
    HEADER_SLACK,
    MAX_ARCH_BYTES,
    MAX_META_BYTES,
    ModelFileError,
    check_meta,
    check_normalization,
    read_json,
)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some filesystems do not open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _is_model_folder(path: Path) -> bool:
    if path.is_dir() and not any(path.iterdir()):
        return True
    meta = path / "meta.json"
    try:
        return meta.stat().st_size < MAX_META_BYTES and json.loads(
            meta.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError, RecursionError):
        return False


def _architecture(model: nn.Module, input_shape: tuple[int, ...] | None
                  ) -> tuple[str, bytes, Any]:
    """The architecture file's name and bytes, and the spec (None for a zoo model)."""
    from striate.spec.dump import to_spec
    from striate.spec.errors import SpecError
    from striate.spec.network import Network

    zoo = getattr(model, "zoo_config", None)
    if isinstance(model, Network) or not zoo:
        try:
            spec = to_spec(model, input_shape)
        except SpecError as err:
            raise ModelFileError(
                f"cannot save {type(model).__name__}: it is neither built from a spec nor a "
                f"zoo model ({err.problems[0].message})") from None
        return "spec.yaml", spec.to_yaml().encode(), spec
    if not isinstance(zoo, dict) or not isinstance(zoo.get("name"), str):
        raise ModelFileError(f"model.zoo_config must be {{'name': …, 'options': {{…}}}}; got "
                             f"{zoo!r}")
    arch = {"zoo": zoo["name"], "options": dict(zoo.get("options") or {})}
    try:
        text = json.dumps(arch, indent=2, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"the zoo options of {zoo['name']} are not JSON: {err}") from None
    return "architecture.json", text.encode(), None


def _tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    seen: set[tuple[int, int]] = set()
    for key, value in model.state_dict().items():
        if isinstance(value, nn.parameter.UninitializedParameter) or (
                isinstance(value, torch.Tensor) and value.is_meta):
            raise ModelFileError(f"cannot save {key}: it has no values yet (a lazy layer before "
                                 "its first forward, or a model built on the meta device)")
        tensor = value.detach().to("cpu").contiguous()
        ident = (tensor.untyped_storage().data_ptr(), tensor.storage_offset())
        if ident in seen or tensor.untyped_storage().nbytes() != tensor.nbytes:
            tensor = tensor.clone()  # safetensors refuses tensors that share memory
        seen.add(ident)
        out[key] = tensor
    return out


def _as_built(tensors: dict[str, torch.Tensor], spec: Any, model: nn.Module
              ) -> dict[str, torch.Tensor]:
    """``tensors`` under the names ``build(spec)`` gives its modules, so that ``load`` finds
    them: an ``nn.Sequential`` of striate layers calls its first convolution ``0``, the
    network built from its spec ``conv1``. Same names are kept; otherwise the tensors are
    matched in order (layers and their parameters come in the same order) and every shape
    must agree."""
    from striate.spec.build import build

    built = {k: tuple(v.shape) for k, v in build(spec, device="meta").state_dict().items()}
    if set(built) == set(tensors):
        return tensors
    shapes = [tuple(t.shape) for t in tensors.values()]
    if list(built.values()) != shapes:
        raise ModelFileError(f"cannot save {type(model).__name__}: its {len(shapes)} tensors do "
                             f"not line up with the {len(built)} of the network its spec "
                             "builds; build the model from a spec (striate.build) and train "
                             "that")
    return dict(zip(built, tensors.values(), strict=True))


def _check_classes(classes: list[str] | None, spec: Any, model: nn.Module) -> None:
    """One class name per output channel (two for a single binary score)."""
    if classes is None:
        return
    if spec is not None:
        out = spec.output_shape
        outputs = (out[0] if out and isinstance(out[0], tuple) else out) or (None,)
        n = outputs[0]
    else:
        n = (getattr(model, "zoo_config", None) or {}).get("options", {}).get("num_classes")
    if isinstance(n, int) and len(classes) != n and not (n == 1 and len(classes) == 2):
        raise ModelFileError(f"{len(classes)} class names for a model with {n} outputs; give "
                             "one name per output, in output order")


def _unwrap(model: nn.Module) -> nn.Module:
    """The model inside DataParallel / DistributedDataParallel / torch.compile wrappers, so
    that its file does not depend on how it was trained."""
    while True:
        if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), nn.Module):
            model = model._orig_mod
        else:
            return model


def save(model: nn.Module, path: str | os.PathLike[str], *, classes: list[str] | None = None,
         normalization: Any = None, input_shape: tuple[int, ...] | None = None,
         metadata: dict[str, Any] | None = None, force: bool = False) -> Path:
    """Save a model as a folder (architecture, safetensors weights, metadata), atomically.

    Args:
        model: a network from ``build``, a zoo model (with ``zoo_config``), or striate layers
            in ``nn.Sequential`` chains.
        path: the folder to write.
        classes: class names, in output order.
        normalization: ``(mean, std)`` per input channel, on the 0–1 scale.
        input_shape: per-sample input shape (default: the model's own).
        metadata: more JSON-able information to keep (dataset, accuracy…).
        force: replace an existing model folder.

    Returns:
        The folder written.

    Raises:
        ModelFileError: the folder exists (without force), or the model cannot be described.
    """
    from safetensors.torch import save_file

    from striate import __version__

    model = _unwrap(model)
    path = Path(path)
    if path.exists() and not force:
        raise ModelFileError(f"{path} exists; pass force=True (--force) to replace it")
    if path.exists() and not _is_model_folder(path):
        raise ModelFileError(f"{path} exists and is not a striate model folder; refusing to "
                             "replace it, even with force; choose another path")
    shape = input_shape or getattr(model, "default_input_shape", None) or getattr(
        model, "input_shape", None)
    arch_name, arch_bytes, spec = _architecture(model, tuple(shape) if shape else None)
    shape = tuple(int(s) for s in (shape or (spec.input_shape if spec else ()))) or None
    _check_classes(classes, spec, model)
    tensors = _tensors(model)
    if spec is not None:
        tensors = _as_built(tensors, spec, model)
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "striate_version": __version__,
        "architecture": arch_name,
        "classes": None if classes is None else [str(c) for c in classes],
        "normalization": check_normalization(normalization),
        "input_shape": list(shape) if shape else None,
        "params": sum(p.numel() for p in model.parameters()),
        "metadata": dict(metadata or {}),
    }
    try:
        meta_bytes = json.dumps(meta, indent=2, allow_nan=False).encode()
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"metadata must be JSON-able: {err}") from None
    if len(meta_bytes) > MAX_META_BYTES:
        raise ModelFileError(f"meta.json would be {len(meta_bytes):,} bytes; the limit is "
                             f"{MAX_META_BYTES:,} (keep big data out of metadata)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        _write(tmp / arch_name, arch_bytes)
        save_file(tensors, str(tmp / "weights.safetensors"),
                  metadata={"format": "pt", "striate": __version__})
        with open(tmp / "weights.safetensors", "rb+") as f:
            os.fsync(f.fileno())
        _write(tmp / "meta.json", meta_bytes)
        _fsync_dir(tmp)
        old = None
        if path.exists():
            old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _zoo_model(folder: Path, device: torch.device | None) -> nn.Module:
    arch = read_json(folder / "architecture.json", MAX_ARCH_BYTES)
    if not (isinstance(arch, dict) and isinstance(arch.get("zoo"), str)
            and isinstance(arch.get("options", {}), dict)):
        raise ModelFileError(f"{folder / 'architecture.json'} must be {{\"zoo\": name, "
                             "\"options\": {…}}")
    from striate import zoo

    options = dict(arch.get("options") or {})
    with torch.device(device) if device is not None else nullcontext():
        return zoo.create(arch["zoo"], **options)


def _state_bytes(model: nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def load(path: str | os.PathLike[str], *, device: str | torch.device | None = None
         ) -> nn.Module:
    """Load a model folder written by :func:`save`.

    Returns:
        The model with its weights, in eval mode, and the metadata at ``model.striate_meta``.

    Raises:
        ModelFileError: a part is missing, too large, malformed, or the weights do not
            match the architecture.
        SpecError: the spec has problems.
        FileNotFoundError: the folder does not exist.
    """
    from safetensors import SafetensorError, safe_open

    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(2, "no such model folder", str(folder))
    if not folder.is_dir():
        raise ModelFileError(f"{folder} is a file; a model file is a folder written by "
                             "striate.save (for a spec use striate.load_spec and build)")
    if not (folder / "meta.json").is_file():
        raise ModelFileError(f"{folder} is a folder but not a striate model folder (no "
                             "meta.json); give a folder written by striate.save, or a spec file")
    meta = check_meta(read_json(folder / "meta.json", MAX_META_BYTES), folder / "meta.json")
    if meta["architecture"] == "spec.yaml":
        from striate.spec.build import build
        from striate.spec.load import load_spec

        spec = load_spec(folder / "spec.yaml")
        skeleton: nn.Module | None = build(spec, device="meta")
    else:
        try:
            skeleton = _zoo_model(folder, torch.device("meta"))
        except StriateError:
            raise
        except Exception:  # a zoo builder that cannot run on meta: size-check the real one
            skeleton = None
    from striate.spec.build import MAX_PARAMS

    if skeleton is not None and sum(p.numel() for p in skeleton.parameters()) > MAX_PARAMS:
        raise ModelFileError(f"{folder}: the architecture has more than {MAX_PARAMS:,} "
                             "parameters; refusing to allocate it")
    weights = folder / "weights.safetensors"
    expected = _state_bytes(skeleton) if skeleton is not None else None
    size = weights.stat().st_size
    if expected is not None and size > expected + HEADER_SLACK:
        raise ModelFileError(f"{weights} is {size:,} bytes but the architecture holds "
                             f"{expected:,} bytes of weights; the file does not belong to it")
    if meta["architecture"] == "spec.yaml":
        model = build(spec, device=device)
    else:
        model = _zoo_model(folder, torch.device(device) if device is not None else None)
        if expected is None and size > _state_bytes(model) + HEADER_SLACK:
            raise ModelFileError(f"{weights} is larger than the architecture's weights")
    state = model.state_dict()
    try:
        with safe_open(str(weights), framework="pt", device="cpu") as f:
            keys = set(f.keys())
            missing = sorted(set(state) - keys)
            extra = sorted(keys - set(state))
            if missing or extra:
                raise ModelFileError(
                    f"{weights} does not match the architecture: missing {missing[:3]}, "
                    f"unexpected {extra[:3]} ({len(missing)} missing, {len(extra)} unexpected)")
            for key in sorted(keys):
                shape = tuple(f.get_slice(key).get_shape())
                if shape != tuple(state[key].shape):
                    raise ModelFileError(f"{weights}: {key} has shape {shape} but the "
                                         f"architecture needs {tuple(state[key].shape)}")
            with torch.no_grad():
                for key in sorted(keys):
                    if not state[key].is_meta:  # on meta only names and shapes are checked
                        state[key].copy_(f.get_tensor(key))
    except SafetensorError as err:
        raise ModelFileError(f"{weights} is not a valid safetensors file: {err}") from None
    model.eval()
    if meta.get("input_shape"):
        meta["input_shape"] = tuple(meta["input_shape"])
        if getattr(model, "default_input_shape", None) is None:
            model.default_input_shape = meta["input_shape"]
    model.striate_meta = meta
    return model


__all__ = ["ModelFileError", "load", "save"]
