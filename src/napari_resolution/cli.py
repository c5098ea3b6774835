"""Command line: ``napari-resolution <estimator> ...``.

Bad input prints one line on stderr and exits with code 2. An estimator's
subcommand is its options, built from the shared helpers (:func:`_add_pixel_size`,
:func:`_add_gpu`, :func:`_add_outputs`), and a job, ``_run_<estimator>(args)``,
that reads the input, calls the core with :func:`_pixel_size_and_unit` and
:func:`_device`, and ends with :func:`_report` (the output files and the summary
it returns). :func:`run_job` runs a job: for the subcommand itself (:func:`_run`
prints the summary line and the warnings) and for every input of ``batch``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from . import __version__, io
from .core.backend import gpu_available
from .core.blink import blink_psf
from .core.correlation import fourier_correlation
from .core.decorrelation import decorrelation
from .core.local import LocalResolutionResult, local_fsc
from .core.masks import make_mask, mask_from_half_maps
from .core.mtf import mtf_edge, mtf_point
from .core.randomization import phase_randomized_fsc
from .core.results import resolution_summary
from .core.simulate import phantom_pair
from .core.single_map import local_resolution
from .core.thresholds import resolution_from_crossing
from .core.tomography import FILTERS as TOMOGRAPHY_FILTERS
from .core.tomography import parse_angles, reconstruction_pixel_size, tomography_frc
from .core.validation import renamed
from .gui import launch

__all__ = ["main", "run_job"]

#: A value that starts with "-" and that argparse would take for an option, e.g. "-10,-10,20,20".
_NEGATIVE_VALUE = re.compile(r"-\.?\d[\d.,eE+-]*")


class _Parser(argparse.ArgumentParser):
    """Raises ValueError on bad input (:func:`main` prints it) and takes negative option values."""

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


def _floats(text: str) -> tuple[float, ...]:
    """One or more comma-separated numbers."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or comma-separated numbers, got {text!r}") from None
    return values


def _pixel_sizes(text: str) -> tuple[float, ...]:
    """``--pixel-size``: one or more finite, positive numbers."""
    values = _floats(text)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"pixel sizes must be finite and positive, got {text!r}")
    return values


