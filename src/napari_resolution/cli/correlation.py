"""``fsc``, ``frc`` and ``ssnr``: the Fourier correlation of two images (``frc --split``: of one image split in two;
and ``batch fsc`` / ``batch frc``)."""

from __future__ import annotations

from .jobs import device_of, load, load_pair, pixel_size_and_unit, report, run_subcommand
from .options import add_gpu, add_half_maps, add_outputs, add_pixel_size, add_threshold, number, whole_number

__all__ = ["add_correlation_options", "register", "run_correlation", "run_ssnr"]

#: (name, description, what one input is, --pixel-size form, rank of the inputs) of ``fsc`` and ``frc``.
_CORRELATIONS = (
    ("fsc", "Fourier shell correlation of two 3-D half-maps", "half-map", "Z,Y,X", 3),
    ("frc", "Fourier ring correlation of two 2-D images", "image", "Y,X", 2),
)


def register(commands) -> None:
    """Add ``fsc``, ``frc`` and ``ssnr`` to ``commands`` (argparse subparsers)."""
    for name, help_text, noun, axes, ndim in _CORRELATIONS:
        parser = _add_pair_command(commands, name, help_text, noun=noun)
        add_correlation_options(parser, name.upper(), axes, ndim)
        if name == "frc":
            _add_split_options(parser)
        add_outputs(parser, plot="the curve", table="the curves")
        parser.set_defaults(job=run_correlation)
    ssnr = _add_pair_command(commands, "ssnr", "spectral SNR of two 2-D images or 3-D half-maps",
                             noun="image / half-map")
    _add_pair_options(ssnr, "per axis (Y,X or Z,Y,X)")
    add_outputs(ssnr, plot="the SSNR curve", table="the SSNR and its threshold")
    ssnr.set_defaults(job=run_ssnr, ndim=None)


def _add_pair_command(commands, name: str, help_text: str, *, noun: str):
    """A subcommand on two images and an optional mask; returns its parser for the options."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    add_half_maps(parser, noun, metavar=("a", "b"))
    parser.add_argument("--mask", help="real-space mask with values in [0, 1] (replaces the taper)")
    parser.set_defaults(handler=run_subcommand)
    return parser


def add_correlation_options(parser, curve: str, axes: str, ndim: int) -> None:
    """The options of ``fsc`` / ``frc`` and their batches: the pair's, and ``--randomize`` with its own.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand.
    curve : {"FSC", "FRC"}
        The curve's name, for the help.
    axes : str
        Per-axis form of ``--pixel-size``.
    ndim : int
        Required rank of both inputs.
    """
    _add_pair_options(parser, axes)
    parser.add_argument("--randomize", action="store_true",
                        help=f"correct the masked {curve} by phase randomisation (needs --mask)")
    parser.add_argument("--randomize-at", type=number(0, exclusive=True), default=0.8,
                        help=f"{curve} level in (0, 1) (default 0.8) or a resolution >= 1 to randomise beyond")
    parser.add_argument("--seed", type=whole_number(0), default=0, help="seed of the random phases")
    parser.set_defaults(ndim=ndim)


def _add_pair_options(parser, axes: str) -> None:
    """The Fourier correlation options of a pair of images (``fsc``, ``frc``, ``ssnr`` and their batches)."""
    add_pixel_size(parser, axes)
    add_threshold(parser)
    parser.add_argument("--ring-thickness", type=whole_number(1), default=1, help="shell width in Fourier steps")
    parser.add_argument("--apodization", type=whole_number(0),
                        help="edge taper width in pixels (0: none; default 20, at most a quarter of the smallest axis)")
    parser.add_argument("--taper", default="auto", choices=("auto", "all"),
                        help="auto: taper only the axes whose edges do not wrap (default); all: every axis")
    parser.add_argument("--crossing-rule", default="first-below", choices=("first-below", "last-above"),
                        help="first-below: first shell under the threshold, interpolated (default); "
                             "last-above: last shell above it (toupy)")
    parser.add_argument("--confidence", type=number(0, 1, exclusive=True),
                        help="also give the resolution's interval at this level, e.g. 0.95 (from the shells' "
                             "statistics)")
    add_gpu(parser)


def _add_split_options(parser) -> None:
    """``frc``'s one-image FRC: ``--split`` with the camera's ``--gain`` and ``--offset``."""
    parser.add_argument("--split", choices=("binomial", "checkerboard"),
                        help="one image: split it into two independent halves, binomially (photon counts; camera "
                             "values with --gain/--offset) or by checkerboard sub-images (any data)")
    parser.add_argument("--gain", type=number(0, exclusive=True),
                        help="ADU per photon, to convert camera values to photons (--split binomial)")
    parser.add_argument("--offset", type=number(), default=0.0, help="camera offset in ADU (with --gain)")


# ----------------------------------------------------------------------------- jobs
def run_correlation(args) -> dict:
    """``fsc`` / ``frc``: Fourier correlation, or with ``--randomize`` the phase-randomisation corrected FSC
    (``frc --split``: the one-image FRC)."""
    if getattr(args, "split", None):
        return _run_single_image(args)
    device = device_of(args)
    first, second, mask = load_pair(args, args.ndim)
    pixel_size, unit = pixel_size_and_unit(args, first)
    if not args.randomize:
        return report(_correlate(args, first, second, mask, pixel_size, device), args, unit)
    if mask is None:
        raise ValueError("--randomize needs --mask")
    from ..core.randomization import phase_randomized_fsc

    result = phase_randomized_fsc(first.data, second.data, mask, randomize_at=args.randomize_at,
                                  pixel_size=pixel_size, threshold=args.threshold, seed=args.seed, device=device)
    return report(result, args, unit)


def run_ssnr(args) -> dict:
    """``ssnr``: the Fourier correlation read as a spectral SNR."""
    device = device_of(args)
    first, second, mask = load_pair(args, args.ndim)
    pixel_size, unit = pixel_size_and_unit(args, first)
    return report(_correlate(args, first, second, mask, pixel_size, device), args, unit, view="ssnr")


def _correlate(args, first, second, mask, pixel_size, device):
    """:func:`~..core.correlation.fourier_correlation` of a pair command's images with its options on ``device``."""
    from ..core.correlation import fourier_correlation

    return fourier_correlation(
        first.data, second.data, pixel_size=pixel_size, threshold=args.threshold,
        ring_thickness=args.ring_thickness, apodization=args.apodization, taper=args.taper, mask=mask,
        crossing_rule=args.crossing_rule, confidence=args.confidence, device=device,
    )


def _run_single_image(args) -> dict:
    """``frc one.tif --split binomial|checkerboard``: :func:`~..core.single_image.single_image_frc`."""
    from ..core.single_image import single_image_frc

    if args.mask is not None or args.randomize:
        raise ValueError(f"--split {args.split} takes no --mask or --randomize")
    image = load(args.half1, "image", 2, unsigned=args.unsigned)
    pixel_size, unit = pixel_size_and_unit(args, image)
    result = single_image_frc(image.data, method=args.split, gain=args.gain, offset=args.offset,
                              pixel_size=pixel_size, threshold=args.threshold, apodization=args.apodization,
                              taper=args.taper, crossing_rule=args.crossing_rule, confidence=args.confidence,
                              seed=args.seed, device=device_of(args))
    return report(result, args, unit)
