"""The local FSC of lazy half-maps, block by block on dask: for maps larger than memory, and for clusters.

:func:`~.fsc.local_fsc` comes here when its inputs are dask or zarr arrays
and ``out`` is given, or when they would not fit in the memory available
(:func:`streams` decides).
The inputs are cut into blocks whose edges are multiples of the step, each
grown by half a box into its neighbours (``dask.array.map_overlap``, nothing
added at the array's edges); a block computes the boxes centred in it through
the same kernels as in memory, so the box values are those of the in-memory
computation. The blocks run on the current dask scheduler: the workers of a
``distributed`` cluster when a client is active, else local threads. The map
is then made slab by slab, by the same interpolation, into ``out`` (a zarr
array or a memory-mapped file) or a new array, and its statistics are
gathered in two passes (percentiles interpolated in a histogram of 65,550
bins: within a bin, 1/65,550 of the map's range, where the map's values are
dense; across a gap between values they can differ from numpy's). There is
no global FSC (it needs the whole inputs at once), so ``box`` must be given.
"""

from __future__ import annotations

import numpy as np

from ..backend import fits_in_memory, is_lazy, resolve_device
from ..frequency import shell_geometry
from ..progress import progress_of
from ..scheduling import compute_blocks
from ..spectral import compute_path
from ..thresholds import parse_threshold
from ..validation import check_mask, check_same_shape, working_dtype
from .boxes import (
    axis_centres,
    box_results,
    box_sums,
    centres_inside,
    check_box,
    check_step,
    check_window,
    grid_centres,
)
from .maps import (
    HISTOGRAM_BINS,
    PERCENTILES,
    LocalResolutionResult,
    check_out,
    map_warnings,
    merged_map,
    overall_status,
    spread_out,
    statistics_dict,
)

__all__ = ["streamed_local_fsc", "streams"]

#: Bytes of one half's block (float32, grown by a box) that one dask task computes the boxes of.
BLOCK_BYTES = 16 * 2**20
#: Bytes of the map (float32) written, or read for its statistics, at a time.
SLAB_BYTES = 64 * 2**20
#: Fine histogram bins for the percentiles of a streamed map (a multiple of the shown histogram's bins).
FINE_BINS = HISTOGRAM_BINS * 1311


def streams(arrays, out=None) -> bool:
    """True when :func:`~.fsc.local_fsc` computes block by block: some array is lazy, and ``out`` is given or
    the lazy arrays would not fit in memory together.

    Parameters
    ----------
    arrays : sequence of array or None
        The inputs (half-maps and mask; None for one not given).
    out : array, optional
        Where the map is to be written (a zarr array, a memory-mapped file).

    Returns
    -------
    bool
        False when every array is in memory (numpy, cupy) or the lazy ones
        (dask, zarr) are read into memory once.
    """
    lazy = [a for a in arrays if is_lazy(a)]
    return bool(lazy) and (out is not None or not fits_in_memory(lazy))


def streamed_local_fsc(half1, half2, *, box, step, threshold, mask, pixel_size, window, device, out, progress):
    """:func:`~.fsc.local_fsc` of lazy inputs, block by block (same parameters; ``out``: where the map goes).

    The blocks compute on the CPU: ``device="gpu"`` is refused.

    Returns
    -------
    LocalResolutionResult
        ``map`` is ``out`` (or a new float32 array), ``global_result`` None,
        ``parameters["streamed"]`` True.
    """
    shape = _checked_shape(half1, half2, mask, window, progress, out)
    if resolve_device(device) is not np:
        raise ValueError("device='gpu' computes in memory: lazy inputs computed block by block (out given, or "
                         "inputs larger than memory) compute on the CPU")
    if box is None:
        raise ValueError("box must be given when lazy inputs are computed block by block (out given, or inputs "
                         "larger than memory): the default box comes from the global FSC, which needs the whole "
                         "inputs at once")
    box = check_box(box, shape)
    step = check_step(step, box, shape)
    criterion, _ = parse_threshold(threshold)
    geometry = shell_geometry((box,) * len(shape), pixel_size)
    grid = grid_centres(shape, box, step)
    inside = np.ones(len(grid), bool) if mask is None else _mask_at(mask, grid, shape) > 0.5
    centres = centres_inside(grid, inside)
    path = compute_path(np)
    report = progress_of(progress)
    sums = _blockwise_sums(half1, half2, inside, box, step, window, geometry, path, report.part(0.0, 0.9))
    curve, values, statuses = box_results(sums, geometry, threshold, box)
    local_map = np.empty(shape, np.float32) if out is None else out
    covered = _write_map(local_map, values, centres, shape, geometry.reference_pixel, mask, report.part(0.9, 0.97))
    notes = map_warnings(box, step, None, len(values), covered)
    statistics = _streamed_statistics(local_map, report.part(0.97, 1.0))
    return LocalResolutionResult(
        map=local_map, centres=centres, values=values, statuses=statuses, box=box, step=step,
        frequency=geometry.frequency, threshold=curve, criterion=criterion, sums=sums,
        statistics=statistics, global_result=None, status=overall_status(statuses),
        pixel_size=geometry.pixel_size, warnings=notes,
        parameters={"threshold": threshold, "box": box, "step": step, "window": window, "shape": shape,
                    "masked": mask is not None, "n_boxes": len(values), "path": path,
                    "streamed": True},
    )


