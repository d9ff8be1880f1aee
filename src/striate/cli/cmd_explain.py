"""``striate explain conv``: the arithmetic of one convolution, step by step.

A thin layer over :func:`striate.reference.explain.explain_conv` (the text) and
:func:`striate.reference.animate.animate_conv` (the GIF).
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``explain`` and its ``conv`` topic to the ``striate`` command."""
    parser = subparsers.add_parser(
        "explain", help="show the arithmetic of a layer (output size, matrix, animation)",
        description="Show the arithmetic of a layer, step by step.",
    )
    topics = parser.add_subparsers(dest="topic", metavar="TOPIC")
    conv = topics.add_parser(
        "conv",
        help="output size, parameters, the matrix C and transposed convolution",
        description="Derive a convolution's output size per axis with the formula "
        "(W − K + 2P)/S + 1, count its parameters and multiply-adds, and for small inputs "
        "print its matrix C with shared weights and the transposed convolution Cᵀ.",
        epilog="example: striate explain conv --input 7x7 --kernel 3 --stride 2 --padding 1 "
        "--channels 3:10 --animate conv.gif",
    )
    conv.add_argument("--input", required=True, metavar="HxW",
                      help="input size, e.g. 7x7 or 7 (for --transposed: the small map)")
    conv.add_argument("--kernel", required=True, metavar="K", help="kernel size, e.g. 3 or 3x5")
    conv.add_argument("--stride", default="1", metavar="S", help="stride (default 1)")
    conv.add_argument("--padding", default="0", metavar="P", help="zero padding (default 0)")
    conv.add_argument("--dilation", default="1", metavar="D", help="dilation (default 1)")
    conv.add_argument("--transposed", action="store_true",
                      help="explain the transposed convolution with these options")
    conv.add_argument("--output-padding", default="0", metavar="OP",
                      help="extra outputs on the bottom/right of a transposed convolution")
    conv.add_argument("--channels", metavar="IN:OUT",
                      help="input and output channels, to count parameters, e.g. 3:10")
    conv.add_argument("--groups", type=int, default=1, help="channel groups (default 1)")
    conv.add_argument("--strict", action="store_true",
                      help="fail when the window does not fit the input exactly")
    conv.add_argument("--format", choices=("text", "json"), default="text",
                      help="text (default) or json")
    conv.add_argument("--animate", metavar="OUT.gif",
                      help="write a GIF of the window sliding over the input (a .png path "
                      "gets all frames on one sheet)")
    conv.add_argument("--frame-ms", type=int, default=600, help="GIF frame duration (ms)")
    conv.add_argument("--force", action="store_true", help="overwrite an existing file")
    conv.set_defaults(func=_cmd_explain_conv)
    parser.set_defaults(func=_cmd_explain_help(parser))


def _cmd_explain_help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _cmd_explain_conv(args: argparse.Namespace) -> int:
    from striate.layers.errors import ConfigError
    from striate.reference.explain import explain_conv, parse_channels

    if args.frame_ms < 1:
        raise ConfigError(f"--frame-ms must be a positive number of milliseconds. "
                          f"Received: {args.frame_ms}")
    options = {
        "stride": args.stride, "padding": args.padding, "dilation": args.dilation,
        "transposed": args.transposed, "output_padding": args.output_padding,
    }
    channels = parse_channels(args.channels) if args.channels else None
    explanation = explain_conv(args.input, args.kernel, channels=channels, groups=args.groups,
                               strict=args.strict, **options)
    written = None
    if args.animate:
        # Written before anything is printed, so that a refused file leaves one error line.
        from striate.reference.animate import animate_conv

        written = animate_conv(args.animate, args.input, args.kernel,
                               duration_ms=args.frame_ms, force=args.force, **options)
    if args.format == "json":
        data = explanation.to_dict()
        if written:
            data["animation"] = str(written)
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(explanation)
        if written:
            frames = explanation.output_size[0] * explanation.output_size[1]
            print(f"\nwrote {written} ({frames} frames, one per output value)")
    return 0
