"""``striate check SPEC``: validate a network spec (or a model folder) and say what it builds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` sub-command."""
    parser = subparsers.add_parser(
        "check", help="validate a YAML/JSON network spec or a model folder",
        description="Check a network spec: every mistake is listed with its file:line:col; "
        "a valid spec prints one OK line with its parameter count and output shape.")
    parser.add_argument("spec", help="a .yaml/.json spec, or a model folder written by "
                        "striate.save")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or json")
    parser.set_defaults(func=run)


def _shape(shape: tuple) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_shape(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def run(args: argparse.Namespace) -> int:
    """Check the spec; exit status 0 when valid, 2 with every problem listed otherwise."""
    from striate.layers.errors import StriateError

    try:
        return _check(args)
    except (StriateError, FileNotFoundError) as err:
        if args.format != "json":
            raise  # the CLI prints it as one `striate: error:` line
        message = (f"{err.filename}: {err.strerror}" if isinstance(err, FileNotFoundError)
                   else str(err))
        print(json.dumps({"ok": False, "problems": [
            {"file": args.spec, "line": None, "column": None, "message": message}]}, indent=2))
        return 2


def _check(args: argparse.Namespace) -> int:
    from striate.spec.errors import SpecError
    from striate.spec.load import load_spec
    from striate.spec.modelfile import load

    folder = Path(args.spec) if Path(args.spec).is_dir() else None
    path = Path(args.spec)
    if folder is not None:
        if not (folder / "spec.yaml").exists():
            # a zoo model folder, or not a model folder at all (load says which)
            model = load(folder, device="meta")
            params = sum(p.numel() for p in model.parameters())
            if args.format == "json":
                zoo = getattr(model, "zoo_config", None) or {}
                print(json.dumps({"ok": True, "file": str(folder), "zoo": zoo.get("name"),
                                  "options": zoo.get("options"), "params": params}, indent=2))
            else:
                print(f"OK {folder}: zoo model, {params:,} parameters")
            return 0
        path = folder / "spec.yaml"
    try:
        spec = load_spec(path)
    except SpecError as err:
        if args.format == "json":
            print(json.dumps({"ok": False, "problems": [
                {"file": p.source, "line": p.line, "column": p.column, "message": p.message}
                for p in err.problems]}, indent=2))
        else:
            for problem in err.problems:
                print(f"striate: error: {problem}", file=sys.stderr)
            n = len(err.problems)
            print(f"striate: {n} problem{'s' if n != 1 else ''} in {path}", file=sys.stderr)
        return 2
    if folder is not None:
        load(folder, device="meta")  # meta.json and the weights' names and shapes
    if args.format == "json":
        out = spec.output_shape
        print(json.dumps({"ok": True, "file": str(path), "name": spec.name,
                          "params": spec.params, "input_shape": list(spec.input_shape),
                          "output_shape": [list(s) for s in out] if out and isinstance(
                              out[0], tuple) else list(out),
                          "layers": len(spec.plan.nodes) if spec.plan else 0}, indent=2))
    else:
        print(f"OK {path}: {spec.params:,} parameters, input {_shape(spec.input_shape)} -> "
              f"output {_shape(spec.output_shape)}")
    return 0