def _checked_shape(half1, half2, mask, window, progress, out) -> tuple:
    """The inputs' shape; ValueError naming what is wrong (values are checked block by block)."""
    for half, name in ((half1, "half1"), (half2, "half2")):
        shape = tuple(getattr(half, "shape", ()))
        if len(shape) not in (2, 3) or min(shape) < 8 or not hasattr(half, "dtype"):
            raise ValueError(f"{name} must be a 2-D or 3-D array with every axis >= 8, got {type(half).__name__} of "
                             f"shape {shape}")
        try:
            working_dtype(half.dtype)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
    shape = check_same_shape(half1, half2, ("half1", "half2"))
    if mask is not None:
        check_mask(mask, shape, values=False)  # its values are checked where they are read
    check_out(out, shape)
    check_window(window)
    return tuple(int(n) for n in shape)


def _mask_at(mask, centres, shape) -> np.ndarray:
    """Values of ``mask`` at ``centres`` (pixel indices, first axis sorted), a lazy mask read a plane at a time.

    An in-memory mask is checked whole (:func:`~.validation.check_mask`); a lazy one where it is read: finite,
    in [0, 1] (ValueError naming it).
    """
    if not is_lazy(mask):
        check_mask(mask, shape)
    values = np.empty(len(centres), np.float64)
    for plane in np.unique(centres[:, 0]):
        chosen = centres[:, 0] == plane
        values[chosen] = np.asarray(mask[int(plane)])[tuple(centres[chosen, 1:].T)]
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError(f"mask values must be finite and lie in [0, 1], got [{values.min():g}, {values.max():g}] "
                         "at the box centres")
    return values