def _shape(text: str) -> tuple[int, ...]:
    """Comma-separated integers."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _threshold(text: str):
    """A criterion name, or a number for a fixed threshold ("0.143" and "0.5" keep their names)."""
    if text in ("0.143", "0.5"):
        return text
    try:
        return float(text)
    except ValueError:
        return text


# ----------------------------------------------------------------------------- shared options
def _add_pixel_size(parser, axes: str) -> None:
    """Add ``--pixel-size`` (read by :func:`_pixel_size_and_unit`).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    axes : str
        The per-axis form for its data, e.g. "Z,Y,X" or "Y,X".
    """
    parser.add_argument("--pixel-size", type=_pixel_sizes, help=f"P or {axes} (default: file header, else 1)")
    parser.add_argument("--unit", help="unit of the pixel size, e.g. Å, nm, µm (default: the file's, with its size)")


def _add_gpu(parser) -> None:
    """Add ``--gpu`` (read by :func:`_device`) to an estimator that can compute on the GPU."""
    parser.add_argument("--gpu", action="store_true", help="compute on the GPU with cupy")


def _add_outputs(parser, plot: str, csv: str | None = None) -> None:
    """Add ``--json``, ``--plot`` and, where the estimator has curves, ``--csv`` (written by :func:`_report`).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    plot : str
        What the PNG shows, e.g. "the curve".
    csv : str, optional
        What the CSV holds, e.g. "the curves"; None: no ``--csv``.
    """
    parser.add_argument("--json", help="write the result as JSON (- for stdout)")
    if csv is None:
        parser.set_defaults(csv=None)
    else:
        parser.add_argument("--csv", help=f"write {csv} as CSV")
    parser.add_argument("--plot", help=f"write {plot} as PNG")


def _pixel_size_and_unit(args, image: io.LoadedImage):
    """The pixel size to measure with and its unit: ``--pixel-size``, else the file header, else 1.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with ``pixel_size`` (None when not given).
    image : io.LoadedImage
        The (first) input image, with its header pixel size.

    Returns
    -------
    pixel_size : float or tuple of float
        One value, or one per axis.
    unit : str
        ``--unit``, else the header's unit when the pixel size came from the header, else "".
    """
    if args.pixel_size is not None:
        pixel_size, unit = _pixel_size(args.pixel_size), ""
    elif image.pixel_size:
        pixel_size, unit = image.pixel_size, image.unit
    else:
        pixel_size, unit = 1.0, ""
    return pixel_size, unit if args.unit is None else args.unit


def _pixel_size(values):
    """One value as a float, several as a tuple."""
    return values[0] if len(values) == 1 else values


def _device(args):
    """The core's ``device``: "gpu" with ``--gpu``, else None (where the data lives).

    Raises
    ------
    ValueError
        ``--gpu`` without cupy and a CUDA GPU.
    """
    if not args.gpu:
        return None
    if not gpu_available():
        raise ValueError("--gpu needs cupy and a CUDA GPU (pip install 'napari-resolution[gpu]')")
    return "gpu"


# ----------------------------------------------------------------------------- parser
def _add_pair_command(commands, name: str, help_text: str, *, noun: str, axes: str, ndim, job):
    """A subcommand on two images with the Fourier correlation options; returns its parser.

    Parameters
    ----------
    commands : argparse subparsers
        Where to add it.
    name, help_text : str
        Subcommand name and description.
    noun : str
        What one input is, e.g. "half-map".
    axes : str
        Per-axis form of ``--pixel-size``.
    ndim : int or None
        Required rank of both inputs (None: the estimator checks it).
    job : callable
        The subcommand's job (see :func:`run_job`).
    """
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("a", help=f"first {noun} (.mrc .map .rec .tif .npy)")
    parser.add_argument("b", help=f"second {noun}")
    parser.add_argument("--mask", help="real-space mask with values in [0, 1] (replaces the taper)")
    _add_pair_options(parser, axes)
    parser.set_defaults(handler=_run, job=job, ndim=ndim)
    return parser


def _add_pair_options(parser, axes: str) -> None:
    """The Fourier correlation options of a pair of images (``fsc``, ``frc``, ``ssnr`` and their batches)."""
    _add_pixel_size(parser, axes)
    parser.add_argument("--threshold", type=_threshold, default="half-bit",
                        help="half-bit, one-bit, 0.143, 0.5, 3-sigma or a number (default half-bit)")
    parser.add_argument("--ring-thickness", type=int, default=1, help="shell width in Fourier steps")
    parser.add_argument("--apodization", type=int,
                        help="edge taper width in pixels (0: none; default 20, at most a quarter of the smallest axis)")
    parser.add_argument("--taper", default="auto", choices=("auto", "all"),
                        help="auto: taper only the axes whose edges do not wrap (default); all: every axis")
    parser.add_argument("--crossing-rule", default="first-below", choices=("first-below", "last-above"),
                        help="first-below: first shell under the threshold, interpolated (default); "
                             "last-above: last shell above it (toupy)")
    _add_gpu(parser)


def _add_correlation_command(commands, name: str, help_text: str, *, noun: str, axes: str, ndim: int) -> None:
    """``fsc`` / ``frc``: the Fourier correlation of two images, optionally phase-randomisation corrected."""
    parser = _add_pair_command(commands, name, help_text, noun=noun, axes=axes, ndim=ndim, job=_run_correlation)
    _add_randomize_options(parser, name.upper())
    _add_outputs(parser, plot="the curve", csv="the curves")


def _add_randomize_options(parser, curve: str) -> None:
    """``--randomize`` and its options, for the ``curve`` ("FSC" or "FRC") of ``fsc`` / ``frc`` and their batches."""
    parser.add_argument("--randomize", action="store_true",
                        help=f"correct the masked {curve} by phase randomisation (needs --mask)")
    parser.add_argument("--randomize-at", type=float, default=0.8,
                        help=f"{curve} level in (0, 1) (default 0.8) or a resolution >= 1 to randomise beyond")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random phases")


def _add_simulate_command(commands) -> None:
    """``simulate fsc|frc``: a half-map pair with its expected curve."""
    simulate = commands.add_parser("simulate", help="write simulated data with a known answer")
    kinds = simulate.add_subparsers(dest="kind", required=True, parser_class=_Parser, help="what to simulate")
    for kind, default_shape, axes in (("fsc", "128,128,128", "Z,Y,X"), ("frc", "512,512", "Y,X")):
        sub = kinds.add_parser(kind, help=f"a half-map pair for {kind} with its expected curve")
        sub.add_argument("--shape", type=_shape, default=_shape(default_shape),
                         help=f"{axes} size in pixels (default {default_shape})")
        sub.add_argument("--sigma", type=float, default=2.0, help="signal Gaussian width (pixel_size units)")
        sub.add_argument("--noise", type=float, default=0.5, help="noise std (signal std is 1)")
        sub.add_argument("--pixel-size", type=_pixel_sizes, default=(1.0,),
                         help=f"P or {axes}, written to the MRC headers (default 1)")
        sub.add_argument("--threshold", type=_threshold, default="half-bit",
                         help="criterion of the expected resolution (default half-bit)")
        sub.add_argument("--seed", type=int, default=0, help="seed of the noise")
        sub.add_argument("--out", required=True, help="output folder")
        sub.set_defaults(handler=_run_simulate, ndim=3 if kind == "fsc" else 2)


def _add_mask_command(commands) -> None:
    """``mask``: a soft solvent mask from one map or two half-maps."""
    mask = commands.add_parser("mask", help="soft solvent mask from a map or two half-maps")
    mask.add_argument("maps", nargs="+", metavar="MAP", help="one map, or two half-maps to average")
    mask.add_argument("--out", required=True, help="output mask: .mrc (also .map .rec), .tif or .npy")
    mask.add_argument("--threshold", default="auto", help="'auto' (Otsu) or a density value")
    mask.add_argument("--lowpass-sigma", type=float, help="Gaussian low-pass width (pixel_size units)")
    mask.add_argument("--extend", type=float, help="extension of the binary region (pixel_size units)")
    mask.add_argument("--soft-edge", type=float, default=3.0, help="raised-cosine edge width (pixel_size units)")
    mask.add_argument("--no-cleanup", action="store_true", help="keep holes and every connected component")
    _add_pixel_size(mask, "Z,Y,X")
    mask.set_defaults(handler=_run_mask)


def _add_decorrelation_command(commands) -> None:
    """``decorr``: decorrelation analysis of one image (or each slice of a stack)."""
    decorr = commands.add_parser("decorr", help="resolution of one image by decorrelation analysis")
    decorr.add_argument("image", help="2-D image, or a 3-D volume / time stack analysed slice by slice")
    _add_decorrelation_options(decorr)
    _add_outputs(decorr, plot="the curves (or resolution per slice)")
    decorr.set_defaults(handler=_run, job=_run_decorrelation)


def _add_decorrelation_options(decorr) -> None:
    """The options of ``decorr`` and ``batch decorr``."""
    _add_pixel_size(decorr, "per axis (Y,X or Z,Y,X)")
    decorr.add_argument("--axis", type=int, default=0, help="3-D input: axis to slice along (default 0)")
    decorr.add_argument("--slices", type=_shape, help="3-D input: comma-separated slice indices (default all)")
    decorr.add_argument("--n-radii", type=int, default=50,
                        help="disc radii sampled from 0 to Nyquist (at least 10; default 50)")
    decorr.add_argument("--n-highpass", type=int, default=10,
                        help="Gaussian high-pass filters per pass (default 10)")
    decorr.add_argument("--apodization", type=int, default=20,
                        help="edge taper width in pixels (default 20; 0: none)")
    _add_gpu(decorr)


def _add_mtf_command(commands) -> None:
    """``mtf``: MTF from a slanted edge or a bead."""
    mtf = commands.add_parser("mtf", help="MTF from a slanted edge (--roi) or a bead (--point)")
    mtf.add_argument("image", help="2-D image")
    _add_mtf_options(mtf)
    _add_outputs(mtf, plot="the MTF (and ESF/LSF or PSF)")
    mtf.set_defaults(handler=_run, job=_run_mtf)


def _add_mtf_options(mtf) -> None:
    """The options of ``mtf`` and ``batch mtf``: where the edge or bead is, and how to measure it."""
    where = mtf.add_mutually_exclusive_group(required=True)
    where.add_argument("--roi", type=_floats, help="ROI across one edge: ROW0,COL0,ROW1,COL1 (pixels)")
    where.add_argument("--point", type=_floats, help="approximate bead position: ROW,COL (pixels)")
    mtf.add_argument("--box", type=int, default=32, help="bead box size (pixels)")
    mtf.add_argument("--oversample", type=int, default=4, help="ESF bins per pixel")
    mtf.add_argument("--window", default="tukey", choices=("tukey", "hamming", "hann", "none"),
                     help="window on the line spread function (edge; default tukey)")
    _add_pixel_size(mtf, "Y,X")


def _build_parser() -> argparse.ArgumentParser:
    """The ``napari-resolution`` parser with every subcommand."""
    parser = _Parser(prog="napari-resolution", description="Measure the resolution of images and maps.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                     help="the estimator or tool to run")
    _add_correlation_command(commands, "fsc", "Fourier shell correlation of two 3-D half-maps",
                             noun="half-map", axes="Z,Y,X", ndim=3)
    _add_correlation_command(commands, "frc", "Fourier ring correlation of two 2-D images",
                             noun="image", axes="Y,X", ndim=2)
    ssnr = _add_pair_command(commands, "ssnr", "spectral SNR of two 2-D images or 3-D half-maps",
                             noun="image / half-map", axes="per axis (Y,X or Z,Y,X)", ndim=None, job=_run_ssnr)
    _add_outputs(ssnr, plot="the SSNR curve", csv="the SSNR and its threshold")
    _add_simulate_command(commands)
    _add_mask_command(commands)
    _add_decorrelation_command(commands)
    _add_local_command(commands)
    _add_single_map_command(commands)
    _add_mtf_command(commands)
    _add_blink_command(commands)
    _add_tomo_command(commands)
    _add_batch_command(commands)
    demo = commands.add_parser("demo", help="simulate half-maps with a known resolution and measure it")
    demo.add_argument("--shape", type=_shape, default=(128, 128, 128),
                      help="Z,Y,X size in pixels (default 128,128,128)")
    demo.add_argument("--out", default=".", help="folder for fsc.png and fsc.json")
    demo.set_defaults(handler=_run_demo)
    _add_view_command(commands)
    return parser


def _positive_int(text: str) -> int:
    """``--workers``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _add_batch_command(commands) -> None:
    """``batch <estimator>``: one estimator on many inputs (a pairs CSV or file patterns), see :mod:`.batch`."""
    batch = commands.add_parser(
        "batch", help="run an estimator on many inputs: a JSON (and PNG) per input and summary.csv",
        description="Run an estimator on every pair of a CSV (--pairs) or every file matching --inputs: one JSON "
                    "(and with --plot a PNG) per input in --out, and --out/summary.csv with one row per input. A "
                    "bad file is an error row and the batch goes on; the exit code is 1 when some input failed. "
                    "Serial in this process by default; --workers N: a dask LocalCluster of N processes; "
                    "--scheduler: an existing dask cluster (needs pip install 'napari-resolution[dask]').")
    kinds = batch.add_subparsers(dest="estimator", required=True, parser_class=_Parser, help="the estimator")
    for name, ndim, axes in (("fsc", 3, "Z,Y,X"), ("frc", 2, "Y,X")):
        pairs = _add_batch_kind(kinds, name, f"{name.upper()} of every pair of a CSV", "pairs", job=_run_correlation)
        _add_pair_options(pairs, axes)
        _add_randomize_options(pairs, name.upper())
        pairs.set_defaults(ndim=ndim)
    _add_local_options(_add_batch_kind(kinds, "local-fsc", "local FSC map of every pair of a CSV", "pairs",
                                       job=_run_local))
    _add_single_map_options(_add_batch_kind(kinds, "local-res", "single-map local resolution of every input",
                                            "inputs", job=_run_single_map))
    _add_decorrelation_options(_add_batch_kind(kinds, "decorr", "decorrelation analysis of every input", "inputs",
                                               job=_run_decorrelation))
    _add_mtf_options(_add_batch_kind(kinds, "mtf", "MTF of every input, at the same --roi or --point", "inputs",
                                     job=_run_mtf))
    _add_blink_options(_add_batch_kind(kinds, "blink-psf", "PSF of every blinking movie (one channel each)",
                                       "inputs", job=_run_blink))


