"""The local FSC of lazy half-maps too large for memory: read, computed and written in slabs.

:func:`~.local.local_fsc` comes here when its inputs are dask or zarr arrays
that together would not fit in the memory available. The boxes are grouped by
their first-axis start into slabs of the inputs (a box never straddles two
slabs), each slab is read once and its boxes go through the same kernels as
in memory, so the box values are those of the in-memory computation. The map
is then made slab by slab, by the same interpolation, into ``out`` (a zarr
array or a memory-mapped file) or a new array, and its statistics are
gathered in two passes (percentiles from a histogram of 65,550 bins: within
1/65,550 of the map's range). There is no global FSC (it needs the whole
inputs at once), so ``box`` must be given.
"""

from __future__ import annotations

import numpy as np

from .frequency import shell_geometry
from .local import (
    HISTOGRAM_BINS,
    PERCENTILES,
    WINDOWS,
    LocalResolutionResult,
    _box_sums,
    _merge,
    _warnings,
    box_results,
    centres_inside,
    grid_centres,
    overall_status,
    spread_out,
    statistics_dict,
)
from .spectral import compute_path
from .thresholds import parse_threshold
from .validation import check_int, check_progress, shown, working_dtype

__all__ = ["streamed_local_fsc"]

#: Bytes of one half's slab (float32) read at a time; its boxes then go through the FFT in chunks of twice that.
SLAB_BYTES = 64 * 2**20
#: Fine histogram bins for the percentiles of a streamed map (a multiple of the shown histogram's bins).
FINE_BINS = HISTOGRAM_BINS * 1311


