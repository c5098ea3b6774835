"""``mask``: a soft solvent mask from one map or two half-maps."""

from __future__ import annotations

from .. import io
from .jobs import check_outputs, pixel_size_and_unit, read
from .options import add_pixel_size

__all__ = ["register", "run_mask"]


def register(commands) -> None:
    """Add ``mask`` to ``commands`` (argparse subparsers)."""
    mask = commands.add_parser("mask", help="soft solvent mask from a map or two half-maps")
    mask.add_argument("maps", nargs="+", metavar="MAP", help="one map, or two half-maps to average")
    mask.add_argument("--out", required=True, help="output mask: .mrc (also .map .rec), .tif or .npy")
    mask.add_argument("--threshold", default="auto", help="'auto' (Otsu) or a density value")
    mask.add_argument("--lowpass-sigma", type=float, help="Gaussian low-pass width (pixel_size units)")
    mask.add_argument("--extend", type=float, help="extension of the binary region (pixel_size units)")
    mask.add_argument("--soft-edge", type=float, default=3.0, help="raised-cosine edge width (pixel_size units)")
    mask.add_argument("--no-cleanup", action="store_true", help="keep holes and every connected component")
    add_pixel_size(mask, "Z,Y,X")
    mask.set_defaults(handler=run_mask)


def run_mask(args) -> int:
    """``mask``: write the soft mask and print the fraction of the box inside it."""
    from ..core.masks import make_mask, mask_from_half_maps

    if len(args.maps) > 2:
        raise ValueError(f"mask takes one map or two half-maps, got {len(args.maps)} files")
    check_outputs(args)
    images = [read(path, unsigned=args.unsigned) for path in args.maps]
    pixel_size, unit = pixel_size_and_unit(args, images[0])
    threshold = args.threshold if args.threshold == "auto" else _number(args.threshold, "--threshold")
    options = {"threshold": threshold, "lowpass_sigma": args.lowpass_sigma, "extend": args.extend,
               "soft_edge": args.soft_edge, "cleanup": not args.no_cleanup, "pixel_size": pixel_size}
    if len(images) == 2:
        mask = mask_from_half_maps(images[0].data, images[1].data, **options)
    else:
        mask = make_mask(images[0].data, **options)
    io.write_image(args.out, mask, pixel_size, unit if unit not in ("", io.PIXEL_UNIT) else "Å")  # Å: MRC's convention
    fraction = 100 * float((mask > 0.5).mean())
    print(f"wrote {args.out}: {fraction:.1f} % of the box inside (mask > 0.5)")
    return 0


def _number(text: str, name: str) -> float:
    """``text`` as a number; the error names the option ``name``."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be 'auto' or a number, got {text!r}") from None