def _add_batch_kind(kinds, name: str, help_text: str, table: str, *, job):
    """``batch <name>`` with the options every batch shares; returns its parser for the estimator's options.

    Parameters
    ----------
    kinds : argparse subparsers
        The estimators of ``batch``.
    name, help_text : str
        Estimator and description.
    table : {"pairs", "inputs"}
        What lists the inputs: a CSV of pairs (``--pairs``) or file patterns (``--inputs``).
    job : callable
        The estimator's job (see :func:`run_job`).
    """
    parser = kinds.add_parser(name, help=help_text, description=help_text)
    if table == "pairs":
        parser.add_argument("--pairs", required=True,
                            help="CSV with columns half1, half2 and optionally mask, pixel_size (P or Z,Y,X); "
                                 "relative paths are relative to the CSV's folder")
    else:
        parser.add_argument("--inputs", required=True, nargs="+", metavar="PATTERN",
                            help="files or quoted patterns, e.g. 'data/*.tif' ('**' for subfolders)")
    parser.add_argument("--out", required=True, help="folder for one JSON (and PNG) per input and summary.csv")
    parser.add_argument("--plot", action="store_true", help="also write a PNG per input")
    _add_cluster_options(parser, "run on a dask LocalCluster of this many worker processes (default: serially here)")
    parser.set_defaults(handler=_run_batch, job=job, table=table)
    return parser


def _add_cluster_options(parser, workers_help: str, when: str = "") -> None:
    """``--workers`` / ``--scheduler`` (where dask runs the work, see :func:`.batch.cluster_client`) and
    ``--progress``; ``when`` qualifies when DASK_SCHEDULER_ADDRESS is read."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help=workers_help)
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the dask cluster at ADDRESS, e.g. tcp://10.0.0.5:8786 (default: the "
                            f"DASK_SCHEDULER_ADDRESS environment variable{when})")
    parser.add_argument("--progress", action="store_true", help="progress on stderr even when it is not a terminal")


def _run_batch(args) -> int:
    """``batch``: see :func:`.batch.run_batch` (imported here: it imports this module)."""
    from .batch import run_batch

    return run_batch(args)


def _add_tomo_command(commands) -> None:
    """``tomo``: split-dataset tomography, the FRC/FSC of the even and odd projections' reconstructions."""
    tomo = commands.add_parser(
        "tomo", help="resolution of a tomogram: FRC/FSC of reconstructions from the even and odd projections",
        description="Split the projections (sorted by angle) into even and odd halves, reconstruct each by "
                    "filtered back-projection and correlate the two (FRC for a sinogram, FSC for a stack).")
    tomo.add_argument("sinogram", help="2-D sinogram (detector, angles) or 3-D projection stack (angles, rows, "
                                       "detector): .tif .mrc .npy")
    angles = tomo.add_mutually_exclusive_group(required=True)
    angles.add_argument("--angles", help="START:STOP:COUNT in degrees, COUNT angles from START up to STOP "
                                         "(excluded), e.g. 0:180:720")
    angles.add_argument("--angles-file", help="text or CSV file of the angles in degrees, one per projection")
    tomo.add_argument("--angle-axis", type=int, help="axis of the angles (default 1 for 2-D, 0 for 3-D)")
    tomo.add_argument("--threshold", type=_threshold, default="half-bit",
                      help="half-bit (default), one-bit, 0.143, 0.5, 3-sigma or a number")
    tomo.add_argument("--filter", default="ramp", choices=TOMOGRAPHY_FILTERS, help="FBP filter (default ramp)")
    tomo.add_argument("--center", type=float, help="rotation axis on the detector in pixels (default detector // 2)")
    tomo.add_argument("--no-circle", action="store_true",
                      help="the object fills the square, not only the circle the detector spans")
    tomo.add_argument("--save-reconstructions", metavar="DIR",
                      help="write the two reconstructions as DIR/<name>_even.tif and DIR/<name>_odd.tif")
    _add_pixel_size(tomo, "ROWS,P (detector pixel; default: file header, else 1)")
    _add_gpu(tomo)
    _add_outputs(tomo, plot="the FRC/FSC curve", csv="the curves")
    tomo.set_defaults(handler=_run, job=_run_tomo)