def _blockwise_sums(half1, half2, inside, box: int, step: int, window: str, geometry, path: str,
                    progress) -> np.ndarray:
    """Shell sums (n_boxes, 4, n_shells) of every box, computed block by block by ``dask.array.map_overlap``.

    The inputs are cut into blocks whose edges are multiples of ``step`` (:func:`_block_edges`), each
    grown by half a box into its neighbours (none at the array's edges): a block computes the boxes
    centred in it, which lie wholly inside the grown block, through the in-memory kernels.
    ``inside`` (bool, one per grid centre, first axis slowest) says which grid boxes to compute; ``path``
    is the compute path of their kernels (:func:`~napari_resolution.core.spectral.compute_path`).
    """
    import dask.array as da

    shape = tuple(int(n) for n in half1.shape)
    positions = [axis_centres(n, box, step) for n in shape]
    edges = [_block_edges(n, box, step, len(shape)) for n in shape]
    counts = [tuple(np.histogram(p, bins=e)[0]) for p, e in zip(positions, edges)]  # grid centres per block
    blocks = tuple(tuple(np.diff(e)) for e in edges)
    halves = [da.asarray(h).rechunk(blocks) for h in (half1, half2)]
    keep = da.from_array(inside.reshape([len(p) for p in positions]), chunks=counts)
    ndim = len(shape)
    grid = da.map_overlap(
        _block_sums, *halves, keep, depth=[box // 2, box // 2, 0], boundary="none", trim=False,
        align_arrays=False, chunks=(*counts, (4,), (geometry.n_shells,)), new_axis=[ndim, ndim + 1],
        dtype=np.float32, meta=np.empty((0,) * (ndim + 2), np.float32),
        edges=edges, positions=positions, box=box, window=window, geometry=geometry, path=path)
    sums = compute_blocks(grid, progress).reshape(-1, 4, geometry.n_shells)
    return sums[inside]


def _block_edges(n: int, box: int, step: int, ndim: int) -> np.ndarray:
    """Block edges along an axis of ``n`` pixels: every multiple of ``step`` near :data:`BLOCK_BYTES`
    (one half's float32 block, grown by a box), and no block shorter than a box (a block may hold no grid
    centre when the step is longer than the block: it then computes nothing)."""
    side = int((BLOCK_BYTES / 4) ** (1 / ndim)) - box
    side = max(box, side - side % step)
    edges = list(range(0, n, side)) + [n]
    if len(edges) > 2 and edges[-1] - edges[-2] < box:
        del edges[-2]
    return np.array(edges)


def _block_sums(block1, block2, keep, block_id=None, *, edges, positions, box, window, geometry,
                path) -> np.ndarray:
    """One block's grid of shell sums, shape (*keep.shape, 4, n_shells), NaN for the boxes not kept.

    ``block1``, ``block2``: the block of each half grown by half a box (less at the array's edges);
    ``keep``: which of the grid centres in the block to compute.
    """
    index = block_id[:len(edges)]
    core = [(int(e[i]), int(e[i + 1])) for e, i in zip(edges, index)]
    origin = np.array([max(0, start - box // 2) for start, _ in core])
    for block, name in ((block1, "half1"), (block2, "half2")):
        if not np.isfinite(block).all():
            where = ", ".join(f"{start}-{start + size - 1}" for start, size in zip(origin, block.shape))
            raise ValueError(f"{name} contains NaN or Inf values (in the block of pixels {where})")
    inside = [p[(p >= start) & (p < stop)] for p, (start, stop) in zip(positions, core)]
    centres = np.stack([g.ravel() for g in np.meshgrid(*inside, indexing="ij")], axis=1)[keep.ravel()]
    sums = np.full((*keep.shape, 4, geometry.n_shells), np.nan, np.float32)
    if len(centres):
        dtype = working_dtype(np.result_type(block1.dtype, block2.dtype))
        halves = [np.asarray(b, dtype) for b in (block1, block2)]
        sums[keep] = box_sums(*halves, centres - origin, box, window, geometry, np, path, None)
    return sums


def _write_map(local_map, values, centres, shape, reference: float, mask, progress):
    """Fill ``local_map`` slab by slab by the in-memory interpolation; the mask's covered fraction (None without).

    ``progress`` is called with the fraction of rows written (raising in it stops the writing).
    """
    covered = 0
    rows_per_slab = max(1, SLAB_BYTES // (int(np.prod(shape[1:])) * 4))
    for first in range(0, shape[0], rows_per_slab):
        rows = slice(first, min(shape[0], first + rows_per_slab))
        inside = None if mask is None else np.asarray(mask[rows]) > 0.5
        covered += 0 if inside is None else int(inside.sum())
        local_map[rows] = merged_map(values, centres, shape, reference, inside, np.float32, rows=rows)
        progress(rows.stop / shape[0])
    return None if mask is None else covered / float(np.prod(shape))


def _streamed_statistics(local_map, progress) -> dict:
    """:func:`~.maps.map_statistics` in two passes over slabs of the map; percentiles from a fine histogram.

    ``progress`` is called with 0.5 after the first pass and 1 at the end.
    """
    statistics = _two_pass_statistics(local_map, progress)
    progress(1.0)
    return statistics


def _two_pass_statistics(local_map, progress) -> dict:
    """The statistics of :func:`_streamed_statistics` (progress called once, between the passes)."""
    count, total, low, high = 0, 0.0, np.inf, -np.inf
    for finite in _finite_slabs(local_map):
        count += finite.size
        total += float(finite.sum(dtype=np.float64))
        low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if count == 0:
        return statistics_dict(None, None, [], [])
    if not spread_out(low, high):
        return statistics_dict([low] * len(PERCENTILES), total / count, [count], [low, high])
    progress(0.5)
    fine = np.zeros(FINE_BINS, np.int64)
    for finite in _finite_slabs(local_map):  # in float64: float32 edges of fine bins over a narrow range coincide
        fine += np.histogram(finite.astype(np.float64), bins=FINE_BINS, range=(low, high))[0]
    cumulative = np.concatenate([[0], np.cumsum(fine)]) / count
    percentiles = np.interp(np.array(PERCENTILES) / 100, cumulative, np.linspace(low, high, FINE_BINS + 1))
    return statistics_dict(percentiles, total / count, fine.reshape(HISTOGRAM_BINS, -1).sum(axis=1),
                           np.linspace(low, high, HISTOGRAM_BINS + 1))


def _finite_slabs(local_map):
    """The finite values of ``local_map``, a slab of :data:`SLAB_BYTES` at a time (only one slab in memory)."""
    rows = max(1, SLAB_BYTES // (int(np.prod(local_map.shape[1:])) * 4))
    for first in range(0, local_map.shape[0], rows):
        slab = np.asarray(local_map[first:first + rows])
        finite = slab[np.isfinite(slab)]
        if finite.size:
            yield finite
