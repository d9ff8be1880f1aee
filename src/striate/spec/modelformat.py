"""The model file format: its constants, its error, and the checks of what a model folder
holds (bounded JSON, a well-formed meta.json, input normalisation), shared by ``save`` and
``load`` in :mod:`striate.spec.modelfile`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from striate.layers.errors import StriateError

FORMAT = "striate-model"
FORMAT_VERSION = 1
MAX_META_BYTES = 1_000_000
MAX_ARCH_BYTES = 64_000
HEADER_SLACK = 16_000_000  # safetensors header and alignment, beyond the tensor bytes


class ModelFileError(StriateError, ValueError):
    """A model file cannot be written or read (exists, malformed, mismatched weights)."""


def check_normalization(value: Any) -> dict[str, list[float]] | None:
    """``(mean, std)`` or ``{"mean": …, "std": …}`` as ``{"mean": [...], "std": [...]}``.

    Raises:
        ModelFileError: not numbers, lengths that differ, a std that is not positive.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        mean, std = value.get("mean"), value.get("std")
    else:
        try:
            mean, std = value
        except (TypeError, ValueError):
            raise ModelFileError("normalization must be (mean, std) or {'mean': …, 'std': …}"
                                 f"; got {value!r}") from None
    try:
        # float64 keeps 0.49 as 0.49 (a float32 tensor would store 0.49000000953674316)
        mean = [float(m) for m in torch.as_tensor(mean, dtype=torch.float64).flatten().tolist()]
        std = [float(s) for s in torch.as_tensor(std, dtype=torch.float64).flatten().tolist()]
    except (TypeError, ValueError, RuntimeError):
        raise ModelFileError(f"normalization mean and std must be numbers; got {value!r}"
                             ) from None
    if len(mean) != len(std) or not mean or any(not s > 0 for s in std):
        raise ModelFileError(f"normalization needs one mean and one positive std per channel; "
                             f"got mean={mean} std={std}")
    return {"mean": mean, "std": std}


def read_json(path: Path, limit: int) -> Any:
    """The JSON in ``path``, refused beyond ``limit`` bytes (or nested too deep to parse).

    Raises:
        ModelFileError: too large, not UTF-8, not JSON.
    """
    size = path.stat().st_size
    if size > limit:
        raise ModelFileError(f"{path} is {size:,} bytes; the limit is {limit:,}")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ModelFileError(f"{path} is not valid JSON: {' '.join(str(err).split())[:200]}"
                             ) from None


def check_meta(meta: Any, where: Path) -> dict[str, Any]:
    """``meta`` if it is a well-formed meta.json of this format (normalisation made exact).

    Raises:
        ModelFileError: another format or a newer version, malformed fields.
    """
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{where} is not a striate model's meta.json (format is not "
                             f"{FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(f"{where}: format_version {version!r} is newer than this striate "
                             f"reads ({FORMAT_VERSION}); upgrade striate")
    if meta.get("architecture") not in ("spec.yaml", "architecture.json"):
        raise ModelFileError(f"{where}: architecture must be spec.yaml or architecture.json, "
                             f"got {meta.get('architecture')!r}")
    shape = meta.get("input_shape")
    if shape is not None and not (isinstance(shape, list) and 1 <= len(shape) <= 3 and all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)):
        raise ModelFileError(f"{where}: input_shape must be 1 to 3 positive sizes, got {shape!r}")
    classes = meta.get("classes")
    if classes is not None and not (isinstance(classes, list) and all(
            isinstance(c, str) for c in classes)):
        raise ModelFileError(f"{where}: classes must be a list of names")
    if meta.get("normalization") is not None:
        meta["normalization"] = check_normalization(meta["normalization"])
    return meta
