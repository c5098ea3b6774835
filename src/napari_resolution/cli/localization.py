"""``loc-frc``: the Fourier ring correlation of a table of localisations (SMLM), split into two halves."""

from __future__ import annotations

from .jobs import device_of, report, run_subcommand
from .options import add_gpu, add_outputs, add_threshold, number, whole_number

__all__ = ["register", "run_localization_frc"]


def register(commands) -> None:
    """Add ``loc-frc`` to ``commands`` (argparse subparsers)."""
    help_text = "FRC of single-molecule localisations split in two halves (time blocks or random)"
    parser = commands.add_parser("loc-frc", help=help_text, description=help_text)
    parser.add_argument("table", help="localisations: ThunderSTORM .csv, rapidSTORM .txt, Picasso .hdf5, SMAP .mat, "
                                      "locan .asdf, or any CSV with x, y[, frame, precision] columns")
    parser.add_argument("--pixel-size", type=number(0, exclusive=True),
                        help="rendering pixel in the table's unit (default: half the median localisation precision)")
    parser.add_argument("--unit", help="unit of the positions (default: the table's, e.g. nm)")
    parser.add_argument("--split", choices=("blocks", "random"),
                        help="blocks: alternate time blocks (default with frames); random: each localisation to "
                             "either half (default without frames)")
    parser.add_argument("--blocks", type=whole_number(2), default=20, help="time blocks of --split blocks (default 20)")
    parser.add_argument("--seed", type=whole_number(0), default=0, help="seed of the random split (default 0)")
    parser.add_argument("--columns", help="column names x,y[,frame[,precision]] when the table's are not recognised")
    parser.add_argument("--camera-pixel", type=number(0, exclusive=True),
                        help="camera pixel in nm, for tables in camera pixels (Picasso, when no .yaml gives it)")
    parser.add_argument("--precision", type=number(0, exclusive=True),
                        help="localisation precision (per axis, the table's unit) instead of the table's column")
    parser.add_argument("--correct-repeats", action="store_true",
                        help="remove the correlation of repeated localisations of one emitter (Q-correction)")
    parser.add_argument("--apodization", type=whole_number(0),
                        help="edge taper in pixels (default: an eighth of the field; 0: none)")
    add_threshold(parser, default="1/7")
    parser.add_argument("--confidence", type=number(0, 1, exclusive=True),
                        help="also give the resolution's interval at this level, e.g. 0.95")
    add_gpu(parser)
    add_outputs(parser, plot="the curve", table="the curves")
    parser.set_defaults(handler=run_subcommand, job=run_localization_frc)


def run_localization_frc(args) -> dict:
    """``loc-frc``: read the table, split, render, correlate; the result's line names the split and the repeats."""
    from ..core.localization import localization_frc

    columns = None if args.columns is None else tuple(name.strip() for name in args.columns.split(","))
    result = localization_frc(args.table, pixel_size=args.pixel_size, split=args.split, n_blocks=args.blocks,
                              columns=columns, camera_pixel=args.camera_pixel, precision=args.precision,
                              correct_repeats=args.correct_repeats, threshold=args.threshold,
                              apodization=args.apodization, confidence=args.confidence, seed=args.seed,
                              device=device_of(args))
    unit = result.parameters["unit"] if args.unit is None else args.unit
    return report(result, args, unit)
