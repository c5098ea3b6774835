"""``local-fsc``: a local resolution map from two half-maps or images, in memory or block by block on dask
(and ``batch local-fsc``)."""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from .. import io
from .jobs import MAP_SUFFIXES, device_of, load_pair, pixel_size_and_unit, read, report, run_subcommand, write_map
from .options import (
    add_cluster_options,
    add_gpu,
    add_half_maps,
    add_outputs,
    add_pixel_size,
    add_threshold,
    whole_number,
)

__all__ = ["add_local_fsc_options", "register", "run_local_fsc"]


def register(commands) -> None:
    """Add ``local-fsc`` to ``commands`` (argparse subparsers)."""
    local = commands.add_parser(
        "local-fsc", help="local resolution map of two half-maps (block-wise FSC)",
        description="Local resolution map of two 3-D half-maps or 2-D images: the FSC of small windowed boxes, "
                    "merged into a map of the inputs' shape (full period, pixel-size units).")
    add_half_maps(local, "half-map or image")
    local.add_argument("--out", required=True,
                       help="the map: .mrc (voxel size and origin of H1; 0 outside the mask), .tif / .npy (NaN), "
                            "or .zarr / .ome.zarr (an OME-Zarr image with its scale; computed block by block, for "
                            "maps larger than memory; needs --box)")
    local.add_argument("--mask", help="mask with values in [0, 1]: boxes centred inside (> 0.5) only")
    add_local_fsc_options(local)
    add_outputs(local, plot="the histogram of the map", table="the histogram of the map")
    add_cluster_options(local, "compute the boxes block by block on a dask LocalCluster of this many worker "
                               "processes (needs --box)", when=", in a block-by-block run")
    local.set_defaults(handler=run_subcommand, job=run_local_fsc, map_suffixes=MAP_SUFFIXES)


def add_local_fsc_options(local) -> None:
    """The options of ``local-fsc`` and ``batch local-fsc``."""
    local.add_argument("--box", type=whole_number(8),
                       help="box side in pixels, at least 8 (default: 5x the global resolution, 16 to 64)")
    local.add_argument("--step", type=whole_number(1), help="spacing of the box centres in pixels (default box / 4)")
    add_threshold(local, default="0.143", note="; half-bit uses each box's own shell counts")
    local.add_argument("--window", default="sine", choices=("sine", "hann", "none"),
                       help="window of each box (default sine: the least leakage, see docs/local_resolution.md)")
    add_pixel_size(local, "Z,Y,X or Y,X")
    add_gpu(local)


# ----------------------------------------------------------------------------- jobs
def run_local_fsc(args) -> dict:
    """``local-fsc``: write the local resolution map and the outputs of :func:`.jobs.report`."""
    if _block_by_block(args):
        return _run_blocks(args)
    from ..core.local import local_fsc

    device = device_of(args)
    first, second, mask = load_pair(args)
    pixel_size, unit = pixel_size_and_unit(args, first)
    result = local_fsc(first.data, second.data, box=args.box, step=args.step, threshold=args.threshold, mask=mask,
                       pixel_size=pixel_size, window=args.window, device=device)
    write_map(args.out, result.map, args.half1, result.pixel_size, unit)
    return report(result, args, unit)


def _block_by_block(args) -> bool:
    """True when ``local-fsc`` computes on dask: a .zarr input or output, ``--workers`` or ``--scheduler``
    (``batch local-fsc`` runs each pair whole: its workers run pairs, not blocks)."""
    paths = (args.half1, args.half2, args.out)
    return any(str(path).lower().endswith(io.ZARR_SUFFIX) for path in paths) or \
        bool(getattr(args, "workers", None) or getattr(args, "scheduler", None))


def _run_blocks(args) -> dict:
    """``local-fsc`` on dask: the inputs read lazily, the boxes computed block by block where ``--workers`` or
    ``--scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) says, else on local threads; the map into ``--out``.

    A ``batch local-fsc`` job (no ``--workers`` among its arguments) computes on its own process's threads.
    """
    from ..core.local import local_fsc
    from .cluster import cluster_client

    if args.gpu:
        raise ValueError("--gpu computes in memory: it cannot be combined with a .zarr map, --workers or --scheduler")
    first, second = read(args.half1, io.lazy_image), read(args.half2, io.lazy_image)
    mask = None if args.mask is None else read(args.mask, io.lazy_image).data
    pixel_size, unit = pixel_size_and_unit(args, first)
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    in_batch = not hasattr(args, "workers")
    address = scheduler or (None if workers or in_batch else os.environ.get("DASK_SCHEDULER_ADDRESS"))
    shown = getattr(args, "progress", False) or (sys.stderr.isatty() and not in_batch)
    with _map_store(args.out, first.data.shape, pixel_size, unit) as out, \
            cluster_client(workers, address) if (workers or address) else contextlib.nullcontext(), \
            _progress_line(shown) as progress:
        result = local_fsc(first.data, second.data, box=args.box, step=args.step, threshold=args.threshold,
                           mask=mask, pixel_size=pixel_size, window=args.window, out=out, progress=progress)
    if not args.out.lower().endswith(io.ZARR_SUFFIX):
        write_map(args.out, result.map, args.half1, result.pixel_size, unit)
    return report(result, args, unit)


@contextlib.contextmanager
def _map_store(path: str, shape, pixel_size, unit: str):
    """Where the streamed map goes: for a .zarr ``path`` (an OME-Zarr image for a .ome.zarr name), a new map beside
    it that replaces ``path`` only once the run has succeeded (:func:`.io.zarr_written_aside`: a failed run leaves
    an existing map as it was); else an array in memory."""
    if not path.lower().endswith(io.ZARR_SUFFIX):
        yield np.empty(shape, np.float32)
        return
    with io.zarr_written_aside(path) as partial:
        yield io.new_zarr_map(partial, shape, pixel_size, unit)


@contextlib.contextmanager
def _progress_line(shown: bool):
    """A progress callback redrawing "NN % done" on stderr (None when not ``shown``); ends the line."""
    if not shown:
        yield None
        return
    drawn = []

    def draw(fraction: float) -> None:
        drawn.append(fraction)
        print(f"\r{100 * fraction:3.0f} % done", end="", file=sys.stderr, flush=True)

    try:
        yield draw
    finally:
        if drawn:
            print(file=sys.stderr)
