"""``local-res``: a local resolution map of one map by a calibrated significance test (and ``batch local-res``)."""

from __future__ import annotations

import argparse

from .. import io
from .jobs import device_of, load, pixel_size_and_unit, report, run_subcommand, write_map
from .options import add_gpu, add_outputs, add_pixel_size, number

__all__ = ["NOISE_SOURCES", "add_local_res_options", "register", "run_local_res"]

#: The noise sources of ``--noise``: :data:`~..core.single_map.NOISE_SOURCES`, written out so that ``--help`` does
#: not import the estimator (a test checks that the two agree).
NOISE_SOURCES = ("auto", "corners", "outside-mask", "difference")


def register(commands) -> None:
    """Add ``local-res`` to ``commands`` (argparse subparsers)."""
    local = commands.add_parser(
        "local-res", help="local resolution map of one map (calibrated test of local band power against noise)",
        description="Local resolution map of one 3-D map or 2-D image: each voxel's finest band whose local power "
                    "is significantly above noise, testing bands coarse to fine (full period, pixel-size units).")
    local.add_argument("half1", metavar="MAP", help="the map or image (.mrc .map .rec .tif .npy)")
    local.add_argument("--out", required=True,
                       help="the map: .mrc (voxel size and origin of MAP; 0 where not significant or outside the "
                            "mask) or .tif / .npy (NaN)")
    local.add_argument("--half2", help="second half-map: MAP and it are averaged, and their difference is the noise")
    local.add_argument("--mask", help="mask with values in [0, 1]: the map is computed inside (> 0.5)")
    add_local_res_options(local)
    add_outputs(local, plot="the histogram of the map", table="the histogram of the map")
    local.set_defaults(handler=run_subcommand, job=run_local_res)


def add_local_res_options(local) -> None:
    """The options of ``local-res`` and ``batch local-res``."""
    local.add_argument("--noise", type=_noise_source, default="auto",
                       help="where the noise comes from: auto (default: the difference with --half2, else outside "
                            "--mask, else the corners), corners, outside-mask, difference, or the noise's standard "
                            "deviation")
    local.add_argument("--significance", type=number(0, 1, exclusive=True), default=0.05,
                       help="chance per voxel of a resolution on noise alone (default 0.05)")
    local.add_argument("--window", type=number(0),
                       help="Gaussian window's standard deviation in periods of each band (default 0.3; 1 reads finer, "
                            "about at the local FSC's 0.143; 0: none)")
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


def run_local_res(args) -> dict:
    """``local-res``: write the single-map local resolution map and the outputs of :func:`.jobs.report`."""
    from ..core.single_map import local_resolution

    device = device_of(args)
    volume = load(args.half1, "half1", unsigned=args.unsigned)
    half2 = None if args.half2 is None else load(args.half2, "half2", unsigned=args.unsigned).data
    mask = None if args.mask is None else io.read_image(args.mask).data
    pixel_size, unit = pixel_size_and_unit(args, volume)
    result = local_resolution(volume.data, half2=half2, mask=mask, noise=args.noise, significance=args.significance,
                              window=args.window, pixel_size=pixel_size, device=device)
    write_map(args.out, result.map, args.half1, result.pixel_size, unit)
    return report(result, args, unit)
