"""``decorr``: decorrelation analysis of one image, or of each slice of a stack (and ``batch decorr``)."""

from __future__ import annotations

from .jobs import device_of, pixel_size_and_unit, read, report, run_subcommand
from .options import add_gpu, add_outputs, add_pixel_size, integers, number, whole_number

__all__ = ["add_decorrelation_options", "register", "run_decorrelation"]


def register(commands) -> None:
    """Add ``decorr`` to ``commands`` (argparse subparsers)."""
    decorr = commands.add_parser("decorr", help="resolution of one image by decorrelation analysis")
    decorr.add_argument("image", help="2-D image, or a 3-D volume / time stack analysed slice by slice")
    add_decorrelation_options(decorr)
    add_outputs(decorr, plot="the curves (or resolution per slice)",
                table="the curves (or the resolution of each slice)")
    decorr.set_defaults(handler=run_subcommand, job=run_decorrelation)


def add_decorrelation_options(decorr) -> None:
    """The options of ``decorr`` and ``batch decorr``."""
    add_pixel_size(decorr, "per axis (Y,X or Z,Y,X)")
    decorr.add_argument("--axis", type=int, choices=(0, 1, 2), help="3-D input: axis to slice along (default 0)")
    decorr.add_argument("--slices", type=integers, help="3-D input: comma-separated slice indices (default all)")
    decorr.add_argument("--n-radii", type=whole_number(10), default=50,
                        help="disc radii sampled from 0 to Nyquist (at least 10; default 50)")
    decorr.add_argument("--n-highpass", type=whole_number(2), default=10,
                        help="Gaussian high-pass filters per pass (at least 2; default 10)")
    decorr.add_argument("--apodization", type=whole_number(0), default=20,
                        help="edge taper width in pixels (default 20; 0: none)")
    decorr.add_argument("--confidence", type=number(0, 1, exclusive=True),
                        help="also give the resolution's interval at this level, e.g. 0.95 (from noise resamples "
                             "of the image; about 50x the analysis's time)")
    decorr.add_argument("--seed", type=whole_number(0), default=0, help="seed of the noise resamples (--confidence)")
    add_gpu(decorr)


def run_decorrelation(args) -> dict:
    """``decorr``: decorrelation analysis of one image or stack."""
    from ..core.decorrelation import decorrelation

    device = device_of(args)
    image = read(args.image, unsigned=args.unsigned)
    if image.data.ndim == 2:
        _refuse_stack_options(args)
    pixel_size, unit = pixel_size_and_unit(args, image)
    axis = 0 if args.axis is None else args.axis
    result = decorrelation(image.data, pixel_size=pixel_size, axis=axis, slices=args.slices,
                           n_radii=args.n_radii, n_highpass=args.n_highpass, apodization=args.apodization,
                           confidence=args.confidence, seed=args.seed, device=device)
    return report(result, args, unit)


def _refuse_stack_options(args) -> None:
    """ValueError for ``--axis`` or ``--slices`` on a 2-D image (the core would ignore them)."""
    for option, value in (("--slices", args.slices), ("--axis", args.axis)):
        if value is not None:
            raise ValueError(f"{option} selects slices of a 3-D stack; {args.image} is 2-D: leave {option} out")
