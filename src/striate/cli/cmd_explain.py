"""``striate explain conv|pool``: the arithmetic of one convolution or pooling, step by step.

A thin layer over :func:`striate.reference.explain.explain_conv`,
:func:`striate.reference.explain_pool.explain_pool` (the text) and
:func:`striate.reference.animate.animate_conv` (the GIF or PNG sheet).
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

    pool = topics.add_parser(
        "pool",
        help="output size of a max/average pooling, rounded down (PyTorch) and up (Caffe)",
        description="Derive a pooling layer's output size per axis with (W − K + 2P)/S + 1, "
        "rounded down as PyTorch does or up as Caffe (and ceil_mode=True) does, and say what "
        "its forward and backward passes compute.",
        epilog="example: striate explain pool --input 112 --kernel 3 --stride 2 --ceil-mode",
    )
    pool.add_argument("--input", required=True, metavar="HxW", help="input size, e.g. 7x7")
    pool.add_argument("--kernel", required=True, metavar="K", help="window size, e.g. 2 or 3")
    pool.add_argument("--stride", default=None, metavar="S",
                      help="stride (default: the kernel size)")
    pool.add_argument("--padding", default="0", metavar="P", help="padding (default 0)")
    pool.add_argument("--dilation", default="1", metavar="D", help="dilation (max only)")
    pool.add_argument("--kind", choices=("max", "avg"), default="max",
                      help="max (default) or avg")
    pool.add_argument("--ceil-mode", action="store_true",
                      help="round the output size up, as Caffe does")
    pool.add_argument("--channels", type=int, help="channels, to count activations")
    pool.add_argument("--strict", action="store_true",
                      help="fail when the window does not fit the input exactly")
    pool.add_argument("--format", choices=("text", "json"), default="text",
                      help="text (default) or json")
    pool.add_argument("--animate", metavar="OUT.gif",
                      help="write a GIF of the window sliding over the input (.png: a sheet)")
    pool.add_argument("--frame-ms", type=int, default=600, help="GIF frame duration (ms)")
    pool.add_argument("--force", action="store_true", help="overwrite an existing file")
    pool.set_defaults(func=_cmd_explain_pool)
    parser.set_defaults(func=_cmd_explain_help(parser))


def _cmd_explain_help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _check_frame_ms(args: argparse.Namespace) -> None:
    from striate.layers.errors import ConfigError

    if args.frame_ms < 1:
        raise ConfigError(f"--frame-ms must be a positive number of milliseconds. "
                          f"Received: {args.frame_ms}")


def _show(args: argparse.Namespace, explanation, written, frames: int) -> None:
    if args.format == "json":
        data = explanation.to_dict()
        if written:
            data["animation"] = str(written)
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(explanation)
        if written:
            print(f"\nwrote {written} ({frames} frames, one per output value)")


def _cmd_explain_pool(args: argparse.Namespace) -> int:
    from striate.reference.explain_pool import explain_pool

    _check_frame_ms(args)
    explanation = explain_pool(args.input, args.kernel, args.stride, args.padding,
                               args.dilation, kind=args.kind, ceil_mode=args.ceil_mode,
                               channels=args.channels, strict=args.strict)
    written = None
    if args.animate:
        from striate.reference.animate import animate_conv

        written = animate_conv(args.animate, explanation.input_size, explanation.kernel_size,
                               explanation.stride, explanation.padding, explanation.dilation,
                               ceil_mode=args.ceil_mode, duration_ms=args.frame_ms,
                               force=args.force)
    _show(args, explanation, written, explanation.output_size[0] * explanation.output_size[1])
    return 0


def _cmd_explain_conv(args: argparse.Namespace) -> int:
    from striate.reference.explain import explain_conv, parse_channels

    _check_frame_ms(args)
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
    _show(args, explanation, written, explanation.output_size[0] * explanation.output_size[1])
    return 0