def _angles(args) -> np.ndarray:
    """The projection angles (degrees) of ``--angles START:STOP:COUNT`` or ``--angles-file``."""
    if args.angles is not None:
        parts = args.angles.split(":")
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        except (ValueError, IndexError):
            raise ValueError(f"--angles must be START:STOP:COUNT, e.g. 0:180:720, got {args.angles!r}") from None
        if len(parts) != 3 or count < 1:
            raise ValueError(f"--angles must be START:STOP:COUNT with COUNT >= 1, got {args.angles!r}")
        return np.linspace(start, stop, count, endpoint=False)
    return parse_angles(Path(args.angles_file).read_text(), f"--angles-file {args.angles_file}")


def _tomo_pixel_size(args, image: io.LoadedImage):
    """The reconstruction's pixel size and unit: ``--pixel-size``, else the header's detector (and row) pitch."""
    pixel_size, unit = _pixel_size_and_unit(args, image)
    if args.pixel_size is not None:
        return pixel_size, unit
    try:
        return reconstruction_pixel_size(pixel_size, image.data.ndim, args.angle_axis), unit
    except ValueError:  # a bad --angle-axis: tomography_frc says so
        return pixel_size, unit


def _run_tomo(args) -> dict:
    """``tomo``: split-dataset FRC/FSC; optionally write the two reconstructions."""
    device = _device(args)
    image = io.read_image(args.sinogram)
    pixel_size, unit = _tomo_pixel_size(args, image)
    result = tomography_frc(image.data, _angles(args), angle_axis=args.angle_axis, pixel_size=pixel_size,
                            filter=args.filter, threshold=args.threshold, center=args.center,
                            circle=not args.no_circle, device=device)
    if args.save_reconstructions:
        folder = Path(args.save_reconstructions)
        folder.mkdir(parents=True, exist_ok=True)
        for half, volume in zip(("even", "odd"), result.reconstructions):
            io.write_image(folder / f"{Path(args.sinogram).stem}_{half}.tif", volume, result.pixel_size, unit)
    correlation = result.correlation
    columns = {"frequency_cycles_per_pixel": correlation.frequency, "correlation": correlation.correlation,
               "ssnr": correlation.ssnr, "n_points": correlation.n_points}
    columns.update({f"threshold_{name}": curve for name, curve in correlation.thresholds.items()})
    return _report(result, args, unit, columns=columns)


def _add_local_command(commands) -> None:
    """``local-fsc``: a local resolution map from two half-maps (or images)."""
    local = commands.add_parser(
        "local-fsc", help="local resolution map of two half-maps (block-wise FSC)",
        description="Local resolution map of two 3-D half-maps or 2-D images: the FSC of small windowed boxes, "
                    "merged into a map of the inputs' shape (full period, pixel-size units).")
    local.add_argument("a", metavar="H1", help="first half-map or image (.mrc .map .rec .tif .npy, or a .zarr array)")
    local.add_argument("b", metavar="H2", help="second half-map or image")
    local.add_argument("--out", required=True,
                       help="the map: .mrc (voxel size and origin of H1; 0 outside the mask), .tif / .npy (NaN), "
                            "or .zarr (computed block by block, for maps larger than memory; needs --box)")
    local.add_argument("--mask", help="mask with values in [0, 1]: boxes centred inside (> 0.5) only")
    _add_local_options(local)
    _add_outputs(local, plot="the histogram of the map")
    _add_cluster_options(local, "compute the boxes block by block on a dask LocalCluster of this many worker "
                                "processes (needs --box)", when=", in a block-by-block run")
    local.set_defaults(handler=_run, job=_run_local)


def _add_local_options(local) -> None:
    """The options of ``local-fsc`` and ``batch local-fsc``."""
    local.add_argument("--box", type=int, help="box side in pixels (default: 5x the global resolution, 16 to 64)")
    local.add_argument("--step", type=int, help="spacing of the box centres in pixels (default box / 4)")
    local.add_argument("--threshold", type=_threshold, default="0.143",
                       help="0.143 (default), half-bit, one-bit, 0.5, 3-sigma or a number; "
                            "half-bit uses each box's own shell counts")
    local.add_argument("--window", default="sine", choices=("sine", "hann", "none"),
                       help="window of each box (default sine: the least leakage, see docs/local_resolution.md)")
    _add_pixel_size(local, "Z,Y,X or Y,X")
    _add_gpu(local)


def _add_blink_command(commands) -> None:
    """``blink-psf``: the PSF and on-time of blinking single-molecule movies, one per channel."""
    blink = commands.add_parser(
        "blink-psf", help="PSF and on-time from blinking single-molecule movies (one per channel)",
        description="PSF of blinking single-molecule movies (T, Y, X) from the spatial autocorrelation of each "
                    "pixel's fluctuations about its temporal mean: rotated Gaussian fit (sigma_x, sigma_y, theta), "
                    "PSF image and spline; on-time from the temporal autocorrelation. Uncompressed TIFF and NPY "
                    "stacks are memory-mapped and streamed frame chunk by chunk (MRC and compressed TIFF are read "
                    "whole).")
    blink.add_argument("movies", nargs="+", metavar="MOVIE", help="one movie per channel (.tif .npy .mrc)")
    _add_blink_options(blink)
    blink.add_argument("--psf-out", help="write the PSF image (TIFF/NPY/MRC; _c1, _c2... for several channels)")
    blink.add_argument("--spline-out", help="write the spline knots and coefficients (.npz; _c1, _c2...)")
    _add_outputs(blink, plot="the radial profile and the temporal autocorrelation (_c1, _c2...)")
    blink.set_defaults(handler=_run_blink_channels, job=_run_blink)


