"""``striate evaluate RUN``: metrics and the confusion matrix on a held-out split."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` sub-command."""
    p = subparsers.add_parser(
        "evaluate", help="accuracy, per-class accuracy and confusion matrix of a trained run",
        description="Evaluate a run folder written by `striate train` on a data split "
        "(default: the test split of the data it was trained on).")
    p.add_argument("run", metavar="RUN", help="run folder (the --out of striate train)")
    p.add_argument("--data", help="data set name (default: the run's)")
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument("--data-root", help="folder holding the data set's files")
    p.add_argument("--data-option", action="append", metavar="KEY=VALUE",
                   help="data set option (default: the run's, for the run's data)")
    p.add_argument("--batch-size", type=int, default=1000, help="samples per batch")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="output format")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    """Print the metrics of the run's model on the chosen split."""
    from striate.layers.errors import ConfigError
    from striate.train.models import parse_options
    from striate.train.prepare import as_labelled, load_named
    from striate.train.run import load_run

    if args.batch_size < 1:
        raise ConfigError(f"must be at least 1, got {args.batch_size}").at("--batch-size")
    run = load_run(args.run)
    name = args.data or run.data_name
    same = name == run.data_name
    root = args.data_root or (run.info.get("data_root") if same else None)
    if args.data_option:
        options = parse_options(args.data_option, "--data-option", "resize=64x64")
    else:  # the run's own options only fit the run's own data
        options = (run.info.get("data_options") or {}) if same else {}
    data = as_labelled(load_named(name, args.split, root, options))
    metrics = run.evaluate(data, batch_size=args.batch_size)
    if args.format == "json":
        print(json.dumps({"run": str(args.run), "data": name, "split": args.split,
                          **metrics.to_dict()}, indent=2))
    else:
        print(f"{args.run}: {name} ({args.split} split)")
        print(metrics.table())
    return 0
