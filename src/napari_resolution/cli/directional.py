"""``dfsc``: the directional (conical) FSC of two half-maps: the resolution along every direction."""

from __future__ import annotations

from .jobs import MAP_SUFFIXES, device_of, load_pair, pixel_size_and_unit, report, run_subcommand, write_map
from .options import add_gpu, add_half_maps, add_outputs, add_pixel_size, add_threshold, number, whole_number

__all__ = ["register", "run_directional"]


def register(commands) -> None:
    """Add ``dfsc`` to ``commands`` (argparse subparsers)."""
    help_text = "directional (conical) FSC of two 3-D half-maps: resolution per direction, lateral and axial"
    parser = commands.add_parser(
        "dfsc", help=help_text,
        description=f"{help_text[0].upper()}{help_text[1:]}; the sphericity of the resolution surface "
                    "(3DFSC, Tan et al. 2017) and the 3DFSC volume.")
    add_half_maps(parser, "half-map")
    parser.add_argument("--mask", help="real-space mask with values in [0, 1] (replaces the taper)")
    parser.add_argument("--cone-angle", type=number(1, 90), default=20.0,
                        help="half angle of each cone in degrees (default 20, as 3DFSC)")
    parser.add_argument("--directions", type=whole_number(6), default=300,
                        help="directions spread evenly over the half-sphere (default 300)")
    parser.add_argument("--randomize", action="store_true",
                        help="correct each direction's masked FSC by phase randomisation (needs --mask)")
    parser.add_argument("--randomize-at", type=number(0, exclusive=True), default=0.8,
                        help="FSC level in (0, 1) (default 0.8) or a resolution >= 1 to randomise beyond")
    parser.add_argument("--seed", type=whole_number(0), default=0, help="seed of the random phases")
    parser.add_argument("--out", help="write the 3DFSC volume (each Fourier voxel's directional FSC, centred): "
                                      ".mrc .tif .npy")
    add_threshold(parser, default="0.143")
    add_pixel_size(parser, "Z,Y,X")
    add_gpu(parser)
    add_outputs(parser, plot="the lateral, axial and global curves and the histogram of directions",
                table="one row per direction (vector, resolution, status)")
    parser.set_defaults(handler=run_subcommand, job=run_directional, map_suffixes=MAP_SUFFIXES)


def run_directional(args) -> dict:
    """``dfsc``: :func:`~..core.directional.directional_fsc` of two half-maps; ``--out`` gets the 3DFSC volume."""
    from ..core.directional import directional_fsc

    device = device_of(args)
    first, second, mask = load_pair(args, 3)
    if args.randomize and mask is None:
        raise ValueError("--randomize needs --mask")
    pixel_size, unit = pixel_size_and_unit(args, first)
    result = directional_fsc(first.data, second.data, cone_angle=args.cone_angle, directions=args.directions,
                             pixel_size=pixel_size, threshold=args.threshold, mask=mask,
                             randomize_at=args.randomize_at if args.randomize else None, seed=args.seed,
                             device=device)
    if args.out:
        write_map(args.out, result.fsc_volume(), args.half1, result.pixel_size, unit)
    return report(result, args, unit)