def _add_blink_options(blink) -> None:
    """The options of ``blink-psf`` and ``batch blink-psf``."""
    blink.add_argument("--pixel-size", type=_pixel_sizes, action="append",
                       help="P or Y,X: once for every channel or once per channel in order (default: file "
                            "header, else 1)")
    blink.add_argument("--unit", help="unit of the pixel size, e.g. nm (default: the file's, with its size)")
    blink.add_argument("--crop", type=int, help="odd side of the autocorrelation crop in pixels (default up to 41)")
    blink.add_argument("--background", default="mean",
                       help="mean (default), moving:N (mean of a moving window of N frames: drift, bleaching) or "
                            "median-clip (smlmLP's clipped median, biased: for comparison)")
    blink.add_argument("--exclude-center", default="pixel", choices=("pixel", "cross"),
                       help="left out of the fit: the zero-lag pixel (default) or the central row and column "
                            "(sCMOS line noise)")
    blink.add_argument("--lags", type=int, default=20, help="temporal lags of the on-time fit (default 20)")
    blink.add_argument("--exposure-ms", type=float, help="time per frame in ms (on-time also in ms)")
    _add_gpu(blink)


def _blink_background(text: str):
    """``--background``: "mean", "median-clip" or "moving:N"."""
    if text in ("mean", "median-clip"):
        return text
    name, _, frames = text.partition(":")
    if name == "moving" and frames.isdigit():
        return ("moving", int(frames))
    raise ValueError(f"--background must be mean, moving:N or median-clip, got {text!r}")


def _blink_pixel_sizes(args, images) -> tuple[list, str]:
    """One pixel size per channel (``--pixel-size`` once or once per channel, else headers, else 1), and the unit."""
    given = args.pixel_size or []
    if len(given) not in (0, 1, len(images)):
        raise ValueError(f"--pixel-size must be given once or once per movie ({len(images)}), got {len(given)}")
    if given:
        sizes = [_pixel_size(values) for values in (given * len(images))[:len(images)]]
        unit = ""
    else:
        sizes = [image.pixel_size[-2:] if image.pixel_size else 1.0 for image in images]
        unit = images[0].unit if images[0].pixel_size else ""
    return sizes, unit if args.unit is None else args.unit


def _run_blink_channels(args) -> int:
    """``blink-psf``: one movie is a job like the others (:func:`_run`); several channels get files suffixed _c1..."""
    if len(args.movies) == 1:
        return _run(args)
    results, unit = _blink_results(args)
    return _report_channels(results, args, unit)


def _run_blink(args) -> dict:
    """The job of ``blink-psf`` on one movie: PSF, spline and the outputs of :func:`_report`."""
    (result,), unit = _blink_results(args)
    _write_blink_files(result, args.psf_out, args.spline_out, unit)
    return _report(result, args, unit)


def _blink_results(args) -> tuple[list, str]:
    """One :func:`blink_psf` result per movie of ``args.movies``, and the unit of their pixel size."""
    device = _device(args)
    images = [io.map_image(path) for path in args.movies]
    sizes, unit = _blink_pixel_sizes(args, images)
    try:
        with warnings.catch_warnings():  # each result's warnings are reported below, with its channel
            warnings.simplefilter("ignore", RuntimeWarning)
            results = blink_psf([image.data for image in images], pixel_size=sizes, crop=args.crop,
                                background=_blink_background(args.background), exclude_center=args.exclude_center,
                                lags=args.lags, exposure_ms=args.exposure_ms, device=device)
    except ValueError as error:
        message = str(error)
        for index, path in enumerate(args.movies):
            message = message.replace(f"movie[{index}]", path)
        raise ValueError(message) from None
    return results, unit


def _write_blink_files(result, psf_out, spline_out, unit: str) -> None:
    if psf_out:
        io.write_image(psf_out, result.psf.astype(np.float32), result.pixel_size, unit)
    if spline_out:
        np.savez(spline_out, **result.spline_arrays())


def _channel_path(path, channel: int):
    """``path`` with ``_c<channel>`` before its suffix (None stays None)."""
    if path is None or path == "-":
        return path
    path = Path(path)
    return str(path.with_name(f"{path.stem}_c{channel}{path.suffix}"))


def _report_channels(results, args, unit: str) -> int:
    """Several channels: one JSON with every channel, a PNG and PSF files per channel, a summary line each."""
    if args.json:
        io.write_json(args.json, {"channels": [result.to_dict() for result in results]})
    for channel, result in enumerate(results, 1):
        summary = f"channel {channel} ({args.movies[channel - 1]}): {result.summary(unit)}"
        if args.plot:
            from .plotting import save_result_plot

            save_result_plot(result, _channel_path(args.plot, channel), unit=unit, title=summary)
        _write_blink_files(result, _channel_path(args.psf_out, channel), _channel_path(args.spline_out, channel),
                           unit)
        print(summary, file=sys.stderr if args.json == "-" else sys.stdout)
        for note in result.warnings:
            warnings.warn(f"channel {channel}: {note}", RuntimeWarning, stacklevel=2)
    return 0


def _add_single_map_command(commands) -> None:
    """``local-res``: a local resolution map of one map by a calibrated significance test."""
    local = commands.add_parser(
        "local-res", help="local resolution map of one map (calibrated test of local band power against noise)",
        description="Local resolution map of one 3-D map or 2-D image: each voxel's finest band whose local power "
                    "is significantly above noise, testing bands coarse to fine (full period, pixel-size units).")
    local.add_argument("volume", metavar="MAP", help="the map or image (.mrc .map .rec .tif .npy)")
    local.add_argument("--out", required=True,
                       help="the map: .mrc (voxel size and origin of MAP; 0 where not significant or outside the "
                            "mask) or .tif / .npy (NaN)")
    local.add_argument("--half2", help="second half-map: MAP and it are averaged, and their difference is the noise")
    local.add_argument("--mask", help="mask with values in [0, 1]: the map is computed inside (> 0.5)")
    _add_single_map_options(local)
    _add_outputs(local, plot="the histogram of the map")
    local.set_defaults(handler=_run, job=_run_single_map)


def _add_single_map_options(local) -> None:
    """The options of ``local-res`` and ``batch local-res``."""
    local.add_argument("--noise", type=_noise_source, default="auto",
                       help="where the noise comes from: auto (default: the difference with --half2, else outside "
                            "--mask, else the corners), corners, outside-mask, difference, or the noise's standard "
                            "deviation")
    local.add_argument("--significance", type=float, default=0.05,
                       help="chance per voxel of a resolution on noise alone (default 0.05)")
    local.add_argument("--window", type=float,
                       help="Gaussian window's standard deviation in periods of each band (default 0.3; 1 reads finer, "
                            "about at the local FSC's 0.143; 0: none)")
    _add_pixel_size(local, "Z,Y,X or Y,X")
    _add_gpu(local)


