"""``striate train MODEL --data DATASET``: train a classifier and write a run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``train`` sub-command."""
    from striate.train.config import add_arguments

    p = subparsers.add_parser(
        "train", help="train a model (zoo name, spec file or model folder) on a data set",
        description="Train a classifier. Every training option is also a YAML key of "
        "--config; flags given here override the file.")
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help="zoo name (lenet5), spec file (net.yaml) or model folder; optional "
                   "with --resume")
    p.add_argument("--data", help="data set name (mnist-bundled, digits, cifar10, "
                   "folder:PATH, ...)")
    p.add_argument("--data-root", help="folder holding the data set's files")
    p.add_argument("--data-option", action="append", metavar="KEY=VALUE",
                   help="data set option, e.g. --data-option resize=64x64 for a folder of "
                   "images or label_mode=coarse for cifar100 (repeatable)")
    p.add_argument("--out", help="run folder (default: runs/MODEL-DATA, numbered if taken)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--force", action="store_true", help="reuse a non-empty --out folder")
    p.add_argument("--config", help="YAML file of training options")
    p.add_argument("--input-shape", type=int, nargs="+", metavar="N",
                   help="build the model for this per-sample shape, e.g. 1 32 32")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="zoo model option, e.g. --option width=0.5 (repeatable)")
    add_arguments(p)
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Train and print one line per epoch, then where the run is."""
    import torch

    from striate.layers.errors import ConfigError
    from striate.train.config import from_args
    from striate.train.models import parse_options, rebuild, resolve_model
    from striate.train.prepare import as_labelled, load_named
    from striate.train.run import (
        CONFIG,
        check_new_folder,
        next_free,
        prepare_folder,
        read_json,
    )
    from striate.train.trainer import Trainer, TrainingInterrupted

    saved = None
    if args.resume:
        if not args.out:
            raise ConfigError("needs --out RUN, the folder of the run to continue"
                              ).at("--resume")
        prepare_folder(args.out, resume=True)
        saved = read_json(Path(args.out) / CONFIG, "run configuration")
    elif args.out:
        check_new_folder(args.out, args.force)
    config = from_args(args, base=_saved_config(saved))
    data_name = args.data or (saved or {}).get("data")
    if not data_name:
        raise ConfigError("which data? e.g. --data mnist-bundled").at("--data")
    if not args.model and saved is None:
        raise ConfigError("name a model: a zoo name (lenet5), a spec file or a model folder"
                          ).at("MODEL")
    data_root = args.data_root or (saved or {}).get("data_root")
    data_options = (parse_options(args.data_option, "--data-option", "resize=64x64")
                    if args.data_option else (saved or {}).get("data_options", {}))
    train = as_labelled(load_named(data_name, "train", data_root, data_options))
    torch.manual_seed(config.seed)
    if saved is not None and not args.model:
        model, info = rebuild(saved.get("model", {})), saved.get("model", {})
    else:
        model, info = resolve_model(
            args.model, num_classes=len(train.classes),
            raw_shape=tuple(int(s) for s in train.x.shape[1:]),
            input_shape=tuple(args.input_shape) if args.input_shape else None,
            options=parse_options(args.option))
    out = Path(args.out) if args.out else next_free(
        Path("runs") / f"{Path(args.model).stem}-{_slug(data_name)}")
    trainer = Trainer(model, config, out=out, resume=args.resume, force=args.force,
                      callbacks=[epoch_printer()], input_shape=args.input_shape,
                      model_info=info,
                      extra={"data_root": data_root, "data_options": data_options})
    print(f"training {args.model or info.get('source', 'the model')} on {data_name} "
          f"({len(train)} samples) -> {out}", file=sys.stderr)
    try:
        run = trainer.fit(train)
    except TrainingInterrupted as err:
        print(f"striate: {err}", file=sys.stderr)
        return 130
    best = f", best epoch {run.best_epoch}" if run.best_epoch else ""
    print(f"{run.status} after {trainer.epoch} epochs{best}; run folder: {out}")
    print(f"next: striate evaluate {out}")
    return 0


def _saved_config(saved: dict[str, Any] | None) -> Any:
    if saved is None:
        return None
    from striate.train.config import TrainConfig

    return TrainConfig.from_dict(saved["train"])


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(name).name) or "data"


def epoch_printer() -> Any:
    """A callback that prints one line per epoch on stdout."""
    from striate.train.callbacks import Callback

    class EpochPrinter(Callback):
        def on_epoch_end(self, trainer: Any, record: dict[str, Any]) -> None:
            parts = [f"epoch {record['epoch']:>3}/{trainer.config.epochs}",
                     f"loss {record['train_loss']:.4f}",
                     f"acc {100 * record['train_acc']:.2f}%"]
            if "val_acc" in record:
                parts += [f"val_loss {record['val_loss']:.4f}",
                          f"val_acc {100 * record['val_acc']:.2f}%"]
            if record.get("images_per_s"):
                parts.append(f"{record['images_per_s']:.0f} img/s")
            parts.append(f"lr {record['lr']:.2e}")
            print("  ".join(parts), flush=True)

    return EpochPrinter()
