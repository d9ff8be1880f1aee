"""The training configuration: one dataclass whose fields are also CLI flags and YAML keys.

``TrainConfig.from_yaml("run.yaml")`` sets defaults from a file, ``add_arguments`` turns
every field into a ``--flag`` (underscores become hyphens), and ``from_args`` merges the
two so that flags given on the command line override the file.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from striate.layers.errors import ConfigError

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MONITORS = ("val_loss", "val_acc")
MAX_CONFIG_BYTES = 1 << 20


@dataclass
class TrainConfig:
    """Everything that decides how a model is trained.

    The defaults are striate's recipe: AdamW at batch 64 with a one-cycle schedule
    peaking at 1e-2, label smoothing 0.1, and a moving average of the weights (decay 0.99)
    that is evaluated and kept. Augmentation is off unless asked for, because the right
    kind depends on the data (flips suit photographs, not digits); ``striate demo`` adds
    shifts, rotations and zooms and trains 30 epochs.
    """

    epochs: int = field(default=10, metadata={"help": "passes over the training data"})
    batch_size: int = field(default=64, metadata={"help": "samples per step"})
    optimizer: str = field(default="adamw", metadata={"help": "|".join(OPTIMIZERS)})
    lr: float = field(default=1e-2, metadata={"help": "peak learning rate"})
    momentum: float = field(default=0.9, metadata={"help": "SGD/RMSprop momentum"})
    nesterov: bool = field(default=False, metadata={"help": "Nesterov momentum (SGD)"})
    betas: tuple[float, float] = field(default=(0.9, 0.999),
                                       metadata={"help": "Adam(W) betas"})
    weight_decay: float = field(default=5e-4, metadata={"help": "L2 / decoupled decay"})
    schedule: str = field(default="onecycle", metadata={"help": "|".join(SCHEDULES)})
    warmup_epochs: float = field(
        default=0.0, metadata={"help": "linear warm-up (one-cycle: 0 means 25%% of the run)"})
    step_size: int = field(default=10, metadata={"help": "epochs between decays (step)"})
    gamma: float = field(default=0.1, metadata={"help": "decay factor (step)"})
    label_smoothing: float = field(default=0.1, metadata={"help": "cross-entropy smoothing"})
    clip_grad_norm: float = field(default=0.0, metadata={"help": "max grad norm (0 = off)"})
    ema: float = field(
        default=0.99, metadata={"help": "decay of a moving average of the weights that is "
                                        "evaluated and kept (0 = off)"})
    val_fraction: float = field(default=0.1, metadata={"help": "share held out to validate"})
    early_stopping: int = field(
        default=0, metadata={"help": "stop after N epochs without improvement (0 = off)"})
    monitor: str = field(default="val_loss", metadata={"help": "|".join(MONITORS)})
    restore_best: bool = field(
        default=False, metadata={"help": "end with the best validation epoch's weights "
                                         "(else the last, as one-cycle intends)"})
    crop_padding: int = field(default=0, metadata={"help": "random shift up to N pixels"})
    flip: bool = field(default=False, metadata={"help": "random horizontal flips"})
    rotate: float = field(default=0.0, metadata={"help": "random rotation, degrees"})
    scale: float = field(default=0.0, metadata={"help": "random zoom by 1 ± scale"})
    jitter: float = field(default=0.0, metadata={"help": "brightness/contrast jitter"})
    seed: int = field(default=0, metadata={"help": "seed of weights, shuffles, augmentation"})
    device: str = field(default="auto", metadata={"help": "auto|cpu|cuda|cuda:N|mps"})
    precision: str = field(default="auto", metadata={"help": "|".join(PRECISIONS)})
    channels_last: str = field(default="auto", metadata={"help": "auto|on|off"})
    threads: int = field(default=0, metadata={"help": "CPU threads (0 = all cores)"})
    checkpoint_every: int = field(
        default=200, metadata={"help": "steps between checkpoints (and every epoch end)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    eval_batch_size: int = field(default=1000, metadata={"help": "samples per eval batch"})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every value; raises ConfigError naming the ``--option`` and a fix."""
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("precision", self.precision, PRECISIONS)
        _choice("monitor", self.monitor, MONITORS)
        _choice("channels_last", self.channels_last, ("auto", "on", "off"))
        for name in ("epochs", "batch_size", "step_size", "checkpoint_every",
                     "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"must be at least 1, got {getattr(self, name)}; "
                                  f"use e.g. {_flag(name)} 1").at(_flag(name))
        if not self.lr > 0:
            raise ConfigError(f"must be positive, got {self.lr}; use e.g. --lr 0.001"
                              ).at("--lr")
        for name, hi in (("label_smoothing", 1.0), ("val_fraction", 1.0),
                         ("momentum", 1.0), ("ema", 1.0)):
            value = getattr(self, name)
            if not 0 <= value < hi:
                raise ConfigError(f"must be in [0, {hi}), got {value}").at(_flag(name))
        for name in ("weight_decay", "clip_grad_norm", "warmup_epochs", "rotate", "jitter",
                     "scale",
                     "early_stopping", "crop_padding", "threads"):
            if getattr(self, name) < 0:
                raise ConfigError(f"must be >= 0, got {getattr(self, name)}"
                                  ).at(_flag(name))
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ConfigError(f"needs two values in [0, 1), got {list(self.betas)}; "
                              "use e.g. --betas 0.9 0.999").at("--betas")
        if self.rotate > 180 or self.scale >= 1:
            raise ConfigError(f"rotate must be at most 180 degrees and scale below 1, got "
                              f"{self.rotate} and {self.scale}").at("--rotate/--scale")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"must be in (0, 1], got {self.gamma}").at("--gamma")
        if self.early_stopping and self.val_fraction == 0:
            raise ConfigError("needs a validation split, but --val-fraction is 0; "
                              "use --val-fraction 0.1").at("--early-stopping")

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-able values."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> TrainConfig:
        """Build from a mapping (YAML or JSON keys; hyphens allowed); unknown keys raise."""
        if not isinstance(values, dict):
            raise ConfigError(f"expected a mapping of options, got {type(values).__name__}"
                              ).at(where)
        return cls(**_coerce_all(values, where))

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        """Read a YAML (or JSON) file of options."""
        return cls.from_dict(read_options(path), where=str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def read_options(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML/JSON options file (safe_load, at most 1 MiB)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "no such configuration file", str(path))
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"file is {path.stat().st_size} bytes, more than the "
                          f"{MAX_CONFIG_BYTES} allowed for a configuration").at(str(path))
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"not valid YAML ({getattr(err, 'problem', err)})"
                          ).at(f"{path}{line}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of options, got {type(values).__name__}"
                          ).at(str(path))
    return values


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(allowed)}"
        raise ConfigError(f"unknown value {value!r}; {hint}").at(_flag(name))