def _noise_source(text: str):
    """``--noise``: a source name or a number (the noise's standard deviation)."""
    try:
        return float(text)
    except ValueError:
        return text


def _add_view_command(commands) -> None:
    """``view``: open napari with files (or a sample) and a widget docked (needs the [napari] extra)."""
    view = commands.add_parser(
        "view", help="open napari with the files (or sample data) and a widget docked",
        description='Open napari with FILES loaded (MRC/TIFF with their pixel sizes; none: sample data with a '
                    'known answer) and a widget docked. Needs napari: pip install "napari-resolution[napari]".')
    view.add_argument("files", nargs="*", help="images or maps to open")
    view.add_argument("--widget", choices=tuple(launch.WIDGETS),
                      help="widget to dock (default: decorr for one file, else fsc)")
    view.set_defaults(handler=_run_view)


# ----------------------------------------------------------------------------- handlers
def _load(path: str, name: str, ndim):
    """Read ``path``, checking its rank against ``ndim`` (None: any)."""
    image = io.read_image(path)
    if ndim is not None and image.data.ndim != ndim:
        raise ValueError(f"{name} ({path}) is {image.data.ndim}-D; expected {ndim}-D")
    return image


def _load_pair(args):
    """The two images of a pair command, and its ``--mask`` data (None without one)."""
    first = _load(args.a, "a", args.ndim)
    second = _load(args.b, "b", args.ndim)
    mask = None if args.mask is None else io.read_image(args.mask).data
    return first, second, mask


def _correlate(args, first, second, mask, pixel_size, device):
    """:func:`fourier_correlation` of a pair command's images with its options."""
    return fourier_correlation(
        first.data, second.data, pixel_size=pixel_size, threshold=args.threshold,
        ring_thickness=args.ring_thickness, apodization=args.apodization, taper=args.taper, mask=mask,
        crossing_rule=args.crossing_rule, device=device,
    )


def _run_correlation(args) -> dict:
    """``fsc`` / ``frc``: Fourier correlation, or with ``--randomize`` the phase-randomisation corrected FSC."""
    device = _device(args)
    first, second, mask = _load_pair(args)
    pixel_size, unit = _pixel_size_and_unit(args, first)
    if args.randomize:
        if mask is None:
            raise ValueError("--randomize needs --mask")
        result = phase_randomized_fsc(first.data, second.data, mask, randomize_at=args.randomize_at,
                                      pixel_size=pixel_size, threshold=args.threshold, seed=args.seed,
                                      device=device)
        curves = {"unmasked": result.unmasked, "masked": result.masked, "randomized": result.randomized,
                  "corrected": result.corrected}
    else:
        result = _correlate(args, first, second, mask, pixel_size, device)
        curves = {"correlation": result.correlation, "ssnr": result.ssnr}
    columns = {"frequency_cycles_per_pixel": result.frequency, **curves, "n_points": result.n_points}
    columns.update({f"threshold_{name}": curve for name, curve in result.thresholds.items()})
    return _report(result, args, unit, columns=columns)


def _run_ssnr(args) -> dict:
    """``ssnr``: the Fourier correlation read as a spectral SNR."""
    device = _device(args)
    first, second, mask = _load_pair(args)
    pixel_size, unit = _pixel_size_and_unit(args, first)
    result = _correlate(args, first, second, mask, pixel_size, device)
    columns = {"frequency_cycles_per_pixel": result.frequency, "ssnr": result.ssnr,
               "ssnr_threshold": result.ssnr_threshold}
    return _report(result, args, unit, columns=columns, summary=_ssnr_summary(result, unit), view="ssnr")


def _ssnr_summary(result, unit: str) -> str:
    """The summary line of a correlation result read where its SSNR crosses the SSNR threshold."""
    resolution = resolution_from_crossing(result.ssnr_crossing, result.status, result.reference_pixel_size)
    return resolution_summary(resolution, result.status, result.criterion, unit, curve="SSNR",
                              qualifier="SSNR crossing")


def _run_local(args) -> dict:
    """``local-fsc``: write the local resolution map and the outputs of :func:`_report`."""
    if _block_by_block(args):
        return _run_local_blocks(args)
    device = _device(args)
    first, second = _load(args.a, "a", None), _load(args.b, "b", None)
    mask = None if args.mask is None else io.read_image(args.mask).data
    pixel_size, unit = _pixel_size_and_unit(args, first)
    result = local_fsc(first.data, second.data, box=args.box, step=args.step, threshold=args.threshold, mask=mask,
                       pixel_size=pixel_size, window=args.window, device=device)
    _write_map(args.out, result.map, args.a, result.pixel_size, unit)
    return _report(result, args, unit)


def _block_by_block(args) -> bool:
    """True when ``local-fsc`` computes on dask: a .zarr input or output, ``--workers`` or ``--scheduler``
    (``batch local-fsc`` runs each pair whole: its workers run pairs, not blocks)."""
    paths = (args.a, args.b, args.out)
    return any(str(path).lower().endswith(io.ZARR_SUFFIX) for path in paths) or \
        bool(getattr(args, "workers", None) or getattr(args, "scheduler", None))


def _run_local_blocks(args) -> dict:
    """``local-fsc`` on dask: the inputs read lazily, the boxes computed block by block where ``--workers`` or
    ``--scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) says, else on local threads; the map into ``--out``.

    A ``batch local-fsc`` job (no ``--workers`` among its arguments) computes on its own process's threads.
    """
    from .batch import cluster_client

    if args.gpu:
        raise ValueError("--gpu computes in memory: it cannot be combined with a .zarr map, --workers or --scheduler")
    _check_out_is_no_input(args.out, {"a": args.a, "b": args.b, "--mask": args.mask})
    first, second = io.lazy_image(args.a), io.lazy_image(args.b)
    mask = None if args.mask is None else io.lazy_image(args.mask).data
    pixel_size, unit = _pixel_size_and_unit(args, first)
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    in_batch = not hasattr(args, "workers")
    address = scheduler or (None if workers or in_batch else os.environ.get("DASK_SCHEDULER_ADDRESS"))
    shown = getattr(args, "progress", False) or (sys.stderr.isatty() and not in_batch)
    with _map_store(args.out, first.data.shape, pixel_size, unit) as out, \
            cluster_client(workers, address) if (workers or address) else contextlib.nullcontext(), \
            _progress_line(shown) as progress:
        result = local_fsc(first.data, second.data, box=args.box, step=args.step, threshold=args.threshold,
                           mask=mask, pixel_size=pixel_size, window=args.window, out=out, progress=progress)
    if not args.out.lower().endswith(io.ZARR_SUFFIX):
        _write_map(args.out, result.map, args.a, result.pixel_size, unit)
    return _report(result, args, unit)


