"""``striate zoo list`` and ``striate zoo show NAME``: the model zoo from the command line.

Parameters and multiply-adds are computed, not copied: every model is built on the meta
device (no memory) at its default input and counted with the layers' formulas.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

COLUMNS = ("name", "family", "year", "params", "macs", "input", "description")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``zoo`` (with ``list`` and ``show``) to the ``striate`` command."""
    parser = subparsers.add_parser(
        "zoo", help="list the classic architectures or show one",
        description="The model zoo: TDNN, LeNet-5, AlexNet, VGG, GoogLeNet, ResNet, MobileNet, "
        "DenseNet, SqueezeNet, FCN, SegNet, dilated nets, WaveNet, DeepBind, DeepSEA and the "
        "small nets of the notes, with their papers' parameter counts.",
        epilog="examples: striate zoo list | striate zoo list --family ResNet --format md | "
        "striate zoo show resnet50 --option stride_on=1x1 | striate zoo show vgg16 --input "
        "3x32x32 --classes 10",
    )
    verbs = parser.add_subparsers(dest="zoo_command", metavar="{list,show}")
    listing = verbs.add_parser("list", help="every model: family, year, parameters, MACs")
    listing.add_argument("--family", help="only this family, e.g. ResNet")
    listing.add_argument("--format", choices=("table", "json", "csv", "md"), default="table",
                         help="output format (default: table)")
    listing.set_defaults(func=_cmd_list)
    show = verbs.add_parser("show", help="one model: paper, options, spec and summary")
    show.add_argument("name", metavar="NAME", help="a zoo name, e.g. resnet50")
    show.add_argument("--input", metavar="CxHxW", help="per-sample input shape (default: the "
                      "paper's)")
    show.add_argument("--classes", type=int, metavar="N", help="number of outputs")
    show.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                      help="architecture option, e.g. --option alpha=0.5 (repeatable)")
    show.add_argument("--depth", type=int, default=2, metavar="N",
                      help="summary rows down to this nesting depth (default 2)")
    show.add_argument("--format", choices=("table", "json", "md"), default="table",
                      help="output format (default: table)")
    show.set_defaults(func=_cmd_show)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["alpha=0.5", "aux=true"]`` → ``{"alpha": 0.5, "aux": True}`` (YAML scalars).

    Raises:
        ConfigError: an item without ``=``.
    """
    import yaml

    from striate.layers.errors import ConfigError

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option {item!r}: expected KEY=VALUE, e.g. --option alpha=0.5")
        try:
            options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            options[key.strip()] = value
    return options


def rows(family: str | None = None) -> list[dict[str, Any]]:
    """One dict per zoo model: name, family, year, params, macs (computed), input, description.

    Raises:
        ConfigError: ``family`` matches no model (with the families there are).
    """
    import torch

    from striate import zoo
    from striate.layers.errors import ConfigError
    from striate.zoo._probe import count

    names = zoo.names(family)
    if not names:
        families = sorted({zoo.info(n).family for n in zoo.names()})
        raise ConfigError(f"--family {family!r}: no such family; families: "
                          f"{', '.join(families)}")
    out = []
    for name in names:
        info = zoo.info(name)
        with torch.device("meta"):
            model = zoo.create(name)
        params, macs = count(model, info.input_shape)
        out.append({"name": name, "family": info.family, "year": info.year, "params": params,
                    "macs": macs, "input": "x".join(map(str, info.input_shape)),
                    "description": info.description})
    return out


def _render(table: list[dict[str, Any]], fmt: str) -> str:
    from striate.arith.format import giga

    if fmt == "json":
        return json.dumps(table, indent=2) + "\n"
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        return buf.getvalue()
    cells = [[str(r["name"]), r["family"], str(r["year"]), f"{r['params']:,}",
              giga(r["macs"]), r["input"], r["description"]] for r in table]
    head = ["name", "family", "year", "params", "MACs", "input", "description"]
    if fmt == "md":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    widths = [max(len(x) for x in col) for col in zip(head, *cells, strict=True)]
    right = {3, 4}

    def line(row: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, cells)]) + "\n"


def _cmd_list(args: argparse.Namespace) -> int:
    sys.stdout.write(_render(rows(args.family), args.format))
    return 0


def spec_text(name: str, model: Any, input_shape: tuple[int, ...]) -> tuple[str, str]:
    """The model as text: ``("yaml", …)`` from ``zoo/specs/NAME.yaml`` or ``to_spec``, else
    ``("json", …)`` — the ``architecture.json`` a model file stores for zoo models."""
    from striate.zoo.specs import spec_path

    path = spec_path(name)
    if path is not None and not _non_default(model):
        return "yaml", path.read_text(encoding="utf-8")
    try:
        from striate.spec.dump import to_spec

        return "yaml", to_spec(model, input_shape).to_yaml()
    except Exception:  # a Python-only zoo model: the spec format cannot say it
        options = json.dumps(model.zoo_config["options"])
        return "json", f'{{\n  "zoo": "{model.zoo_config["name"]}",\n  "options": {options}\n}}\n'


def _non_default(model: Any) -> bool:
    from striate import zoo

    info = zoo.info(model.zoo_config["name"])
    opts = model.zoo_config["options"]
    defaults = {**info.options, "num_classes": info.num_classes,
                "input_shape": list(info.input_shape)}
    return any(opts.get(k) != v for k, v in defaults.items())


def _cmd_show(args: argparse.Namespace) -> int:
    import torch

    from striate import zoo
    from striate.arith.format import giga
    from striate.arith.summary import summary
    from striate.layers.errors import ConfigError
    from striate.zoo._probe import count

    if args.depth < 0:
        raise ConfigError(f"--depth {args.depth}: must be 0 or more")
    info = zoo.info(args.name)
    shape = None
    if args.input:
        from striate.arith.trace import parse_shape

        shape = parse_shape(args.input, "--input")
    options = parse_options(args.option)
    with torch.device("meta"):
        model = zoo.create(args.name, num_classes=args.classes, input_shape=shape, **options)
    shape = tuple(model.default_input_shape)
    params, macs = count(model, shape)
    kind, text = spec_text(args.name, model, shape)
    model.eval()  # inference: GoogLeNet's auxiliary heads only run in training mode
    result = summary(model, shape, depth=args.depth)
    if args.format == "json":
        out = {"name": info.name, "family": info.family, "year": info.year,
               "paper": info.paper, "published_params": info.params, "params": params,
               "macs": macs, "input_shape": list(shape), "task": info.task,
               "options": model.zoo_config["options"], "spec_format": kind, "spec": text,
               "summary": json.loads(result.to_json())}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return 0
    published = ""
    if info.params is not None:
        where = (" at its default input and classes" if _non_default(model) else
                 ", matches" if info.params == params else ", DIFFERS")
        published = f" (published: {info.params:,}{where})"
    opts = ", ".join(f"{k}={v!r}" for k, v in model.zoo_config["options"].items())
    head = [f"{info.name} — {info.description}", f"paper:   {info.paper}",
            f"family:  {info.family} ({info.year}), task: {info.task}",
            f"input:   {'x'.join(map(str, shape))}", f"options: {opts}",
            f"params:  {params:,}{published}", f"MACs:    {macs:,} ({giga(macs)})"]
    if args.format == "md":
        from striate.arith.format import to_markdown

        body = to_markdown(result)
        lang = "yaml" if kind == "yaml" else "json"
        sys.stdout.write("\n".join(f"- {h}" for h in head) + f"\n\n```{lang}\n{text}```\n\n"
                         + body)
        return 0
    from striate.arith.format import to_table

    rule = "─" * 72
    sys.stdout.write("\n".join(head) + f"\n\n{'spec' if kind == 'yaml' else 'architecture'} "
                     f"({kind}):\n{rule}\n{text}{rule}\n\n" + to_table(result))
    return 0