def streamed_local_fsc(half1, half2, *, box, step, threshold, mask, pixel_size, window, out, progress):
    """:func:`~.local.local_fsc` of lazy inputs, in slabs (same parameters; ``out``: where the map goes).

    Returns
    -------
    LocalResolutionResult
        ``map`` is ``out`` (or a new float32 array), ``global_result`` None,
        ``parameters["streamed"]`` True.
    """
    shape = _checked_shape(half1, half2, mask, window, progress, out)
    if box is None:
        raise ValueError("box must be given for inputs larger than memory: the default box comes from the global "
                         "FSC, which needs the whole inputs at once")
    box = check_int(box, "box", minimum=8)
    if box > min(shape):
        raise ValueError(f"box ({box} pixels) is larger than the image's smallest axis ({min(shape)})")
    step = max(1, box // 4) if step is None else check_int(step, "step", minimum=1)
    criterion, _ = parse_threshold(threshold)
    geometry = shell_geometry((box,) * len(shape), pixel_size)
    centres = _centres(shape, box, step, mask)
    sums = _slab_sums(half1, half2, centres, box, window, geometry, progress)
    curve, values, statuses = box_results(sums, geometry, threshold, box)
    local_map = np.empty(shape, np.float32) if out is None else out
    covered = _write_map(local_map, values, centres, shape, geometry.reference_pixel, mask)
    notes = _warnings(box, None, len(values), covered)
    statistics = _streamed_statistics(local_map)
    if progress is not None:
        progress(1.0)
    return LocalResolutionResult(
        map=local_map, centres=centres, values=values, statuses=statuses, box=box, step=step,
        frequency=geometry.frequency, threshold=curve, criterion=criterion, sums=sums,
        statistics=statistics, global_result=None, status=overall_status(statuses),
        pixel_size=geometry.pixel_size, warnings=notes,
        parameters={"threshold": threshold, "box": box, "step": step, "window": window, "shape": shape,
                    "masked": mask is not None, "n_boxes": len(values), "path": compute_path(np),
                    "streamed": True},
    )


def _checked_shape(half1, half2, mask, window, progress, out) -> tuple:
    """The inputs' shape; ValueError naming what is wrong (values are checked slab by slab)."""
    shape = tuple(int(n) for n in half1.shape)
    if len(shape) not in (2, 3) or min(shape) < 8:
        raise ValueError(f"half1 must be 2-D or 3-D with every axis >= 8, got shape {shape}")
    if tuple(half2.shape) != shape:
        raise ValueError(f"half1 and half2 must have the same shape, got {shape} and {tuple(half2.shape)}")
    if mask is not None and tuple(mask.shape) != shape:
        raise ValueError(f"mask must have the data's shape {shape}, got {tuple(mask.shape)}")
    if out is not None and tuple(out.shape) != shape:
        raise ValueError(f"out must have the data's shape {shape}, got {tuple(out.shape)}")
    if not isinstance(window, str) or window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {shown(window)}")
    check_progress(progress)
    return shape


def _read(array, rows: slice, name: str) -> np.ndarray:
    """Rows ``rows`` (first axis) of ``array`` in memory, float32/64; ValueError naming it for NaN or Inf."""
    slab = np.asarray(array[rows])
    slab = slab.astype(working_dtype(slab.dtype), copy=False)
    if not np.isfinite(slab).all():
        raise ValueError(f"{name} contains NaN or Inf values (rows {rows.start}-{rows.stop - 1})")
    return slab


def _centres(shape, box: int, step: int, mask) -> np.ndarray:
    """Box centres on the grid of :func:`~.local.local_fsc`; with a mask, those inside (read at the centres)."""
    centres = grid_centres(shape, box, step)
    if mask is None:
        return centres
    return centres_inside(centres, np.concatenate([_values_at(mask, rows, centres[chosen]) for rows, chosen in
                                                   _row_groups(centres[:, 0], 1, shape)]) > 0.5)


def _values_at(array, rows: slice, points) -> np.ndarray:
    """Values of ``array`` at ``points`` (pixel indices), reading only the rows ``rows`` that hold them."""
    slab = np.asarray(array[rows])
    return slab[tuple((points - [rows.start, *[0] * (points.shape[1] - 1)]).T)]


def _row_groups(first: np.ndarray, height: int, shape, budget=None):
    """Consecutive groups of the sorted first-axis positions ``first``: (rows to read, indices), each slab of
    at most ``budget`` bytes of float32 planes (one position each without a budget)."""
    plane = int(np.prod(shape[1:])) * 4
    positions = np.unique(first)
    per_group = 1 if budget is None else max(1, budget // (plane * max(1, height)))
    for start in range(0, positions.size, per_group):
        chosen = positions[start:start + per_group]
        rows = slice(int(chosen[0]), int(chosen[-1]) + height)
        yield rows, np.flatnonzero((first >= chosen[0]) & (first <= chosen[-1]))


def _slab_sums(half1, half2, centres, box: int, window: str, geometry, progress) -> np.ndarray:
    """Shell sums of every box, the inputs read a slab (boxes of a few first-axis starts) at a time."""
    starts = centres[:, 0] - box // 2
    sums = np.empty((len(centres), 4, geometry.n_shells), np.float32)
    done = 0
    for rows, chosen in _row_groups(starts, box, tuple(half1.shape), SLAB_BYTES):
        slabs = [_read(half, rows, name) for half, name in ((half1, "half1"), (half2, "half2"))]
        shifted = centres[chosen] - [rows.start, *[0] * (centres.shape[1] - 1)]
        sums[chosen] = _box_sums(*slabs, shifted, box, window, geometry, np, None)
        done += len(chosen)
        if progress is not None:
            progress(0.9 * done / len(centres))
    return sums


def _write_map(local_map, values, centres, shape, reference: float, mask):
    """Fill ``local_map`` slab by slab by the in-memory interpolation; the mask's covered fraction (None without)."""
    covered = 0
    rows_per_slab = max(1, SLAB_BYTES // (int(np.prod(shape[1:])) * 4))
    for first in range(0, shape[0], rows_per_slab):
        rows = slice(first, min(shape[0], first + rows_per_slab))
        inside = None if mask is None else np.asarray(mask[rows]) > 0.5
        covered += 0 if inside is None else int(inside.sum())
        local_map[rows] = _merge(values, centres, shape, reference, inside, np.float32, rows=rows)
    return None if mask is None else covered / float(np.prod(shape))


def _streamed_statistics(local_map) -> dict:
    """:func:`~.local.map_statistics` in two passes over slabs of the map; percentiles from a fine histogram."""
    count, total, low, high = 0, 0.0, np.inf, -np.inf
    for finite in _finite_slabs(local_map):
        count += finite.size
        total += float(finite.sum(dtype=np.float64))
        low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if count == 0:
        return statistics_dict(None, None, [], [])
    if not spread_out(low, high):
        return statistics_dict([low] * len(PERCENTILES), total / count, [count], [low, high])
    fine = np.zeros(FINE_BINS, np.int64)
    for finite in _finite_slabs(local_map):
        fine += np.histogram(finite, bins=FINE_BINS, range=(low, high))[0]
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