def _check_out_is_no_input(out: str, inputs: dict) -> None:
    """ValueError when ``--out`` names one of the ``inputs`` (name -> path or None): writing would destroy it."""
    for name, path in inputs.items():
        if path is not None and Path(path).resolve() == Path(out).resolve():
            raise ValueError(f"--out ({out}) is the input {name}: writing the map there would destroy it")


@contextlib.contextmanager
def _map_store(path: str, shape, pixel_size, unit: str):
    """Where the streamed map goes: for a .zarr ``path``, a new zarr array beside it that replaces ``path`` only
    once the run has succeeded (a failed run leaves an existing map as it was); else an array in memory."""
    if not path.lower().endswith(io.ZARR_SUFFIX):
        yield np.empty(shape, np.float32)
        return
    import shutil

    final = Path(path)
    partial = final.with_name(f".{final.stem}.partial{io.ZARR_SUFFIX}")  # hidden, beside it: renamed in place
    try:
        yield io.new_zarr_map(partial, shape, pixel_size, unit)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if final.is_dir():
        shutil.rmtree(final)
    elif final.exists():
        final.unlink()
    partial.rename(final)


@contextlib.contextmanager
def _progress_line(shown: bool):
    """A progress callback redrawing "NN % done" on stderr (None when not ``shown``); ends the line."""
    if not shown:
        yield None
        return
    drawn = []

    def draw(fraction: float) -> None:
        drawn.append(fraction)
        print(f"\r{100 * fraction:3.0f} % done", end="", file=sys.stderr, flush=True)

    try:
        yield draw
    finally:
        if drawn:
            print(file=sys.stderr)


def _run_single_map(args) -> dict:
    """``local-res``: write the single-map local resolution map and the outputs of :func:`_report`."""
    device = _device(args)
    volume = _load(args.volume, "volume", None)
    half2 = None if args.half2 is None else _load(args.half2, "half2", None).data
    mask = None if args.mask is None else io.read_image(args.mask).data
    pixel_size, unit = _pixel_size_and_unit(args, volume)
    result = local_resolution(volume.data, half2=half2, mask=mask, noise=args.noise, significance=args.significance,
                              window=args.window, pixel_size=pixel_size, device=device)
    _write_map(args.out, result.map, args.volume, result.pixel_size, unit)
    return _report(result, args, unit)


def _write_map(path: str, local_map, source: str, pixel_size, unit: str) -> None:
    """Write ``local_map``; as MRC placed on the ``source`` map (same voxel size and origin) when that is MRC.

    MRC has no NaN convention viewers agree on: outside the mask it holds 0.
    """
    if Path(path).suffix.lower() in io.MRC_SUFFIXES:
        placement = io.mrc_placement(source) if Path(source).suffix.lower() in io.MRC_SUFFIXES else None
        io.write_mrc(path, np.nan_to_num(local_map, nan=0.0), pixel_size, placement=placement)
    else:
        io.write_image(path, local_map, pixel_size, unit)


def _run_mask(args) -> int:
    """``mask``: write the soft mask and print the fraction of the box inside it."""
    if len(args.maps) > 2:
        raise ValueError(f"mask takes one map or two half-maps, got {len(args.maps)} files")
    images = [io.read_image(path) for path in args.maps]
    pixel_size, unit = _pixel_size_and_unit(args, images[0])
    threshold = args.threshold if args.threshold == "auto" else _number(args.threshold, "--threshold")
    options = {"threshold": threshold, "lowpass_sigma": args.lowpass_sigma, "extend": args.extend,
               "soft_edge": args.soft_edge, "cleanup": not args.no_cleanup, "pixel_size": pixel_size}
    if len(images) == 2:
        mask = mask_from_half_maps(images[0].data, images[1].data, **options)
    else:
        mask = make_mask(images[0].data, **options)
    io.write_image(args.out, mask, pixel_size, unit or "Å")  # maps without a unit: Å, the MRC convention
    fraction = 100 * float((mask > 0.5).mean())
    print(f"wrote {args.out}: {fraction:.1f} % of the box inside (mask > 0.5)")
    return 0


def _number(text: str, name: str) -> float:
    """``text`` as a number; the error names the option ``name``."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be 'auto' or a number, got {text!r}") from None


def _run_decorrelation(args) -> dict:
    """``decorr``: decorrelation analysis of one image or stack."""
    device = _device(args)
    image = io.read_image(args.image)
    pixel_size, unit = _pixel_size_and_unit(args, image)
    result = decorrelation(image.data, pixel_size=pixel_size, axis=args.axis, slices=args.slices,
                           n_radii=args.n_radii, n_highpass=args.n_highpass, apodization=args.apodization,
                           device=device)
    return _report(result, args, unit)


def _run_mtf(args) -> dict:
    """``mtf``: edge MTF in ``--roi`` or point MTF at ``--point``."""
    image = io.read_image(args.image)
    if image.data.ndim != 2:
        raise ValueError(f"mtf needs a 2-D image, got shape {image.data.shape}")
    pixel_size, unit = _pixel_size_and_unit(args, image)
    if args.roi is not None:
        if len(args.roi) != 4:
            raise ValueError(f"--roi needs four numbers ROW0,COL0,ROW1,COL1, got {args.roi}")
        result = mtf_edge(image.data, roi=args.roi, pixel_size=pixel_size, oversample=args.oversample,
                          window=args.window)
    else:
        if len(args.point) != 2:
            raise ValueError(f"--point needs two numbers ROW,COL, got {args.point}")
        result = mtf_point(image.data, center=args.point, box=args.box, pixel_size=pixel_size)
    return _report(result, args, unit)


def _report(result, args, unit: str, *, columns=None, summary: str = "", **plot_options) -> dict:
    """Write ``--json``, ``--csv`` and ``--plot``; the end of every job (see :func:`run_job`).

    Parameters
    ----------
    result : Result
        Any estimator's result.
    args : argparse.Namespace
        Parsed arguments with ``json``, ``csv`` and ``plot`` (None when not given).
    unit : str
        Unit of the pixel size.
    columns : dict, optional
        The CSV columns (name -> 1-D values), for estimators with ``--csv``.
    summary : str
        The line to print (default ``result.summary(unit)``); it also titles the PNG.
    **plot_options
        Passed to ``result.plots`` (e.g. ``view="ssnr"``).

    Returns
    -------
    dict
        What :func:`run_job` returns, from the result.
    """
    summary = summary or result.summary(unit)
    if args.json:
        io.write_json(args.json, result.to_dict())
    if args.csv:
        io.write_csv(args.csv, columns)
    if args.plot:
        from .plotting import save_result_plot

        save_result_plot(result, args.plot, unit=unit, title=summary, **plot_options)
    quantity, value = _headline(result)
    return {"status": result.status, "quantity": quantity, "value": value, "unit": unit, "summary": summary,
            "warnings": list(result.warnings)}


#: The number a job reports in its summary row: the first of these attributes a result has, and what it is.
_HEADLINES = (("resolution", "resolution"), ("median", "median resolution of the slices"),
              ("resolution_50", "resolution at MTF50"), ("fwhm", "PSF FWHM"))


def _headline(result) -> tuple[str, float | None]:
    """What ``result``'s main number is (e.g. "resolution") and its value (None when there is none)."""
    if isinstance(result, LocalResolutionResult):  # also the single-map result
        return "median local resolution", result.statistics["median"]
    for attribute, quantity in _HEADLINES:
        if hasattr(result, attribute):
            return quantity, getattr(result, attribute)
    raise TypeError(f"no main number known for a {type(result).__name__}")  # pragma: no cover - a new estimator


