"""``blink-psf``: the PSF and on-time of blinking single-molecule movies, one per channel (and ``batch blink-psf``).

Several movies are channels: one result (:class:`~..core.blink.BlinkChannelsResult`)
with one JSON, a summary line per channel, and a PSF image, spline and PNG per
channel, suffixed ``_c1``, ``_c2``...
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from .. import io
from .jobs import device_of, one_or_all, read, report, run_subcommand
from .options import add_gpu, add_outputs, add_pixel_size, number, whole_number

__all__ = ["add_blink_options", "register", "run_blink"]


def register(commands) -> None:
    """Add ``blink-psf`` to ``commands`` (argparse subparsers)."""
    blink = commands.add_parser(
        "blink-psf", help="PSF and on-time from blinking single-molecule movies (one per channel)",
        description="PSF of blinking single-molecule movies (T, Y, X) from the spatial autocorrelation of each "
                    "pixel's fluctuations about its temporal mean: rotated Gaussian fit (sigma_x, sigma_y, theta), "
                    "PSF image and spline; on-time from the temporal autocorrelation. Uncompressed TIFF and NPY "
                    "stacks are memory-mapped and streamed frame chunk by chunk (MRC and compressed TIFF are read "
                    "whole).")
    blink.add_argument("movies", nargs="+", metavar="MOVIE", help="one movie per channel (.tif .npy .mrc)")
    add_blink_options(blink)
    blink.add_argument("--psf-out", help="write the PSF image (TIFF/NPY/MRC; _c1, _c2... for several channels)")
    blink.add_argument("--spline-out", help="write the spline knots and coefficients (.npz; _c1, _c2...)")
    add_outputs(blink, plot="the radial profile and the temporal autocorrelation (_c1, _c2...)",
                table="the radial profile of the PSF (of every channel)")
    blink.set_defaults(handler=run_subcommand, job=run_blink, written=_written)


def add_blink_options(blink) -> None:
    """The options of ``blink-psf`` and ``batch blink-psf``."""
    add_pixel_size(blink, "Y,X", per="movie")
    blink.add_argument("--crop", type=_crop, help="odd side of the autocorrelation crop in pixels (default up to 41)")
    blink.add_argument("--background", type=_background, default="auto",
                       help="auto (default: the temporal mean, or each eighth of the movie's own mean when the "
                            "background drifts), mean, moving:N (mean of a moving window of N frames: drift, "
                            "bleaching) or median-clip (smlmLP's clipped median, biased: for comparison)")
    blink.add_argument("--exclude-center", default="auto", choices=("auto", "pixel", "row", "column", "cross"),
                       help="left out of the fit besides the zero lag: auto (default: the central row and/or "
                            "column of the autocorrelation when they hold a ridge of line noise), pixel (none), "
                            "row, column or cross (both; sCMOS line noise)")
    blink.add_argument("--lags", type=whole_number(4), default=20,
                       help="temporal lags of the on-time fit (at least 4; default 20)")
    blink.add_argument("--exposure-ms", type=number(0, exclusive=True),
                       help="time per frame in ms (on-time also in ms)")
    add_gpu(blink)


# ----------------------------------------------------------------------------- job
def run_blink(args) -> dict:
    """``blink-psf``: the PSF of each movie, its PSF image and spline, and the outputs of :func:`.jobs.report`."""
    result, unit = _measure(args)
    if len(args.movies) == 1:
        _write_psf_files(result, args.psf_out, args.spline_out, unit)
        return report(result, args, unit)
    lines = [f"channel {n} ({path}): {channel.summary(unit)}"
             for n, (path, channel) in enumerate(zip(args.movies, result), 1)]
    for n, channel in enumerate(result, 1):
        _write_psf_files(channel, _suffixed(args.psf_out, n), _suffixed(args.spline_out, n), unit)
    figures = [(_suffixed(args.plot, n), channel, line)
               for n, (channel, line) in enumerate(zip(result, lines), 1)] if args.plot else []
    return report(result, args, unit, summary="\n".join(lines), figures=figures)


def _written(args) -> list[tuple[str, str]]:
    """The files ``blink-psf`` writes, as (option, path): with several movies, one PSF image, spline and PNG per
    channel (``_c1``, ``_c2``...) and one JSON and CSV."""
    channels = range(1, len(args.movies) + 1) if len(args.movies) > 1 else (None,)
    per_channel = [(option, path if channel is None else _suffixed(path, channel))
                   for option, path in (("--psf-out", args.psf_out), ("--spline-out", args.spline_out),
                                        ("--plot", args.plot)) if path for channel in channels]
    return [(option, path) for option, path in [("--json", args.json), ("--csv", args.csv), *per_channel]
            if path and (option, path) != ("--json", "-")]


def _measure(args):
    """The PSF of ``args.movies``: a BlinkPSFResult for one movie, else a BlinkChannelsResult; and the unit."""
    from ..core.blink import blink_psf

    device = device_of(args)
    images = [read(path, io.map_image, unsigned=args.unsigned) for path in args.movies]
    sizes, unit = _channel_pixel_sizes(args, images)
    with warnings.catch_warnings():  # the result's warnings are reported, each with its channel
        warnings.simplefilter("ignore", RuntimeWarning)
        result = blink_psf([image.data for image in images], pixel_size=sizes, crop=args.crop,
                           background=args.background, exclude_center=args.exclude_center,
                           lags=args.lags, exposure_ms=args.exposure_ms, device=device)
    return (result[0] if len(result) == 1 else result), unit


def _channel_pixel_sizes(args, images) -> tuple[list, str]:
    """One pixel size per movie (``--pixel-size`` once or once per movie, else headers, else 1), and the unit."""
    given = args.pixel_size or []
    if len(given) not in (0, 1, len(images)):
        raise ValueError(f"--pixel-size must be given once or once per movie ({len(images)}), got {len(given)}")
    if given:
        sizes = [one_or_all(values) for values in (given * len(images))[:len(images)]]
        unit = ""
    else:
        sizes = [image.pixel_size[-2:] if image.pixel_size else 1.0 for image in images]
        unit = images[0].unit if images[0].pixel_size else io.PIXEL_UNIT
    return sizes, unit if args.unit is None else args.unit


def _background(text: str):
    """``--background``: "auto", "mean", "median-clip" or "moving:N" as the core's ``background``."""
    if text in ("auto", "mean", "median-clip"):
        return text
    name, _, frames = text.partition(":")
    if name == "moving" and frames.isdigit() and int(frames) >= 3:
        return ("moving", int(frames))
    raise argparse.ArgumentTypeError(f"expected auto, mean, moving:N (N >= 3 frames) or median-clip, got {text!r}")


def _crop(text: str) -> int:
    """``--crop``: an odd whole number >= 5 (the zero lag at the centre pixel)."""
    value = whole_number(5)(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f"expected an odd whole number >= 5, got {text!r}")
    return value


def _write_psf_files(result, psf_out, spline_out, unit: str) -> None:
    """Write one channel's PSF image into ``psf_out`` and its spline into ``spline_out`` (None: not written)."""
    if psf_out:
        io.write_image(psf_out, result.psf.astype(np.float32), result.pixel_size, unit)
    if spline_out:
        io.write_npz(spline_out, result.spline_arrays())


def _suffixed(path, channel: int):
    """``path`` with ``_c<channel>`` before its suffix (None and "-" stay as they are)."""
    if path is None or path == "-":
        return path
    path = Path(path)
    return str(path.with_name(f"{path.stem}_c{channel}{path.suffix}"))
