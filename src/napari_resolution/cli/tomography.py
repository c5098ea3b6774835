"""``tomo``: split-dataset tomography, the FRC/FSC of the even and odd projections' reconstructions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import io
from .jobs import device_of, option_outputs, pixel_size_and_unit, read, report, run_subcommand
from .options import add_gpu, add_outputs, add_pixel_size, add_threshold

__all__ = ["FILTERS", "register", "run_tomography"]

#: The reconstruction filters of ``--filter``: :data:`~..core.tomography.FILTERS`, written out so that ``--help``
#: does not import the estimator (a test checks that the two agree).
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")
#: The projection weightings of ``--weighting`` (:data:`~..core.tomography.WEIGHTINGS`, written out likewise).
WEIGHTINGS = ("uniform", "gaps")


def register(commands) -> None:
    """Add ``tomo`` to ``commands`` (argparse subparsers)."""
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
    tomo.add_argument("--tilt-axis", default="auto", metavar="y|x|auto|ANGLE",
                      help="axis of a stack's projections the tilt axis runs along: y (each row a sinogram), x, an "
                           "in-plane angle in degrees from y towards x, or auto (default: detected from the data)")
    add_threshold(tomo)
    tomo.add_argument("--filter", default="ramp", choices=FILTERS, help="FBP filter (default ramp)")
    tomo.add_argument("--center", type=float, help="rotation axis on the detector in pixels (default detector // 2)")
    tomo.add_argument("--weighting", default="uniform", choices=WEIGHTINGS,
                      help="weight of each projection: uniform (default, as iradon/ASTRA/toupy) or its angular gap")
    tomo.add_argument("--no-circle", action="store_true",
                      help="the object fills the square, not only the circle the detector spans")
    tomo.add_argument("--save-reconstructions", metavar="DIR",
                      help="write the two reconstructions as DIR/<name>_even.tif and DIR/<name>_odd.tif")
    add_pixel_size(tomo, "ROWS,P (the detector pixel)")
    add_gpu(tomo)
    add_outputs(tomo, plot="the FRC/FSC curve", table="the curves")
    tomo.set_defaults(handler=run_subcommand, job=run_tomography, written=_written)


# ----------------------------------------------------------------------------- job
def run_tomography(args) -> dict:
    """``tomo``: split-dataset FRC/FSC; optionally write the two reconstructions."""
    from ..core.tomography import tomography_frc

    device = device_of(args)
    image = read(args.sinogram, unsigned=args.unsigned)
    pixel_size, unit = _reconstruction_pixel_size(args, image)
    angles = _angles(args, max(image.data.shape))
    if args.save_reconstructions:
        Path(args.save_reconstructions).mkdir(parents=True, exist_ok=True)
    result = tomography_frc(image.data, angles, angle_axis=args.angle_axis, tilt_axis=_tilt_axis(args),
                            pixel_size=pixel_size, filter=args.filter, threshold=args.threshold, center=args.center,
                            circle=not args.no_circle, weighting=args.weighting, device=device)
    for path, volume in zip(_reconstruction_files(args), result.reconstructions):
        io.write_image(path, volume, result.pixel_size, unit)
    return report(result, args, unit)


def _written(args) -> list[tuple[str, str]]:
    """The files ``tomo`` writes, as (option, path): :func:`.jobs.option_outputs` and the two reconstructions."""
    return [*option_outputs(args), *(("--save-reconstructions", path) for path in _reconstruction_files(args))]


def _reconstruction_files(args) -> list[str]:
    """``--save-reconstructions DIR``: DIR/<name>_even.tif and DIR/<name>_odd.tif (none without the option)."""
    if not args.save_reconstructions:
        return []
    folder = Path(args.save_reconstructions)
    return [str(folder / f"{Path(args.sinogram).stem}_{half}.tif") for half in ("even", "odd")]


def _angles(args, most: int) -> np.ndarray:
    """The projection angles (degrees) of ``--angles START:STOP:COUNT`` (COUNT at most ``most``, the sinogram's
    longest axis) or ``--angles-file``."""
    if args.angles is None:
        from ..core.tomography import parse_angles

        try:
            text = Path(args.angles_file).read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"--angles-file {args.angles_file}: not a text file of angles "
                             f"({getattr(err, 'strerror', None) or err.reason})") from None
        return parse_angles(text, f"--angles-file {args.angles_file}")
    parts = args.angles.split(":")
    try:
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise ValueError(f"--angles must be START:STOP:COUNT, e.g. 0:180:720, got {args.angles!r}") from None
    if len(parts) != 3 or count < 1:
        raise ValueError(f"--angles must be START:STOP:COUNT with COUNT >= 1, got {args.angles!r}")
    if count > most:
        raise ValueError(f"--angles gives {count} angles, more than the sinogram has projections (at most {most})")
    return np.linspace(start, stop, count, endpoint=False)


def _tilt_axis(args):
    """``--tilt-axis``: y, x or auto as given, a number as an angle in degrees (anything else: the core says so)."""
    try:
        return float(args.tilt_axis)
    except ValueError:
        return args.tilt_axis


def _reconstruction_pixel_size(args, image: io.LoadedImage):
    """The reconstruction's pixel size and unit: ``--pixel-size``, else the header's detector (and row) pitch."""
    from ..core.tomography import reconstruction_pixel_size

    pixel_size, unit = pixel_size_and_unit(args, image)
    if args.pixel_size is not None:
        return pixel_size, unit
    try:
        return reconstruction_pixel_size(pixel_size, image.data.ndim, args.angle_axis, _tilt_axis(args),
                                         image.data), unit
    except ValueError:  # a bad --angle-axis or --tilt-axis: tomography_frc says so
        return pixel_size, unit
