"""``striate predict RUN FILE...``: the top classes of images or arrays."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``predict`` sub-command."""
    p = subparsers.add_parser(
        "predict", help="top-k classes of images (PNG/JPEG) or .npy arrays",
        description="Predict with a trained run: each image is converted to the model's "
        "channels and size; .npy arrays hold one sample or a batch.")
    p.add_argument("run", metavar="RUN", help="run folder (the --out of striate train)")
    p.add_argument("files", metavar="FILE", nargs="+", help="images or .npy arrays")
    p.add_argument("--top-k", type=int, default=3, help="classes to show (default: 3)")
    p.add_argument("--invert", action="store_true",
                   help="invert images first (dark digits on white paper, for MNIST)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="output format")
    p.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    """Print the top-k classes with probabilities for every sample of every file."""
    from striate.layers.errors import ConfigError
    from striate.train.inputs import read_samples
    from striate.train.run import load_run

    if args.top_k < 1:
        raise ConfigError(f"must be at least 1, got {args.top_k}").at("--top-k")
    run = load_run(args.run)
    raw_shape = tuple(run.preprocess.raw_shape)
    batches = [(f, read_samples(f, raw_shape, invert=args.invert)) for f in args.files]
    k = min(args.top_k, len(run.classes))
    results = []
    for name, batch in batches:
        probs = run.predict(batch)
        top = probs.topk(k, dim=1)
        for i in range(batch.shape[0]):
            label = name if batch.shape[0] == 1 else f"{name}[{i}]"
            results.append({"file": label, "top": [
                {"class": run.classes[int(c)], "index": int(c), "probability": float(p)}
                for p, c in zip(top.values[i], top.indices[i], strict=True)]})
    if args.format == "json":
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        best = "  ".join(f"{t['class']} {100 * t['probability']:.1f}%" for t in r["top"])
        print(f"{r['file']}: {best}")
    return 0
