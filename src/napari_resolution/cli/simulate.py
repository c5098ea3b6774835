"""``simulate fsc|frc``: a half-map pair with a known answer, and its expected curve; ``simulate particles``:
cryo-EM half-maps reconstructed from noisy, CTF-modulated projections, with their expected FSC."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import io
from .jobs import load, one_or_all, refuse_overwrites
from .options import Parser, add_gpu, add_threshold, integers, number, numbers, pixel_sizes, whole_number

__all__ = ["register", "run_particles", "run_simulate"]

#: The files ``simulate particles`` writes into --out.
PARTICLE_FILES = ("half1.mrc", "half2.mrc", "truth.mrc", "expected.json", "particles.npz")

#: (kind, default shape, axes of --shape and --pixel-size) of each simulation.
_KINDS = (("fsc", "128,128,128", "Z,Y,X"), ("frc", "512,512", "Y,X"))


def register(commands) -> None:
    """Add ``simulate`` and its kinds to ``commands`` (argparse subparsers)."""
    simulate = commands.add_parser("simulate", help="write simulated data with a known answer")
    kinds = simulate.add_subparsers(dest="kind", required=True, parser_class=Parser, help="what to simulate")
    for kind, default_shape, axes in _KINDS:
        sub = kinds.add_parser(kind, help=f"a half-map pair for {kind} with its expected curve")
        shape = integers(default_shape)
        sub.add_argument("--shape", type=integers, default=shape,
                         help=f"{axes} size in pixels (default {default_shape})")
        sub.add_argument("--sigma", type=float, default=2.0, help="signal Gaussian width (pixel_size units)")
        sub.add_argument("--noise", type=float, default=0.5, help="noise std (signal std is 1)")
        sub.add_argument("--pixel-size", type=pixel_sizes, default=(1.0,),
                         help=f"P or {axes}, written to the MRC headers (default 1)")
        add_threshold(sub, note="; the criterion of the expected resolution")
        sub.add_argument("--seed", type=int, default=0, help="seed of the noise")
        sub.add_argument("--out", required=True, help="output folder")
        sub.set_defaults(handler=run_simulate, ndim=len(shape))
    _register_particles(kinds)


def _register_particles(kinds) -> None:
    sub = kinds.add_parser("particles", help="cryo-EM half-maps from noisy, CTF-modulated projections of a volume")
    sub.add_argument("--volume", help="the map to project (MRC, TIFF, NPY; a cube; default: a model of Gaussian "
                                      "atoms of --box voxels)")
    sub.add_argument("--box", type=whole_number(16, 1024), default=32,
                     help="side of the model volume, voxels (default 32; ignored with --volume)")
    sub.add_argument("--particles", type=whole_number(2), default=1000, help="particles in all (default 1000)")
    sub.add_argument("--pixel-size", type=number(0, exclusive=True), default=None,
                     help="Å per voxel (default: the --volume header, else 3)")
    sub.add_argument("--snr", type=number(0, exclusive=True), default=0.05,
                     help="signal-to-noise ratio of the particle images (default 0.05)")
    sub.add_argument("--defocus", type=numbers((1, 2), "LOW,HIGH"), default=(10000.0, 20000.0),
                     help="defocus in Å, one value or a uniform range LOW,HIGH (default 10000,20000)")
    sub.add_argument("--bfactor", type=number(), default=200.0, help="B-factor of the CTF envelope, Å² (default 200)")
    sub.add_argument("--astigmatism", type=number(), default=0.0, help="defocus_u - defocus_v, Å (default 0)")
    sub.add_argument("--voltage", type=number(0, exclusive=True), default=300.0, help="kV (default 300)")
    sub.add_argument("--cs", type=number(0), default=2.7, help="spherical aberration, mm (default 2.7)")
    sub.add_argument("--amplitude-contrast", type=number(0, 1), default=0.1, help="fraction (default 0.1)")
    sub.add_argument("--orientation", choices=("uniform", "preferred"), default="uniform",
                     help="uniform over all views, or a preferred orientation: --preferred-fraction of the views "
                          "within --preferred-spread degrees of z (default uniform)")
    sub.add_argument("--preferred-spread", type=number(0, 180), default=15.0, help="degrees (default 15)")
    sub.add_argument("--preferred-fraction", type=number(0, 1), default=0.9, help="(default 0.9)")
    sub.add_argument("--interpolation", choices=("cubic", "linear"), default="cubic",
                     help="of the projections: cubic B-spline, or trilinear (faster)")
    sub.add_argument("--seed", type=whole_number(0), default=0, help="seed of the orientations, defoci and noise")
    add_gpu(sub)
    sub.add_argument("--out", required=True, help=f"output folder ({', '.join(PARTICLE_FILES)})")
    sub.set_defaults(handler=run_particles)


def run_simulate(args) -> int:
    """``simulate``: write the half-maps and the expected curve."""
    from ..core.simulate import phantom_pair

    if len(args.shape) != args.ndim:
        raise ValueError(f"--shape must have {args.ndim} values for simulate {args.kind}, got {args.shape}")
    pixel_size = one_or_all(args.pixel_size)
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


def run_particles(args) -> int:
    """``simulate particles``: the half-maps, the volume they come from, the expected FSC and the particles."""
    from ..core.particles import model_volume
    from ..core.simulate import particle_half_maps
    from .jobs import device_of

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: name a folder")
    refuse_overwrites([("--out", str(out / name)) for name in PARTICLE_FILES],
                      [("--volume", args.volume)] if args.volume else [])
    pixel_size = args.pixel_size
    if args.volume:
        image = load(args.volume, "--volume", 3)
        volume = image.data
        if pixel_size is None and image.pixel_size and image.unit == "Å" and len(set(image.pixel_size)) == 1:
            pixel_size = image.pixel_size[0]
    else:
        volume = model_volume(args.box, seed=args.seed)
    pixel_size = 3.0 if pixel_size is None else pixel_size
    half1, half2, info = particle_half_maps(
        volume, args.particles, pixel_size=pixel_size, snr=args.snr, defocus_range=(args.defocus[0], args.defocus[-1]),
        orientation=args.orientation, bfactor=args.bfactor, seed=args.seed,
        voltage=args.voltage, cs=args.cs, amplitude_contrast=args.amplitude_contrast, astigmatism=args.astigmatism,
        preferred_spread=args.preferred_spread, preferred_fraction=args.preferred_fraction,
        interpolation=args.interpolation, device=device_of(args))
    out.mkdir(parents=True, exist_ok=True)
    io.write_mrc(out / "half1.mrc", half1, pixel_size)
    io.write_mrc(out / "half2.mrc", half2, pixel_size)
    io.write_mrc(out / "truth.mrc", volume, pixel_size)
    expected = {key: info[key] for key in ("expected_fsc", "expected_resolution", "expected_status", "noise_sigma",
                                           "signal_variance", "parameters")}
    io.write_json(out / "expected.json", {**expected, "criterion": "0.143", "unit": "Å"})
    io.write_npz(out / "particles.npz", {key: info[key] for key in ("rotations", "half", "defocus_u", "defocus_v",
                                                                     "astigmatism_angle")})
    resolution = info["expected_resolution"]
    print(f"wrote {', '.join(str(out / name) for name in PARTICLE_FILES)}; expected resolution "
          f"{'≤ ' if info['expected_status'] == 'bound' else ''}{resolution:.4g} Å (0.143, full period)"
          if resolution is not None else f"wrote {out}; the expected FSC does not cross 0.143")
    return 0
