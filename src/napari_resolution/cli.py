"""Command line: ``napari-resolution <estimator> ...``.

Bad input prints one line on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import io
from .core.correlation import fourier_correlation
from .core.decorrelation import decorrelation
from .core.masks import make_mask, mask_from_half_maps
from .core.mtf import mtf_edge, mtf_point
from .core.randomization import phase_randomized_fsc
from .core.simulate import phantom_pair

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or comma-separated numbers, got {text!r}") from None
    return values


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _threshold(text: str):
    """A criterion name, or a number for a fixed threshold ("0.143" and "0.5" keep their names)."""
    if text in ("0.143", "0.5"):
        return text
    try:
        return float(text)
    except ValueError:
        return text


def _add_correlation_command(commands, name: str, help_text: str):
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("a", help="first image / half-map (.mrc .map .rec .tif .npy)")
    parser.add_argument("b", help="second image / half-map")
    parser.add_argument("--pixel-size", type=_floats, help="P or Z,Y,X (default: file header, else 1)")
    parser.add_argument("--threshold", type=_threshold, default="half-bit",
                        help="half-bit, one-bit, 0.143, 0.5, 3-sigma or a number (default half-bit)")
    parser.add_argument("--ring-thickness", type=int, default=1, help="shell width in Fourier steps")
    parser.add_argument("--apodization", type=int, default=20, help="edge taper width in pixels (0: none)")
    parser.add_argument("--mask", help="real-space mask with values in [0, 1] (replaces the taper)")
    parser.add_argument("--crossing-rule", default="first-below", choices=("first-below", "last-above"))
    parser.add_argument("--randomize", action="store_true",
                        help="correct the masked FSC by phase randomisation (needs --mask)")
    parser.add_argument("--randomize-at", type=float, default=0.8,
                        help="FSC level in (0, 1) (default 0.8) or a resolution >= 1 to randomise beyond")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random phases")
    parser.add_argument("--json", help="write the result as JSON (- for stdout)")
    parser.add_argument("--csv", help="write the curves as CSV")
    parser.add_argument("--plot", help="write the curve as PNG")
    parser.set_defaults(handler=_run_correlation, ndim=2 if name == "frc" else 3)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="napari-resolution", description="Measure the resolution of images and maps.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_correlation_command(commands, "fsc", "Fourier shell correlation of two 3-D half-maps")
    _add_correlation_command(commands, "frc", "Fourier ring correlation of two 2-D images")

    simulate = commands.add_parser("simulate", help="write simulated data with a known answer")
    kinds = simulate.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    for kind, default_shape in (("fsc", "128,128,128"), ("frc", "512,512")):
        sub = kinds.add_parser(kind, help=f"a half-map pair for {kind} with its expected curve")
        sub.add_argument("--shape", type=_shape, default=_shape(default_shape))
        sub.add_argument("--sigma", type=float, default=2.0, help="signal Gaussian width (pixel_size units)")
        sub.add_argument("--noise", type=float, default=0.5, help="noise std (signal std is 1)")
        sub.add_argument("--pixel-size", type=_floats, default=(1.0,))
        sub.add_argument("--threshold", type=_threshold, default="half-bit")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--out", required=True, help="output folder")
        sub.set_defaults(handler=_run_simulate, ndim=3 if kind == "fsc" else 2)

    mask = commands.add_parser("mask", help="soft solvent mask from a map or two half-maps")
    mask.add_argument("maps", nargs="+", metavar="MAP", help="one map, or two half-maps to average")
    mask.add_argument("--out", required=True, help="output mask (.mrc)")
    mask.add_argument("--threshold", default="auto", help="'auto' (Otsu) or a density value")
    mask.add_argument("--lowpass-sigma", type=float, help="Gaussian low-pass width (pixel_size units)")
    mask.add_argument("--extend", type=float, help="extension of the binary region (pixel_size units)")
    mask.add_argument("--soft-edge", type=float, default=3.0, help="raised-cosine edge width (pixel_size units)")
    mask.add_argument("--no-cleanup", action="store_true", help="keep holes and every connected component")
    mask.add_argument("--pixel-size", type=_floats, help="P or Z,Y,X (default: file header, else 1)")
    mask.set_defaults(handler=_run_mask)

    decorr = commands.add_parser("decorr", help="resolution of one image by decorrelation analysis")
    decorr.add_argument("image", help="2-D image, or a 3-D volume / time stack analysed slice by slice")
    decorr.add_argument("--pixel-size", type=_floats, help="P or per axis (default: file header, else 1)")
    decorr.add_argument("--axis", type=int, default=0, help="3-D input: axis to slice along (default 0)")
    decorr.add_argument("--slices", type=_shape, help="3-D input: comma-separated slice indices (default all)")
    decorr.add_argument("--n-radii", type=int, default=50)
    decorr.add_argument("--n-highpass", type=int, default=10)
    decorr.add_argument("--apodization", type=int, default=20)
    decorr.add_argument("--json", help="write the result as JSON (- for stdout)")
    decorr.add_argument("--plot", help="write the curves (or resolution per slice) as PNG")
    decorr.set_defaults(handler=_run_decorrelation)

    mtf = commands.add_parser("mtf", help="MTF from a slanted edge (--roi) or a bead (--point)")
    mtf.add_argument("image", help="2-D image")
    where = mtf.add_mutually_exclusive_group(required=True)
    where.add_argument("--roi", type=_floats, help="ROI across one edge: ROW0,COL0,ROW1,COL1 (pixels)")
    where.add_argument("--point", type=_floats, help="approximate bead position: ROW,COL (pixels)")
    mtf.add_argument("--box", type=int, default=32, help="bead box size (pixels)")
    mtf.add_argument("--oversample", type=int, default=4, help="ESF bins per pixel")
    mtf.add_argument("--window", default="tukey", choices=("tukey", "hamming", "hann", "none"))
    mtf.add_argument("--pixel-size", type=float, help="pixel size (default: file header, else 1)")
    mtf.add_argument("--json", help="write the result as JSON (- for stdout)")
    mtf.add_argument("--plot", help="write the MTF (and ESF/LSF or PSF) as PNG")
    mtf.set_defaults(handler=_run_mtf)

    demo = commands.add_parser("demo", help="simulate half-maps with a known resolution and measure it")
    demo.add_argument("--shape", type=_shape, default=(128, 128, 128))
    demo.add_argument("--out", default=".", help="folder for fsc.png and fsc.json")
    demo.set_defaults(handler=_run_demo)
    return parser


def _pixel_size(values):
    """One value as a float, several as a tuple, nothing as None."""
    if values is None:
        return None
    return values[0] if len(values) == 1 else values


def _load(path: str, name: str, ndim: int):
    image = io.read_image(path)
    if image.data.ndim != ndim:
        raise ValueError(f"{name} ({path}) is {image.data.ndim}-D; expected {ndim}-D")
    return image


def _run_correlation(args) -> int:
    first = _load(args.a, "a", args.ndim)
    second = _load(args.b, "b", args.ndim)
    mask = None if args.mask is None else io.read_image(args.mask).data
    pixel_size = _pixel_size(args.pixel_size) or first.pixel_size or 1.0
    unit = first.unit if args.pixel_size is None and first.pixel_size else ""
    if args.randomize:
        if mask is None:
            raise ValueError("--randomize needs --mask")
        result = phase_randomized_fsc(first.data, second.data, mask, randomize_at=args.randomize_at,
                                      pixel_size=pixel_size, threshold=args.threshold, seed=args.seed)
        curves = {"unmasked": result.unmasked, "masked": result.masked, "randomized": result.randomized,
                  "corrected": result.corrected}
    else:
        result = fourier_correlation(
            first.data, second.data, pixel_size=pixel_size, threshold=args.threshold,
            ring_thickness=args.ring_thickness, apodization=args.apodization, mask=mask,
            crossing_rule=args.crossing_rule,
        )
        curves = {"correlation": result.correlation, "ssnr": result.ssnr}
    if args.csv:
        columns = {"frequency_cycles_per_pixel": result.frequency, **curves, "n_points": result.n_points}
        columns.update({f"threshold_{name}": curve for name, curve in result.thresholds.items()})
        io.write_csv(args.csv, columns)
    from .plotting import plot_correlation

    return _report(result, args, unit, plot_correlation)


def _run_mask(args) -> int:
    if len(args.maps) > 2:
        raise ValueError(f"mask takes one map or two half-maps, got {len(args.maps)} files")
    images = [io.read_image(path) for path in args.maps]
    pixel_size = _pixel_size(args.pixel_size) or images[0].pixel_size or 1.0
    threshold = args.threshold if args.threshold == "auto" else _number(args.threshold, "--threshold")
    options = {"threshold": threshold, "lowpass_sigma": args.lowpass_sigma, "extend": args.extend,
               "soft_edge": args.soft_edge, "cleanup": not args.no_cleanup, "pixel_size": pixel_size}
    if len(images) == 2:
        mask = mask_from_half_maps(images[0].data, images[1].data, **options)
    else:
        mask = make_mask(images[0].data, **options)
    io.write_mrc(args.out, mask, pixel_size)
    fraction = 100 * float((mask > 0.5).mean())
    print(f"wrote {args.out}: {fraction:.1f} % of the box inside (mask > 0.5)")
    return 0


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be 'auto' or a number, got {text!r}") from None


def _run_decorrelation(args) -> int:
    image = io.read_image(args.image)
    pixel_size = _pixel_size(args.pixel_size) or image.pixel_size or 1.0
    unit = image.unit if args.pixel_size is None and image.pixel_size else ""
    result = decorrelation(image.data, pixel_size=pixel_size, axis=args.axis, slices=args.slices,
                           n_radii=args.n_radii, n_highpass=args.n_highpass, apodization=args.apodization)
    from .plotting import plot_decorrelation

    return _report(result, args, unit, plot_decorrelation)


def _run_mtf(args) -> int:
    image = io.read_image(args.image)
    if image.data.ndim != 2:
        raise ValueError(f"mtf needs a 2-D image, got shape {image.data.shape}")
    pixel_size = args.pixel_size or (image.pixel_size[-1] if image.pixel_size else 1.0)
    unit = image.unit if args.pixel_size is None and image.pixel_size else ""
    if args.roi is not None:
        if len(args.roi) != 4:
            raise ValueError(f"--roi needs four numbers ROW0,COL0,ROW1,COL1, got {args.roi}")
        result = mtf_edge(image.data, roi=args.roi, pixel_size=pixel_size, oversample=args.oversample,
                          window=args.window)
    else:
        if len(args.point) != 2:
            raise ValueError(f"--point needs two numbers ROW,COL, got {args.point}")
        result = mtf_point(image.data, center=args.point, box=args.box, pixel_size=pixel_size)
    from .plotting import plot_mtf

    return _report(result, args, unit, plot_mtf)


def _report(result, args, unit: str, plot) -> int:
    """Write --json and --plot, print the summary line and any warnings (stderr); exit code 0."""
    if args.json:
        io.write_json(args.json, result.to_dict())
    if args.plot:
        plot(result, args.plot, unit=unit)
    if args.json != "-":
        print(result.summary(unit))
        for note in getattr(result, "warnings", ()):
            print(f"warning: {note}", file=sys.stderr)
    return 0


def _run_simulate(args) -> int:
    if len(args.shape) != args.ndim:
        raise ValueError(f"--shape must have {args.ndim} values for simulate {args.kind}, got {args.shape}")
    pixel_size = _pixel_size(args.pixel_size)
    pair = phantom_pair(args.shape, sigma=args.sigma, noise=args.noise, pixel_size=pixel_size,
                        threshold=args.threshold, seed=args.seed, dtype=np.float32)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    io.write_mrc(out / "half1.mrc", pair.half1, pixel_size)
    io.write_mrc(out / "half2.mrc", pair.half2, pixel_size)
    io.write_json(out / "expected.json", pair.truth.to_dict())
    print(f"wrote {out / 'half1.mrc'}, {out / 'half2.mrc'} and {out / 'expected.json'}; "
          f"expected resolution {pair.truth.resolution:.4g} ({pair.truth.criterion}, full period)")
    return 0


def _run_demo(args) -> int:
    from .plotting import plot_correlation

    pixel_size = 1.1  # Å, a typical cryo-EM pixel
    pair = phantom_pair(args.shape, sigma=2.0 * pixel_size, noise=0.5, pixel_size=pixel_size,
                        seed=0, dtype=np.float32)
    result = fourier_correlation(pair.half1, pair.half2, pixel_size=pixel_size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot_correlation(result, out / "fsc.png", unit="Å", expected=pair.truth,
                     title=f"Simulated half-maps {args.shape}: measured vs known")
    io.write_json(out / "fsc.json", {"measured": result.to_dict(), "expected": pair.truth.to_dict()})
    error = 100 * (result.resolution / pair.truth.resolution - 1)
    print(f"measured resolution: {result.summary('Å')}")
    print(f"known resolution:    {pair.truth.resolution:.3g} Å (half-bit, full period) "
          f"-> measured is {error:+.1f} % off")
    print(f"wrote {out / 'fsc.png'} and {out / 'fsc.json'}")
    return 0


def main(argv=None) -> int:
    """Entry point of ``napari-resolution``; returns the exit code."""
    try:
        args = _build_parser().parse_args(argv)
        return args.handler(args)
    except (ValueError, OSError) as err:
        print(f"napari-resolution: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
