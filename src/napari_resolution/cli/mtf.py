"""``mtf``: the MTF from a slanted edge or a bead (and ``batch mtf``)."""

from __future__ import annotations

from .jobs import pixel_size_and_unit, read, report, run_subcommand
from .options import add_outputs, add_pixel_size, numbers, whole_number

__all__ = ["add_mtf_options", "register", "run_mtf"]


def register(commands) -> None:
    """Add ``mtf`` to ``commands`` (argparse subparsers)."""
    mtf = commands.add_parser("mtf", help="MTF from a slanted edge (--roi) or a bead (--point)")
    mtf.add_argument("image", help="2-D image, or a bead z-stack (Z, Y, X) with --point Z,Y,X")
    add_mtf_options(mtf)
    add_outputs(mtf, plot="the MTF (and ESF/LSF or PSF)", table="the MTF and the noise's MTF")
    mtf.set_defaults(handler=run_subcommand, job=run_mtf)


def add_mtf_options(mtf) -> None:
    """The options of ``mtf`` and ``batch mtf``: where the edge or bead is, and how to measure it."""
    where = mtf.add_mutually_exclusive_group(required=True)
    where.add_argument("--roi", type=numbers(4, "ROW0,COL0,ROW1,COL1"),
                       help="ROI across one edge: ROW0,COL0,ROW1,COL1 (pixels)")
    where.add_argument("--point", type=numbers((2, 3), "ROW,COL or Z,ROW,COL"),
                       help="approximate bead position: ROW,COL, or Z,ROW,COL in a z-stack (pixels)")
    mtf.add_argument("--box", type=whole_number(8), default=32, help="bead box size (pixels, at least 8)")
    mtf.add_argument("--oversample", type=whole_number(1, 16), default=4, help="ESF bins per pixel (1 to 16)")
    mtf.add_argument("--window", default="tukey", choices=("tukey", "hamming", "hann", "none"),
                     help="window on the line spread function (edge; default tukey)")
    add_pixel_size(mtf, "Y,X or Z,Y,X")


def run_mtf(args) -> dict:
    """``mtf``: edge MTF in ``--roi`` or point MTF at ``--point``."""
    from ..core.mtf import mtf_edge, mtf_point

    image = read(args.image, unsigned=args.unsigned)
    if image.data.ndim != (3 if args.point is not None and len(args.point) == 3 else 2):
        raise ValueError(f"mtf needs a 2-D image (or a z-stack with --point Z,ROW,COL), got shape "
                         f"{image.data.shape}{'' if args.point is None else f' and --point {args.point}'}")
    pixel_size, unit = pixel_size_and_unit(args, image)
    if args.roi is not None:
        result = mtf_edge(image.data, roi=args.roi, pixel_size=pixel_size, oversample=args.oversample,
                          window=args.window)
    else:
        result = mtf_point(image.data, center=args.point, box=args.box, pixel_size=pixel_size)
    return report(result, args, unit)