def run_job(paths: dict, options: dict) -> dict:
    """Run one input of an estimator subcommand: read it, measure, write its outputs, return its summary.

    The subcommands on one input (``fsc``, ``decorr``, ...) and every input of
    ``batch`` (see :mod:`.batch`, also on dask workers) run through this function.

    Parameters
    ----------
    paths : dict of str to str or None
        The subcommand's input files by argument name, e.g. ``{"a": "h1.mrc", "b": "h2.mrc", "mask": None}``.
    options : dict
        Its other parsed arguments, including ``job`` (the ``_run_<estimator>`` function) and the outputs
        ``json``, ``csv``, ``plot`` (paths or None).

    Returns
    -------
    dict
        ``status`` (one of :data:`~.core.results.STATUSES`), ``quantity`` (what ``value`` is, e.g.
        "resolution"), ``value`` (float or None), ``unit``, ``summary`` (the one-line summary) and
        ``warnings`` (list of str, the result's).

    Raises
    ------
    ValueError, OSError
        Bad input, named by argument (see :func:`~.core.validation.renamed`) or file.
    """
    args = argparse.Namespace(**{**options, **paths})
    return args.job(args)


def _run(args) -> int:
    """Handler of the subcommands on one input: :func:`run_job`, its summary line, the result's warnings.

    The summary goes to stdout, or to stderr when the JSON does; the warnings
    are issued as RuntimeWarning for :func:`main` to print.
    """
    outcome = run_job({}, vars(args))
    print(outcome["summary"], file=sys.stderr if args.json == "-" else sys.stdout)
    for note in outcome["warnings"]:
        warnings.warn(note, RuntimeWarning, stacklevel=2)
    return 0


def _run_simulate(args) -> int:
    """``simulate``: write the half-maps and the expected curve."""
    if len(args.shape) != args.ndim:
        raise ValueError(f"--shape must have {args.ndim} values for simulate {args.kind}, got {args.shape}")
    pixel_size = _pixel_size(args.pixel_size)
    pair = phantom_pair(args.shape, sigma=args.sigma, noise=args.noise, pixel_size=pixel_size,
                        threshold=args.threshold, seed=args.seed, dtype=np.float32)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    io.write_mrc(out / "half1.mrc", pair.half1, pixel_size)
    io.write_mrc(out / "half2.mrc", pair.half2, pixel_size)
    io.write_json(out / "expected.json", pair.truth.to_dict())
    print(f"wrote {out / 'half1.mrc'}, {out / 'half2.mrc'} and {out / 'expected.json'}; "
          f"expected resolution {pair.truth.resolution:.4g} ({pair.truth.criterion}, full period)")
    return 0


def _run_view(args) -> int:
    """Open the viewer and run napari's event loop until the window closes."""
    try:
        launch.open_viewer(args.files, args.widget)
    except ImportError as err:
        raise ValueError(str(err)) from None
    import napari

    napari.run()
    return 0


def _run_demo(args) -> int:
    """``demo``: simulate half-maps, measure their FSC and compare it with the known answer."""
    from .plotting import save_result_plot

    pixel_size = 1.1  # Å, a typical cryo-EM pixel
    pair = phantom_pair(args.shape, sigma=2.0 * pixel_size, noise=0.5, pixel_size=pixel_size,
                        seed=0, dtype=np.float32)
    result = fourier_correlation(pair.half1, pair.half2, pixel_size=pixel_size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_result_plot(result, out / "fsc.png", unit="Å", expected=pair.truth,
                     title=f"Simulated half-maps {args.shape}: measured vs known")
    io.write_json(out / "fsc.json", {"measured": result.to_dict(), "expected": pair.truth.to_dict()})
    error = 100 * (result.resolution / pair.truth.resolution - 1)
    print(f"measured resolution: {result.summary('Å')}")
    print(f"known resolution:    {pair.truth.resolution:.3g} Å (half-bit, full period) "
          f"-> measured is {error:+.1f} % off")
    print(f"wrote {out / 'fsc.png'} and {out / 'fsc.json'}")
    return 0


# ----------------------------------------------------------------------------- entry point
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


def main(argv=None) -> int:
    """Entry point of ``napari-resolution``; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad input (one line on stderr), 1 when stdout is
        closed early (``... --json - | head``; nothing printed).
    """
    args = None
    try:
        args = _build_parser().parse_args(argv)
        with warnings.catch_warnings(record=True) as caught, _notes_on_stderr():
            warnings.simplefilter("always", RuntimeWarning)  # the estimators' doubts: printed, whatever the filters
            code = args.handler(args)
        _print_warnings(caught)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except (ValueError, OSError) as err:
        print(f"napari-resolution: error: {renamed(str(err), _file_names(args))}", file=sys.stderr)
        return 2


def _file_names(args) -> dict:
    """The core's argument names -> the files the user gave for them (for error messages)."""
    files = {name: getattr(args, name, None) for name in ("a", "b", "mask", "image", "sinogram", "volume", "half2")}
    maps = getattr(args, "maps", None) or []
    files.update(zip(("half1", "half2"), maps) if len(maps) == 2 else zip(("volume",), maps))
    return {name: str(path) for name, path in files.items() if path is not None}


if __name__ == "__main__":
    sys.exit(main())
