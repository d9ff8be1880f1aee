"""Run folders: what a training run leaves behind, and reading it back.

Layout::

    RUN/config.json       resolved TrainConfig, data name, classes, preprocessing, model
    RUN/metrics.jsonl     one JSON object per epoch
    RUN/metrics.csv       the same table as CSV
    RUN/checkpoints/      step-*.safetensors + step-*.json, best.safetensors
    RUN/model/            the model file (striate.save), written when the run ends
    RUN/result.json       how the run ended (status, best epoch, final metrics)
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from striate.fileio import atomic_write_text
from striate.layers.errors import StriateError
from striate.train.config import TrainConfig
from striate.train.prepare import Preprocess

CONFIG = "config.json"
MAX_JSON_BYTES = 16 << 20
RUN_FORMAT = "striate-run/1"
WEIGHTS_ONLY = "weights.safetensors"


class RunError(StriateError, ValueError):
    """A run folder is missing, incomplete, or would be overwritten."""


@dataclass
class Run:
    """A finished (or loaded) training run.

    Attributes:
        model: the trained model (in eval mode).
        classes: class names, in output order.
        preprocess: how raw samples become model inputs.
        config: the training configuration.
        data_name: the data set it was trained on.
        path: the run folder, or None for a run kept in memory.
        history: one dict of metrics per epoch.
        status: ``finished``, ``early-stopped``.
        best_epoch: the epoch whose weights the model holds when ``restore_best``.
        info: the run's ``config.json`` (data root, model description, sizes).
    """

    model: nn.Module
    classes: list[str]
    preprocess: Preprocess
    config: TrainConfig
    data_name: str
    path: Path | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    status: str = "finished"
    best_epoch: int | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def normalization(self) -> dict[str, list[float]]:
        """Per-channel ``{"mean": [...], "std": [...]}`` on the 0–1 scale."""
        return {"mean": list(self.preprocess.mean), "std": list(self.preprocess.std)}

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample model input, e.g. ``(1, 32, 32)``."""
        return tuple(self.preprocess.input_shape)

    def evaluate(self, data: Any, split: str = "test", batch_size: int = 1000) -> Any:
        """Metrics of the model on a data set (name, ArrayDataset or ``(x, y)``)."""
        from striate.train.evaluate import evaluate

        return evaluate(self.model, data, self.preprocess, split=split, classes=self.classes,
                        batch_size=batch_size)

    def predict(self, raw: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Class probabilities ``(N, classes)`` for raw samples ``(N, *raw_shape)``."""
        from striate.train.evaluate import predict_proba

        return predict_proba(self.model, raw, self.preprocess, batch_size=batch_size)


def prepare_folder(path: str | Path, *, force: bool = False, resume: bool = False) -> Path:
    """Create a run folder; refuse a non-empty one unless ``force`` or ``resume``.

    With ``force``, only what a run writes is replaced, file by file, as the run goes.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunError(f"{path} is a file, not a folder; choose another --out").at("--out")
    if resume:
        if not (path / CONFIG).is_file():
            raise RunError(f"{path} is not a striate run folder (no {CONFIG}); give the "
                           "folder a previous `striate train --out` wrote").at("--resume")
        return path
    check_new_folder(path, force)
    path.mkdir(parents=True, exist_ok=True)
    if force:
        _forget_previous_run(path)
    return path


def _forget_previous_run(path: Path) -> None:
    """Remove what an earlier run wrote into ``path`` that a new run would not replace.

    Its checkpoints above all: left there, a newer-numbered old checkpoint would outrank
    the new run's on ``--resume``. Files striate did not write are left alone.
    """
    from striate.train.checkpoint import list_checkpoints

    folder = path / "checkpoints"
    for record in list_checkpoints(folder):
        for suffix in (".safetensors", ".json"):
            record.with_suffix(suffix).unlink(missing_ok=True)
    for name in (folder / "best.safetensors", path / "result.json", path / WEIGHTS_ONLY):
        name.unlink(missing_ok=True)


def check_new_folder(path: str | Path, force: bool = False) -> None:
    """Raise unless ``path`` can hold a new run (absent, empty, or ``force``)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunError(f"{path} is a file, not a folder; choose another --out").at("--out")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise RunError(f"{path} already exists and is not empty; use --resume to continue "
                       "that run, --force to overwrite it, or another --out").at("--out")


def next_free(base: str | Path) -> Path:
    """``base`` if free or empty, else ``base-2``, ``base-3``, … (never reuses a run)."""
    base = Path(base)
    candidate, n = base, 1
    while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def read_json(path: Path, what: str) -> Any:
    """Read a bounded JSON file; errors are one-line RunErrors."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise RunError(f"{what} is larger than {MAX_JSON_BYTES} bytes").at(str(path))
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"missing {what}").at(str(path)) from None
    except (OSError, ValueError) as err:
        raise RunError(f"unreadable {what} ({err})").at(str(path)) from None


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically."""
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def write_metrics(folder: Path, history: list[dict[str, Any]]) -> None:
    """Rewrite ``metrics.jsonl`` and ``metrics.csv`` from the per-epoch records."""
    atomic_write_text(folder / "metrics.jsonl",
                      "".join(json.dumps(r, sort_keys=True) + "\n" for r in history))
    keys: list[str] = []
    for record in history:
        keys += [k for k in record if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(folder / "metrics.csv", buf.getvalue())


def save_model(model: nn.Module, folder: Path, classes: list[str], preprocess: Preprocess,
               metadata: dict[str, Any]) -> bool:
    """Write the run's model file (``RUN/model``) with ``striate.save``.

    A model that ``striate.save`` cannot describe (plain torch layers, written in Python)
    keeps only its weights, in ``RUN/weights.safetensors``; returns False then.
    """
    from striate.spec.modelfile import ModelFileError, save
    from striate.train.checkpoint import save_weights

    try:
        save(model, folder, classes=classes,
             normalization={"mean": preprocess.mean, "std": preprocess.std}
             if preprocess.mean else None,
             input_shape=tuple(preprocess.input_shape),
             metadata={**metadata, "preprocess": preprocess.to_dict()}, force=True)
    except ModelFileError as err:
        if "neither built from a spec nor a zoo model" not in str(err) and \
                "cannot be described" not in str(err):
            raise
        save_weights(folder.parent / WEIGHTS_ONLY, model)
        return False
    return True


def load_run(path: str | Path, device: str | torch.device = "cpu",
             model: nn.Module | None = None) -> Run:
    """Read a run folder: the trained model (eval mode) and what it was trained on.

    Args:
        model: for a run of a model written in Python with plain torch layers (which has
            no model file, only ``weights.safetensors``): an instance to load them into.

    Raises:
        RunError: not a run folder, or the run has not written its model yet.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path} is not a folder; give the --out folder of `striate "
                       "train`")
    if not (path / CONFIG).is_file():
        raise RunError(f"{path} is not a striate run folder (no {CONFIG})")
    info = read_json(path / CONFIG, "run configuration")
    if not isinstance(info, dict) or info.get("format") != RUN_FORMAT:
        raise RunError(f"{CONFIG} is not a striate run configuration (format "
                       f"{info.get('format') if isinstance(info, dict) else None!r})"
                       ).at(str(path))
    if model is not None and (path / WEIGHTS_ONLY).is_file():
        from striate.train.checkpoint import load_weights

        model.load_state_dict(load_weights(path / WEIGHTS_ONLY))
    elif (path / WEIGHTS_ONLY).is_file() and not (path / "model").is_dir():
        raise RunError(f"{path} holds only the weights of a model written in Python; load "
                       "them with striate.train.load_run(path, model=YourModel())")
    elif not (path / "model").is_dir():
        raise RunError(f"{path} has no trained model yet (the run did not finish); "
                       f"continue it with `striate train --out {path} --resume`")
    else:
        from striate.spec.modelfile import load

        model = load(path / "model")
    model = model.to(device).eval()
    history = []
    if (path / "metrics.jsonl").is_file():
        text = (path / "metrics.jsonl").read_text()
        history = [json.loads(line) for line in text.splitlines() if line.strip()]
    result = read_json(path / "result.json", "run result") if (
        path / "result.json").is_file() else {}
    return Run(model=model, classes=list(info["classes"]),
               preprocess=Preprocess.from_dict(info["preprocess"]),
               config=TrainConfig.from_dict(info["train"]), data_name=info["data"],
               path=path, history=history, status=result.get("status", "finished"),
               best_epoch=result.get("best_epoch"), info=info)


def describe_model(model: nn.Module) -> dict[str, Any]:
    zoo = getattr(model, "zoo_config", None)
    info: dict[str, Any] = {"class": f"{type(model).__module__}.{type(model).__qualname__}"}
    if zoo:
        info["zoo"] = zoo
    return info


_RESUME_FREE = {"progress", "threads", "device", "checkpoint_every", "eval_batch_size"}


def resume_config(saved: dict[str, Any], given: TrainConfig | None) -> TrainConfig:
    """The saved configuration; given options may only differ where it cannot matter."""
    old = TrainConfig.from_dict(saved["train"])
    if given is None:
        return old
    new = given.to_dict()
    for key, value in old.to_dict().items():
        if key not in _RESUME_FREE and new[key] != value and key != "epochs":
            raise RunError(f"the run used {key}={value!r}, not {new[key]!r}; resume with the "
                           "same options (only --epochs may grow)").at(f"--{key.replace('_', '-')}")
    if new["epochs"] < old.epochs:
        raise RunError(f"the run was set for {old.epochs} epochs; --epochs cannot shrink on "
                       "resume").at("--epochs")
    return given