def _types() -> dict[str, Any]:
    return get_type_hints(TrainConfig)


def _coerce_all(values: dict[str, Any], where: str) -> dict[str, Any]:
    types = _types()
    out = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in types:
            close = difflib.get_close_matches(name, list(types), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown option {key!r}{hint}").at(where)
        out[name] = _coerce(name, value, types[name], where)
    return out


def _coerce(name: str, value: Any, kind: Any, where: str) -> Any:
    def bad() -> ConfigError:
        return ConfigError(f"option {name!r} expects {getattr(kind, '__name__', kind)}, "
                           f"got {value!r}").at(where)

    if get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad()
        return tuple(_coerce(name, v, get_args(kind)[0], where) for v in value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise bad()
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise bad()
        return value
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per field, defaulting to None so that unset flags are known."""
    group = parser.add_argument_group("training options (also YAML keys of --config)")
    for f in fields(TrainConfig):
        kind = _types()[f.name]
        default = f.default
        help_text = f"{f.metadata.get('help', '')} (default: {default})"
        if kind is bool:
            group.add_argument(_flag(f.name), dest=f.name, default=None,
                               action=argparse.BooleanOptionalAction, help=help_text)
        elif get_origin(kind) is tuple:
            group.add_argument(_flag(f.name), dest=f.name, default=None, nargs=2,
                               type=float, metavar=("B1", "B2"), help=help_text)
        else:
            group.add_argument(_flag(f.name), dest=f.name, default=None, type=kind,
                               help=help_text)


def from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """Defaults, then ``--config FILE`` (if ``args.config``), then explicit flags."""
    values = (base or TrainConfig()).to_dict()
    config_path = getattr(args, "config", None)
    if config_path:
        values.update(_coerce_all(read_options(config_path), str(config_path)))
    for f in fields(TrainConfig):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = tuple(given) if isinstance(given, list) else given
    values["betas"] = tuple(values["betas"])
    return TrainConfig(**values)


def config_json(config: TrainConfig) -> str:
    """The configuration as indented JSON text."""
    return json.dumps(config.to_dict(), indent=2, sort_keys=True)
