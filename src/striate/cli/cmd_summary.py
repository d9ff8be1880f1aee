"""``striate summary TARGET``: the per-layer table of a spec file, a model folder or a zoo
model.

A thin layer over :func:`striate.arith.summary.summary`. The model is built on the meta
device, so even VGG-16 costs no memory.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``summary`` to the ``striate`` command."""
    parser = subparsers.add_parser(
        "summary", help="per-layer shapes, parameters, MACs, memory and receptive fields",
        description="Summarise a network without running it on data: per layer the output "
        "shape, parameters, multiply-adds, activation memory and receptive field; totals "
        "for parameters, MACs and forward / forward+backward memory.",
        epilog="examples: striate summary vgg16 | striate summary net.yaml --input 1x28x28 "
        "--format json",
    )
    parser.add_argument("target", metavar="TARGET",
                        help="a spec file (.yaml/.json), a model folder written by "
                        "striate.save, or a zoo model name, e.g. vgg16")
    parser.add_argument("--input", metavar="CxHxW",
                        help="per-sample input shape, e.g. 3x224x224 (default: the spec's or "
                        "the zoo model's)")
    parser.add_argument("--depth", type=int, metavar="N",
                        help="fold modules nested deeper than N into their container's row")
    parser.add_argument("--format", choices=("table", "json", "csv", "md"), default="table",
                        help="output format (default: table)")
    parser.add_argument("--strict", action="store_true",
                        help="fail when a window drops trailing inputs (PyTorch rounds down)")
    parser.add_argument("--batch-size", type=int, default=1, metavar="N",
                        help="memory totals for N samples (default 1)")
    parser.set_defaults(func=_cmd_summary)


def _model(target: str, shape: tuple[int, ...] | None):
    """Build TARGET on the meta device; returns (model, default input shape)."""
    import torch

    from striate.layers.errors import ConfigError

    if os.path.isdir(target):
        from striate.spec.modelfile import load

        if not os.path.exists(os.path.join(target, "meta.json")):
            raise ConfigError(f"{target} is a folder but not a model folder (no meta.json); "
                              "give a model folder written by striate.save, a spec file or "
                              "a zoo name")

        model = load(target, device="meta")
        meta = getattr(model, "striate_meta", None) or {}
        shape = getattr(model, "default_input_shape", None) or meta.get("input_shape")
        if not shape:
            raise ConfigError(f"{target}: the model file records no input shape; give "
                              "--input, e.g. --input 3x224x224")
        return model, tuple(shape)
    if os.path.exists(target) or target.endswith((".yaml", ".yml", ".json")):
        from striate.spec.build import build
        from striate.spec.load import load_spec

        spec = load_spec(target)
        return build(spec, device="meta"), tuple(spec.input_shape)
    from striate import zoo

    with torch.device("meta"):
        model = zoo.create(target, input_shape=shape)
    return model, tuple(model.default_input_shape)


def _cmd_summary(args: argparse.Namespace) -> int:
    from striate.arith.format import to_csv, to_markdown, to_table
    from striate.arith.summary import summary
    from striate.arith.trace import parse_shape
    from striate.layers.errors import ConfigError, ShapeError, StriateError

    if args.depth is not None and args.depth < 0:
        raise ConfigError(f"--depth {args.depth}: must be 0 or more (0 shows only the totals)")
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size {args.batch_size}: must be a positive integer")
    shape = parse_shape(args.input, "--input") if args.input else None
    model, default = _model(args.target, shape)
    render = {"table": to_table, "csv": to_csv, "md": to_markdown,
              "json": lambda s: s.to_json() + "\n"}[args.format]
    try:
        result = summary(model, shape or default, depth=args.depth, strict=args.strict,
                         batch_size=args.batch_size)
    except StriateError as err:
        partial = getattr(err, "partial", None)
        if partial is not None and args.format == "table":
            partial.error = None  # main() prints the error line itself, on stderr
            sys.stdout.write(render(partial))
        if isinstance(err, ShapeError) and shape and tuple(shape) != tuple(default):
            # A spec or model file is sized for its own input; say which one.
            built = "x".join(map(str, default))
            raise ShapeError(f"{err} ({args.target} was built for --input {built})") from None
        raise
    sys.stdout.write(render(result))
    return 0
