"""The ``striate`` command: a thin layer over the Python API.

Each verb lives in its own module ``striate/cli/cmd_<verb>.py`` exposing
``register(subparsers)``, which adds its parser and sets ``func`` to a function
``(args) -> int``. Modules are found at start-up, so adding a verb touches no other file.
Heavy imports (torch, matplotlib) happen inside the command functions.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback

from striate.layers.errors import StriateError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every ``cmd_*`` module's sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="striate",
        description="Convolutional neural networks on PyTorch: define, inspect, train, "
        "look inside, deploy.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--version", action="version", version=f"striate {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def _version() -> str:
    from striate import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a user's mistake)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (StriateError, FileNotFoundError, FileExistsError, IsADirectoryError,
            NotADirectoryError, PermissionError) as err:
        if args.debug:
            traceback.print_exc()
        print(f"striate: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("striate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: not an error of ours or the user's.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or err}"
    return " ".join(str(err).split("\n"))


if __name__ == "__main__":
    sys.exit(main())
