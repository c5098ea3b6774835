"""``local-res``: a local resolution map of one map from its band power against noise (and ``batch local-res``)."""

from __future__ import annotations

import argparse

from .. import io
from .jobs import device_of, load, option_outputs, pixel_size_and_unit, read, report, run_subcommand, write_map
from .options import add_gpu, add_outputs, add_pixel_size, floats, number

__all__ = ["NOISE_SOURCES", "add_local_res_options", "register", "run_local_res"]

#: The noise sources of ``--noise``: :data:`~..core.single_map.NOISE_SOURCES`, written out so that ``--help`` does
#: not import the estimator (a test checks that the two agree).
NOISE_SOURCES = ("auto", "corners", "outside-mask", "difference")


def register(commands) -> None:
    """Add ``local-res`` to ``commands`` (argparse subparsers)."""
    local = commands.add_parser(
        "local-res", help="local resolution map of one map (local band power against noise, read as the FSC would)",
        description="Local resolution map of one 3-D map or 2-D image: each voxel's finest band whose local power "
                    "is significantly above noise and reaches the signal-to-noise ratio of the FSC threshold, "
                    "testing bands coarse to fine (full period, pixel-size units).")
    local.add_argument("half1", metavar="MAP", help="the map or image (.mrc .map .rec .tif .npy)")
    local.add_argument("--out", required=True,
                       help="the map: .mrc (voxel size and origin of MAP; 0 where no band passes or outside the "
                            "mask) or .tif / .npy (NaN)")
    local.add_argument("--half2", help="second half-map: MAP and it are averaged, and their difference is the noise")
    local.add_argument("--mask", help="mask with values in [0, 1]: the map is computed inside (> 0.5)")
    local.add_argument("--p-values", metavar="FILE.npz",
                       help="also write the p-value map: an .npz with p_values (one map per band: the chance that "
                            "noise alone passes every band up to it) and resolutions (each band's period)")
    add_local_res_options(local)
    add_outputs(local, plot="the histogram of the map", table="the histogram of the map")
    local.set_defaults(handler=run_subcommand, job=run_local_res, written=_written)


def add_local_res_options(local) -> None:
    """The options of ``local-res`` and ``batch local-res``."""
    local.add_argument("--noise", type=_noise_source, default="auto",
                       help="where the noise comes from: auto (default: the difference with --half2, else outside "
                            "--mask, else the corners), corners, outside-mask, difference, or the noise's standard "
                            "deviation")
    local.add_argument("--threshold", type=_threshold, default="0.143",
                       help="read the map as the FSC of two half-maps at this threshold would: 0.143 (default), 0.5, "
                            "a number in (0, 1), or none (the significance test alone)")
    local.add_argument("--significance", type=number(0, 1, exclusive=True), default=0.05,
                       help="chance per voxel of a resolution on noise alone (default 0.05)")
    local.add_argument("--window", type=number(0),
                       help="Gaussian window's standard deviation in periods of each band (default 0.7 in 3-D, 1.5 "
                            "in 2-D; 0: none)")
    local.add_argument("--resolutions", type=_periods, metavar="P1,P2,...",
                       help="the bands' periods (full period, pixel-size units, at least 2, from Nyquist to the "
                            "map's extent; default: 20 from a sixth of the map, a sixteenth with the noise from "
                            "the corners, to Nyquist)")
    add_pixel_size(local, "Z,Y,X or Y,X")
    add_gpu(local)


def _noise_source(text: str):
    """``--noise``: a source name or a finite number > 0 (the noise's standard deviation)."""
    if text in NOISE_SOURCES:
        return text
    try:
        return number(0, exclusive=True)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected {', '.join(NOISE_SOURCES)} or a standard deviation > 0, "
                                         f"got {text!r}") from None


def _threshold(text: str):
    """``--threshold``: "0.143", "0.5", "none" (None: the test alone) or a number in (0, 1)."""
    if text in ("0.143", "0.5"):
        return text
    if text.lower() == "none":
        return None
    try:
        return number(0, 1, exclusive=True)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected 0.143, 0.5, none or a number in (0, 1), got {text!r}") from None


def _periods(text: str) -> tuple[float, ...]:
    """``--resolutions``: at least 2 comma-separated periods > 0 (the core checks their range)."""
    values = floats(text)
    if len(values) < 2 or not all(value > 0 for value in values):
        raise argparse.ArgumentTypeError(f"expected at least 2 comma-separated periods > 0, got {text!r}")
    return values


def _written(args) -> list[tuple[str, str]]:
    """The files ``local-res`` writes, as (option, path): those of its output options and ``--p-values``."""
    return option_outputs(args) + ([("--p-values", args.p_values)] if args.p_values else [])


def run_local_res(args) -> dict:
    """``local-res``: write the single-map local resolution map (and p-value map) and the outputs of
    :func:`.jobs.report`."""
    from ..core.single_map import local_resolution

    device = device_of(args)
    volume = load(args.half1, "half1", unsigned=args.unsigned)
    half2 = None if args.half2 is None else load(args.half2, "half2", unsigned=args.unsigned).data
    mask = None if args.mask is None else read(args.mask).data
    pixel_size, unit = pixel_size_and_unit(args, volume)
    p_values = getattr(args, "p_values", None)
    result = local_resolution(volume.data, half2=half2, mask=mask, noise=args.noise, threshold=args.threshold,
                              significance=args.significance, window=args.window, resolutions=args.resolutions,
                              pixel_size=pixel_size, p_values=bool(p_values), device=device)
    write_map(args.out, result.map, args.half1, result.pixel_size, unit)
    if p_values:
        io.write_npz(p_values, {"p_values": result.p_values, "resolutions": result.parameters["resolutions"]})
    return report(result, args, unit)
