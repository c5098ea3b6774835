"""The entry point of ``napari-resolution``: the parser of every subcommand, and how a run ends.

Bad input prints one line on stderr and exits with code 2, Ctrl-C one line
and code 130; the estimators' warnings are printed once each as
``warning: ...`` and the package's INFO log lines as ``note: ...``, all on
stderr (docs/reliability.md lists what each bad input gets).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings

from .. import __version__
from ..core.validation import renamed
from . import (
    batch,
    blink,
    correlation,
    decorrelation,
    demo,
    directional,
    local_fsc,
    local_res,
    localization,
    mask,
    mtf,
    simulate,
    tomography,
    view,
)
from .jobs import user_names
from .options import Parser

__all__ = ["build_parser", "main"]

#: The modules registering the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS = (correlation, directional, simulate, mask, decorrelation, local_fsc, local_res, mtf, blink, tomography,
               localization, batch, demo, view)


def build_parser() -> argparse.ArgumentParser:
    """The ``napari-resolution`` parser with every subcommand (imports no estimator)."""
    parser = Parser(prog="napari-resolution", description="Measure the resolution of images and maps.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser,
                                     help="the estimator or tool to run")
    for module in SUBCOMMANDS:
        module.register(commands)
    return parser


def main(argv=None) -> int:
    """Entry point of ``napari-resolution``; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input or too little memory (one line on stderr), 1 when stdout is
        closed early (``... --json - | head``; nothing printed), 130 on Ctrl-C
        (``napari-resolution: interrupted`` on stderr, no traceback, no file
        half written); a subcommand may return others (``batch``: 1 when an
        input failed).
    """
    args = None
    try:
        args = build_parser().parse_args(argv)
        with warnings.catch_warnings(record=True) as caught, _notes_on_stderr():
            warnings.simplefilter("always", RuntimeWarning)  # the estimators' doubts: printed, whatever the filters
            code = args.handler(args)
        _print_warnings(caught)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the writers have removed their temporary files on the way out
        print("napari-resolution: interrupted", file=sys.stderr)
        return 130
    except MemoryError as err:  # the core refuses what would not fit before allocating; this is the last net
        print(f"napari-resolution: error: not enough memory ({err or 'MemoryError'})", file=sys.stderr)
        return 2
    except (ValueError, OSError) as err:
        names = user_names(vars(args)) if args is not None else {}
        print(f"napari-resolution: error: {renamed(str(err), names)}", file=sys.stderr)
        return 2


def _print_warnings(caught) -> None:
    """Print each distinct warning text once, as ``warning: <text>`` on stderr."""
    for text in dict.fromkeys(str(w.message) for w in caught):
        print(f"warning: {text}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit cannot fail on a closed pipe."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@contextlib.contextmanager
def _notes_on_stderr():
    """Print the package's INFO log lines (e.g. "compiling ...") as ``note:`` lines on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    package_logger = logging.getLogger("napari_resolution")
    level = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(level)
