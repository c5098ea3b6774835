"""The options every subcommand builds from: the parser, the value types and the shared option groups.

Importing this module imports no estimator (the criteria come from the light
:mod:`~napari_resolution.core.thresholds`), so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import re
import sys

from ..core.thresholds import CRITERIA, parse_threshold

__all__ = ["FILE_TYPES", "Parser", "add_cluster_options", "add_gpu", "add_half_maps", "add_outputs", "add_pixel_size",
           "add_threshold", "floats", "integers", "number", "numbers", "pixel_sizes", "positive_int", "threshold",
           "whole_number"]

#: The image files the subcommands read (``io.read_image``), for the help.
FILE_TYPES = ".mrc .map .rec .tif .npy .dm3 .dm4 .emd .ser .hspy .nd2 .czi .lif, or a .zarr folder"

#: A value that starts with "-" and that argparse would take for an option, e.g. "-10,-10,20,20".
_NEGATIVE_VALUE = re.compile(r"-\.?\d[\d.,eE+-]*")


class Parser(argparse.ArgumentParser):
    """Raises ValueError on bad input (``main`` prints it) and takes negative option values."""

    def error(self, message):
        """Raise ``message`` as ValueError instead of printing the usage and exiting."""
        raise ValueError(message)

    def parse_known_args(self, args=None, namespace=None):
        """Parse ``args`` (default ``sys.argv[1:]``) after :func:`_attach_negative_values`."""
        args = sys.argv[1:] if args is None else args
        return super().parse_known_args(_attach_negative_values(args), namespace)


def _attach_negative_values(argv) -> list[str]:
    """Join ``--option -1,2`` into ``--option=-1,2``, so argparse reads ``-1,2`` as the option's value.

    Parameters
    ----------
    argv : sequence of str
        Command-line arguments.

    Returns
    -------
    list of str
        ``argv`` with every number list starting with "-" attached to the long option before it.
    """
    joined = []
    for arg in argv:
        before = joined[-1] if joined else ""
        if _NEGATIVE_VALUE.fullmatch(arg) and before.startswith("--") and before != "--" and "=" not in before:
            joined[-1] = f"{before}={arg}"
        else:
            joined.append(arg)
    return joined


# ----------------------------------------------------------------------------- value types
def floats(text: str) -> tuple[float, ...]:
    """One or more comma-separated numbers."""
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or comma-separated numbers, got {text!r}") from None


def pixel_sizes(text: str) -> tuple[float, ...]:
    """``--pixel-size``: one or more finite, positive numbers."""
    values = floats(text)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"pixel sizes must be finite and positive, got {text!r}")
    return values


def integers(text: str) -> tuple[int, ...]:
    """Comma-separated integers (a shape, slice indices)."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def whole_number(minimum: int, maximum: float = math.inf):
    """The value type of an integer option in [``minimum``, ``maximum``]: checked as the arguments are parsed,
    so that ``batch`` refuses it once, before any input (the core checks the same bounds)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if not minimum <= value <= maximum:
            bound = f">= {minimum}" if maximum == math.inf else f"in [{minimum}, {maximum}]"
            raise argparse.ArgumentTypeError(f"expected a whole number {bound}, got {text!r}")
        return value

    return parse


def number(low: float = -math.inf, high: float = math.inf, *, exclusive: bool = False):
    """The value type of a number option in [``low``, ``high``] (``exclusive``: in (``low``, ``high``)), finite;
    checked as the arguments are parsed, like :func:`whole_number`."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        inside = low < value < high if exclusive else low <= value <= high
        if not (math.isfinite(value) and inside):
            if high == math.inf:
                bound = f"{'>' if exclusive else '>='} {low:g}"
            else:
                bound = f"in ({low:g}, {high:g})" if exclusive else f"in [{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"expected a finite number {bound}, got {text!r}")
        return value

    return parse


def numbers(count, form: str):
    """The value type of an option of ``count`` (an int, or a tuple of the allowed ints) comma-separated finite
    numbers, e.g. ``form`` "ROW,COL"."""
    counts = (count,) if isinstance(count, int) else tuple(count)

    def parse(text: str) -> tuple[float, ...]:
        values = floats(text)
        if len(values) not in counts or not all(math.isfinite(v) for v in values):
            expected = " or ".join(str(n) for n in counts)
            raise argparse.ArgumentTypeError(f"expected {expected} numbers {form}, got {text!r}")
        return values

    return parse


#: ``--workers``: an integer >= 1.
positive_int = whole_number(1)


