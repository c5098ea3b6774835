"""``simulate fsc|frc``: a half-map pair with a known answer, and its expected curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import io
from .jobs import one_or_all
from .options import Parser, add_threshold, integers, pixel_sizes

__all__ = ["register", "run_simulate"]

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
