"""Local resolution from two half-maps: the FSC of small windowed boxes, batched, merged into a map.

In memory: the boxes (:mod:`.boxes`) are gathered from the whole halves and
the map is interpolated between their centres (:mod:`.maps`); lazy inputs
that are to go to ``out`` or would not fit in memory (:func:`~.streamed.streams`) go
block by block instead (:mod:`.streamed`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import check_allocation, is_lazy, resolve_device, to_host
from ..correlation import fourier_correlation
from ..frequency import shell_geometry
from ..results import issue_warnings
from ..spectral import compute_path
from ..thresholds import parse_threshold
from ..validation import check_image, check_mask, check_progress, check_same_shape, working_dtype
from .boxes import box_results, box_sums, centres_inside, check_box, check_step, check_window, default_box, grid_centres
from .maps import LocalResolutionResult, check_out, map_statistics, map_warnings, merged_map, overall_status
from .streamed import streamed_local_fsc, streams

__all__ = ["local_fsc"]

#: Words (of the inputs' working precision) per voxel that making the map in memory holds: the interpolated
#: frequencies, their weights, the fallback of isolated voxels and the interpolation's intermediate.
MAP_WORDS = 4


def local_fsc(half1, half2, *, box=None, step=None, threshold="0.143", mask=None, pixel_size=1.0,
              window: str = "sine", device=None, progress=None, out=None) -> LocalResolutionResult:
    """Local resolution map of two half-maps (3-D) or images (2-D) by block-wise FSC.

    Parameters
    ----------
    half1, half2 : array, shape (Y, X) or (Z, Y, X)
        Independent halves (numpy or cupy; float32 kept). Not modified.
    box : int, optional
        Box side in pixels (>= 8, at most the smallest axis). Default:
        :func:`~.boxes.default_box` of the global resolution.
    step : int, optional
        Spacing of the box centres in pixels (default ``box // 4``). A step that leaves fewer than
        :data:`~.boxes.MIN_BOXES` (20) boxes, where a smaller step would not, is refused: the map's
        statistics (its 5-95 % range) need them; a step longer than the box gets a warning.
    threshold : str or float
        Criterion (as :func:`~napari_resolution.core.correlation.fourier_correlation`), applied
        with the shell counts of a box.
    mask : array, optional
        Weights in [0, 1], the inputs' shape: only boxes whose centre is
        inside (> 0.5) are computed; the map is NaN outside.
    pixel_size : float or sequence of float
        Pixel size, one value or one per axis.
    window : {"sine", "hann", "none"}
        Window applied to each box: ``sin(pi (i + 1/2) / box)`` (default),
        Hann, or none.
    device : {None, "cpu", "gpu"}
        Where to compute (see :func:`~napari_resolution.core.backend.resolve_device`).
    progress : callable, optional
        Called with the fraction done; raising in it cancels.
    out : array, optional
        Where the map is written (a zarr array, a memory-mapped file), the
        inputs' shape. Lazy inputs (dask, zarr) are computed block by block
        through dask, on the current scheduler (a ``distributed`` cluster
        when a client is active), when ``out`` is given or when they would
        not fit in memory (:func:`~.streamed.streams`; :func:`~.streamed.streamed_local_fsc`:
        ``box`` must be given, no global FSC); otherwise they are read once.

    Returns
    -------
    LocalResolutionResult

    Raises
    ------
    ValueError
        Shapes that differ, not 2-D/3-D, NaN/Inf, a box larger than the
        image or below 8, a step below 1 or leaving too few boxes, boxes that
        would not fit in the memory available, an unknown threshold or window, a
        mask of another shape.
    """
    if streams((half1, half2, mask), out):
        return _warned(streamed_local_fsc(half1, half2, box=box, step=step, threshold=threshold, mask=mask,
                                          pixel_size=pixel_size, window=window, device=device, out=out,
                                          progress=progress))
    half1, half2, mask = (np.asarray(a) if is_lazy(a) else a for a in (half1, half2, mask))
    shape = _check_inputs(half1, half2, mask, window, progress)
    check_out(out, shape)
    check_allocation(MAP_WORDS * math.prod(shape) * working_dtype(half1.dtype).itemsize,
                     f"half1 and half2 ({shape} voxels: the map is made in memory)",
                     "crop or bin them, or give them as dask or zarr arrays with out= (computed block by block)")
    criterion, _ = parse_threshold(threshold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the global FSC is a reference: its doubts are not ours
        global_result = fourier_correlation(half1, half2, pixel_size=pixel_size, threshold=threshold, device=device)
    reference = global_result.reference_pixel_size
    box = _check_box(box, global_result, shape)
    step = check_step(step, box, shape)
    xp = resolve_device(device, half1, half2, mask)
    path = compute_path(xp)
    inside = None if mask is None else to_host(mask) > 0.5
    centres = _box_centres(shape, box, step, inside)
    geometry = shell_geometry((box,) * len(shape), pixel_size)
    sums = box_sums(half1, half2, centres, box, window, geometry, xp, path, progress)
    curve, values, statuses = box_results(sums, geometry, threshold, box)
    local_map = merged_map(values, centres, shape, reference, inside, working_dtype(half1.dtype))
    notes = map_warnings(box, step, global_result, len(values), None if inside is None else float(inside.mean()))
    if out is not None:
        out[...] = local_map
    return _warned(LocalResolutionResult(
        map=local_map, centres=centres, values=values, statuses=statuses, box=box, step=step,
        frequency=geometry.frequency, threshold=curve, criterion=criterion, sums=sums,
        statistics=map_statistics(local_map), global_result=global_result, status=overall_status(statuses),
        pixel_size=geometry.pixel_size,
        warnings=notes,
        parameters={"threshold": threshold, "box": box, "step": step, "window": window, "shape": shape,
                    "masked": mask is not None, "n_boxes": len(values), "path": path},
    ))


def _warned(result):
    """``result`` after issuing its warnings (:func:`~..results.issue_warnings`, as every estimator does)."""
    issue_warnings(result.warnings)
    return result


def _check_inputs(half1, half2, mask, window, progress) -> tuple:
    """The inputs' shape; ValueError naming what is wrong."""
    check_image(half1, "half1")
    check_image(half2, "half2")
    check_same_shape(half1, half2, ("half1", "half2"))
    if mask is not None:
        check_mask(mask, half1.shape)
    check_window(window)
    check_progress(progress)
    return tuple(int(n) for n in half1.shape)


def _check_box(box, global_result, shape) -> int:
    """``box`` checked, or the default from the global resolution."""
    if box is None:
        pixels = None if global_result.resolution is None else global_result.resolution / \
            global_result.reference_pixel_size
        return default_box(pixels, shape)
    return check_box(box, shape)


def _box_centres(shape, box: int, step: int, inside) -> np.ndarray:
    """Centres (pixel indices) of the boxes on the grid, those inside the mask when there is one."""
    centres = grid_centres(shape, box, step)
    return centres if inside is None else centres_inside(centres, inside[tuple(centres.T)])