def threshold(text: str):
    """A criterion name, or a number for a fixed threshold ("0.143" and "0.5" keep their names); checked as it is
    parsed by the core's :func:`~..core.thresholds.parse_threshold`."""
    if text in CRITERIA:
        return text
    try:
        value = float(text)
    except ValueError:
        value = text  # an alias of a criterion, e.g. "1/7"
    try:
        parse_threshold(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("threshold ")) from None
    return value


# ----------------------------------------------------------------------------- option groups
def add_pixel_size(parser, axes: str, *, per: str = "") -> None:
    """Add ``--pixel-size`` and ``--unit`` (read by :func:`.jobs.pixel_size_and_unit`), and ``--unsigned`` (how
    the inputs are read: :func:`.jobs.load`).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    axes : str
        The per-axis form for its data, e.g. "Z,Y,X" or "Y,X".
    per : str
        For a subcommand on several inputs that may each have their own pixel
        size, what one input is (e.g. "movie"): ``--pixel-size`` is then given
        once for every input or once per input, and holds a list.
    """
    if per:
        parser.add_argument("--pixel-size", type=pixel_sizes, action="append",
                            help=f"P or {axes}: once for every {per} or once per {per} in order (default: file "
                                 "header, else 1)")
    else:
        parser.add_argument("--pixel-size", type=pixel_sizes,
                            help=f"P or {axes} (default: file header, else RELION's run_model.star beside it, else 1)")
        parser.add_argument("--pixel-size-from", metavar="STAR",
                            help="take the pixel size (Å) from a RELION STAR file: _rlnPixelSize of run_model.star "
                                 "or _rlnImagePixelSize of run_data.star")
    parser.add_argument("--unit", help="unit of the pixel size, e.g. Å, nm, µm (default: the file's, with its size)")
    parser.add_argument("--unsigned", action="store_true",
                        help="read int16 data as the unsigned counts it holds (cameras that store uint16 in int16; a "
                             "warning says when the data look like that)")


def add_half_maps(parser, noun: str, *, metavar=("H1", "H2")) -> None:
    """The two positional inputs of a pair command, ``half1`` and ``half2``; the second may be left out when the first
    is named like a half of a pair (RELION's ``run_half1_class001_unfil.mrc``: :func:`.jobs.complete_pair` finds
    ``run_half2_class001_unfil.mrc`` beside it)."""
    parser.add_argument("half1", metavar=metavar[0], help=f"first {noun} ({FILE_TYPES})")
    parser.add_argument("half2", metavar=metavar[1], nargs="?",
                        help=f"second {noun} (default: the file beside {metavar[0]} named with half2 for half1, as "
                             "RELION's run_half2_class001_unfil.mrc, or half_B for half_A)")
    parser.set_defaults(find_half2=True)


def add_threshold(parser, *, default: str = "half-bit", note: str = "") -> None:
    """Add ``--threshold``: a resolution criterion or a fixed number.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    default : str
        The criterion used without the option.
    note : str
        Appended to the help, e.g. what the criterion is of.
    """
    parser.add_argument("--threshold", type=threshold, default=default,
                        help=f"{', '.join(CRITERIA)} or a number (default {default}){note}")


def add_gpu(parser) -> None:
    """Add ``--gpu`` (read by :func:`.jobs.device`) to an estimator that can compute on the GPU."""
    parser.add_argument("--gpu", action="store_true", help="compute on the GPU with cupy")


def add_outputs(parser, *, plot: str, table: str) -> None:
    """Add ``--json``, ``--csv`` and ``--plot`` (written by :func:`.jobs.report`).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    plot : str
        What the PNG shows, e.g. "the curve".
    table : str
        What the CSV holds (the result's ``columns()``), e.g. "the curves".
    """
    parser.add_argument("--json", help="write the result as JSON (- for stdout)")
    parser.add_argument("--csv", help=f"write {table} as CSV")
    parser.add_argument("--plot", help=f"write {plot} as PNG")


def add_cluster_options(parser, workers_help: str, when: str = "") -> None:
    """Add ``--workers`` / ``--scheduler`` (where dask runs the work, see :func:`.cluster.cluster_client`) and
    ``--progress``; ``when`` qualifies when DASK_SCHEDULER_ADDRESS is read."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, help=workers_help)
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the dask cluster at ADDRESS, e.g. tcp://10.0.0.5:8786 (default: the "
                            f"DASK_SCHEDULER_ADDRESS environment variable{when})")
    parser.add_argument("--progress", action="store_true", help="progress on stderr even when it is not a terminal")
